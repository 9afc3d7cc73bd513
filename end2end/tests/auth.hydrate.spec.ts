import { test, expect, hydrated, snap, ADMIN, SIGNED_OUT, STATE, signIn, invitedAccount } from './fixtures';

test.describe('signed out', () => {
  test.use({ storageState: SIGNED_OUT });

  test('sign in, see who is signed in, sign out', async ({ page }) => {
    test.slow(); // several page loads and hydrations, a busy CI machine
    await page.goto('/sovereign/audit');
    await expect(page).toHaveURL('/sovereign/login?next=%2Fsovereign%2Faudit');
    await hydrated(page);
    await snap(page, 'login-desktop');
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page).toHaveURL('/sovereign/audit');
    await hydrated(page);
    await page.getByTestId('user-menu').locator('summary').click();
    await expect(page.getByTestId('user-email')).toHaveText(ADMIN.email);
    await snap(page, 'user-menu-desktop');
    await page.getByTestId('sign-out').click();
    await expect(page).toHaveURL('/sovereign/login');
    await page.goto('/sovereign');
    await expect(page).toHaveURL('/sovereign/login');
  });

  test('a wrong password and an unknown e-mail get the same message', async ({ page }) => {
    await page.goto('/sovereign/login');
    await hydrated(page);
    const tryLogin = async (email: string) => {
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill('definitely not it');
      await page.getByTestId('login-submit').click();
      const error = page.locator('#login-password-error');
      await expect(error).not.toBeEmpty();
      return error.textContent();
    };
    const wrong = await tryLogin(ADMIN.email);
    await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
    await snap(page, 'login-wrong-password');
    const unknown = await tryLogin('nobody-here@example.com');
    expect(wrong).toBe('The e-mail address or password is not right. Check both and try again.');
    expect(unknown).toBe(wrong);
    await expect(page).toHaveURL('/sovereign/login');
  });

  test('an expired session redirects to the login page and returns to the page after', async ({ page }) => {
    test.slow(); // several page loads and hydrations, a busy CI machine
    const short = process.env.CATALYST_SHORT_URL;
    test.skip(!short, 'needs the short-session server scripts/test.sh starts (CATALYST_SHORT_URL)');
    await page.goto(`${short}/sovereign/login`);
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Launch your Sovereign');
    // The short server's idle timeout is 3 s.
    await page.waitForTimeout(4_000);
    await page.goto(`${short}/sovereign/audit?category=auth`);
    await expect(page).toHaveURL(`${short}/sovereign/login?next=%2Fsovereign%2Faudit%3Fcategory%3Dauth`);
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page).toHaveURL(`${short}/sovereign/audit?category=auth`);
    await expect(page.getByTestId('audit-table')).toBeVisible();
  });

  test('single sign-on against the real OpenID Connect provider', async ({ page }) => {
    test.slow(); // several page loads and hydrations, a busy CI machine
    const issuer = process.env.E2E_OIDC_ISSUER;
    test.skip(!issuer, 'needs the OIDC provider scripts/test.sh starts (E2E_OIDC_ISSUER)');
    await page.goto('/sovereign/login?next=%2Fsovereign%2Fusers');
    await hydrated(page);
    await page.getByTestId('sso-login').click();
    // The provider's own login page.
    await expect(page).toHaveURL(new RegExp(`^${issuer}/`));
    await page.locator('input[name="login"]').fill('oidc-admin');
    await page.locator('input[name="password"]').fill('anything');
    await page.locator('button[type="submit"]').click();
    // Its consent page.
    await page.locator('button[type="submit"]').click();
    await expect(page).toHaveURL('/sovereign/users');
    await hydrated(page);
    // The role map made the provider's "catalyst-admins" group a superadmin here.
    await expect(page.getByRole('link', { name: 'Audit' })).toBeVisible();
    await page.getByTestId('user-menu').locator('summary').click();
    await expect(page.getByTestId('user-email')).toHaveText('oidc-admin@example.com');
    await expect(page.locator('[data-testid="user-row"][data-email="oidc-admin@example.com"]')).toContainText('Signs in with oidc');
    await snap(page, 'users-after-sso');
  });
});

test.describe('as a viewer', () => {
  test.use({ storageState: STATE.viewer });

  test('a viewer cannot see the users page', async ({ page }) => {
    await page.goto('/sovereign');
    await hydrated(page);
    await expect(page.getByRole('link', { name: 'Overview' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Audit' })).toHaveCount(0);
    const res = await page.goto('/sovereign/users');
    expect(res?.status()).toBe(403);
    await expect(page.getByTestId('error')).toContainText('org.members.manage');
    await expect(page.getByTestId('users-table')).toHaveCount(0);
    await snap(page, 'users-forbidden-viewer');
  });
});

test('a superadmin changes a role and it shows in the audit log', async ({ page }) => {
  test.slow(); // an invitation, a sign-up in a second browser, two pages
  const email = `member-${Date.now()}@example.com`;
  const member = await invitedAccount(page, email, 'viewer', 'member-password-long-enough');
  await member.context().close();
  await page.goto('/sovereign/users');
  await hydrated(page);
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await expect(row.getByTestId('member-role')).toHaveValue('viewer');
  await row.getByTestId('member-role').selectOption('editor');
  const saved = page.waitForResponse((r) => r.url().includes('/sovereign/api/fn/') && r.request().method() === 'POST' && r.status() === 200);
  await row.getByTestId('member-role-save').click();
  await saved;
  await expect(row.getByTestId('member-role')).toHaveValue('editor');
  await snap(page, 'users-desktop');
  await page.goto('/sovereign/audit?category=users');
  await hydrated(page);
  const entry = page.locator('[data-testid="audit-row"][data-action="users.role_changed"]').first();
  await expect(entry).toContainText(`Changed ${email}'s role in Default from viewer to editor.`);
  await expect(entry).toContainText(ADMIN.email);
  await expect(entry).toContainText('127.0.0.1');
  await snap(page, 'audit-desktop');
});

test('single sign-on reaches an existing account only with its password', async ({ page, browser }) => {
  test.slow(); // an invitation, a sign-up, a round trip through the provider, several hydrations
  const issuer = process.env.E2E_OIDC_ISSUER;
  test.skip(!issuer, 'needs the OIDC provider scripts/test.sh starts (E2E_OIDC_ISSUER)');
  // An account with a password exists for the address the provider will vouch for.
  const name = `linker${Date.now()}`;
  const email = `${name}@example.com`;
  const password = 'linker-password-long-enough';
  const member = await invitedAccount(page, email, 'viewer', password);
  await member.context().close();

  const context = await browser.newContext({ storageState: SIGNED_OUT });
  const sso = await context.newPage();
  await sso.goto('/sovereign/login');
  await hydrated(sso);
  await sso.getByTestId('sso-login').click();
  await expect(sso).toHaveURL(new RegExp(`^${issuer}/`));
  await sso.locator('input[name="login"]').fill(name);
  await sso.locator('input[name="password"]').fill('anything');
  await sso.locator('button[type="submit"]').click();
  await sso.locator('button[type="submit"]').click();
  // Back at the console, nobody is signed in yet: it asks for the existing account's password.
  await expect(sso).toHaveURL('/sovereign/login?link=sso');
  await hydrated(sso);
  await expect(sso.getByTestId('sso-link-explain')).toContainText(email);
  await expect(sso.getByTestId('user-menu')).toHaveCount(0);
  await snap(sso, 'sso-link');
  await sso.getByLabel('Password of this account').fill('not the password of it');
  await sso.getByTestId('sso-link-submit').click();
  await expect(sso.locator('#link-password-error')).toContainText('This is not the password of');
  await sso.getByLabel('Password of this account').fill(password);
  await Promise.all([sso.waitForURL((u) => u.pathname === '/sovereign'), sso.getByTestId('sso-link-submit').click()]);
  await hydrated(sso);
  await sso.getByTestId('user-menu').locator('summary').click();
  await expect(sso.getByTestId('user-email')).toHaveText(email);
  await context.close();

  // The users page now says the account signs in both ways.
  await page.goto('/sovereign/users');
  await hydrated(page);
  await expect(page.locator(`[data-testid="user-row"][data-email="${email}"]`)).toContainText('Signs in with password or oidc');
});

test('API tokens: created once visible, listed by prefix, revoked', async ({ page }) => {
  await page.goto('/sovereign/settings/tokens');
  await hydrated(page);
  await page.getByLabel('Name').fill('e2e pipeline');
  await page.getByTestId('token-create').click();
  const secret = await page.getByTestId('token-secret').textContent();
  expect(secret).toMatch(/^cat_[A-Za-z0-9_-]{43}$/);
  const row = page.getByTestId('token-row').filter({ hasText: 'e2e pipeline' });
  await expect(row).toContainText(secret!.slice(0, 8));
  await snap(page, 'tokens-desktop');
  // The token works as a bearer on the API.
  const res = await page.request.get('/sovereign/api/v1/status', { headers: { authorization: `Bearer ${secret}` } });
  expect(res.status()).toBe(200);
  await row.getByRole('button', { name: 'Revoke token e2e pipeline' }).click();
  await expect(page.getByTestId('token-row').filter({ hasText: 'e2e pipeline' })).toHaveCount(0);
  const after = await page.request.get('/sovereign/api/v1/status', { headers: { authorization: `Bearer ${secret}`, cookie: '' } });
  expect(after.status()).toBe(401);
});
