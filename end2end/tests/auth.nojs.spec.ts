import { test, expect, ADMIN, SIGNED_OUT, signIn, snap } from './fixtures';

test.describe('signed out, without JavaScript', () => {
  test.use({ storageState: SIGNED_OUT });

  test('pages redirect to the login page, which signs in with a plain form', async ({ page }) => {
    const res = await page.goto('/sovereign/settings/tokens');
    expect(res?.status()).toBe(200);
    await expect(page).toHaveURL('/sovereign/login?next=%2Fsovereign%2Fsettings%2Ftokens');
    await expect(page.getByRole('heading', { name: 'Sign in to Catalyst' })).toBeVisible();
    await expect(page.getByTestId('sso-login')).toBeVisible();
    await signIn(page, ADMIN.email, ADMIN.password);
    await expect(page).toHaveURL('/sovereign/settings/tokens');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('API tokens');
  });

  test('a wrong password comes back to the form with the message', async ({ page }) => {
    await page.goto('/sovereign/login');
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByTestId('login-submit').click();
    await expect(page.locator('#login-password-error')).toHaveText(
      'The e-mail address or password is not right. Check both and try again.',
    );
    await snap(page, 'login-error-nojs');
  });

  test('invite-only sign-up explains itself', async ({ page }) => {
    await page.goto('/sovereign/signup');
    await expect(page.getByTestId('invite-only')).toContainText('by invitation only');
  });
});

test('signed in, the audit log pages without JavaScript', async ({ page }) => {
  await page.goto('/sovereign/audit?category=auth');
  await expect(page.getByTestId('audit-table')).toBeVisible();
  await expect(page.locator('[data-testid="audit-row"][data-action="auth.login"]').first()).toContainText(ADMIN.email);
  await expect(page.getByTestId('audit-page')).toContainText('Page 1 of');
});
