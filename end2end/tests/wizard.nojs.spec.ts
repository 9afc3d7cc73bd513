import { test, expect, snap } from './fixtures';
import { discardDraft, ED25519, GOOD_TOKEN } from './wizard';

test.beforeEach(async ({ page }) => {
  // Drafts belong to the signed-in user: begin each test without one.
  await discardDraft(page);
});

test('step 1 is complete server-rendered HTML', async ({ page }) => {
  const res = await page.goto('/sovereign/wizard/organisation');
  expect(res?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tell us about your organisation');
  await expect(page.locator('#f-org-name')).toHaveValue('Acme Financial');
  await expect(page.getByTestId('wizard-progress')).toHaveText('Step 1 of 7 · Organisation · 14%');
  // The organisation the Sovereign will belong to is named.
  await expect(page.getByTestId('owner-org')).toContainText('Created in organisation');
});

test('a future step redirects on the server', async ({ page }) => {
  await page.goto('/sovereign/wizard/domain');
  await expect(page).toHaveURL(/\/sovereign\/wizard\/organisation$/);
});

/** Continue: the step's form is posted, and the server answers with the next step's page. */
async function next(page: import('@playwright/test').Page, to: string) {
  await Promise.all([page.waitForURL(new RegExp(`/sovereign/wizard/${to}$`)), page.getByTestId('wizard-continue').click()]);
}

test('without JavaScript every step is a form: errors come back inline with the values kept, and Launch starts the run', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/sovereign/wizard/organisation');

  // Step 1: an empty name comes back with the shared rule's message beside it; what else was entered stays.
  await page.locator('#f-org-name').fill('');
  await page.locator('#f-org-headquarters').fill('Tallinn, Estonia');
  await page.locator('#f-org-industry').selectOption({ index: 2 });
  const industry = await page.locator('#f-org-industry').inputValue();
  await page.getByRole('checkbox', { name: 'GDPR' }).check();
  await Promise.all([page.waitForURL(/\/organisation\?e=/), page.getByTestId('wizard-continue').click()]);
  await expect(page.getByTestId('error-org.name')).toHaveText("Enter your organisation's name.");
  await expect(page.locator('#f-org-name')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#f-org-headquarters')).toHaveValue('Tallinn, Estonia');
  await expect(page.locator('#f-org-industry')).toHaveValue(industry);
  await expect(page.getByRole('checkbox', { name: 'GDPR' })).toBeChecked();
  await snap(page, 'wizard-nojs-1-error');
  await page.locator('#f-org-name').fill('Nojs Bank');
  await next(page, 'topology');

  // Step 2: one region, no HA (the radios and switches are form controls).
  await page.getByTestId('topology-solo').click();
  await expect(page.getByTestId('topology-solo').locator('input')).toBeChecked();
  await next(page, 'provider');

  // Step 3: three workers, so the pre-flight at Launch finds the components fit.
  await expect(page.locator('#f-regions-0-cloudRegion')).toBeVisible();
  await page.locator('#f-regions-0-workerCount').fill('3');
  await next(page, 'credentials');

  // Step 4: a token Hetzner rejects is refused by the server, beside the field; the rest is kept.
  await page.locator('#f-hetznerProjectId').fill('7654321');
  await page.getByTestId('ssh-paste').fill(ED25519);
  await page.locator('#f-secrets-hetznerToken').fill('b'.repeat(64));
  await Promise.all([page.waitForURL(/\/credentials\?e=/), page.getByTestId('wizard-continue').click()]);
  await expect(page.getByTestId('error-secrets.hetznerToken')).not.toBeEmpty();
  await expect(page.locator('#f-hetznerProjectId')).toHaveValue('7654321');
  await expect(page.locator('#f-secrets-hetznerToken')).toHaveValue('');
  await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
  await next(page, 'components');

  // Step 5: the catalog's default selection.
  await next(page, 'domain');

  // Step 6: a reserved name is refused by the server; a free one goes on.
  const sub = `very-slow-nojs-${Date.now().toString(36)}`;
  await page.locator('#f-domain-subdomain').fill('console');
  await Promise.all([page.waitForURL(/\/domain\?e=/), page.getByTestId('wizard-continue').click()]);
  await expect(page.getByTestId('error-domain.subdomain')).toContainText('reserved');
  await page.locator('#f-domain-subdomain').fill(sub);
  await page.locator('#f-adminEmail').fill('ops@nojs.example');
  await next(page, 'review');

  // Step 7: Launch posts the token (never stored) with the saved draft; the server runs the pre-flight and
  // creates the deployment.
  await expect(page.getByTestId('review-org-name')).toHaveText('Nojs Bank');
  await expect(page.getByTestId('review-fqdn')).toHaveText(`${sub}.omani.works`);
  await Promise.all([
    page.waitForURL(/\/sovereign\/wizard\/review\?e=/),
    page.getByTestId('wizard-continue').click(),
  ]);
  await expect(page.getByTestId('error-secrets.hetznerToken')).not.toBeEmpty();
  await snap(page, 'wizard-nojs-7-review');
  await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
  await Promise.all([
    page.waitForURL(/\/sovereign\/provision\/[A-Za-z0-9_-]+$/, { timeout: 60_000 }),
    page.getByTestId('wizard-continue').click(),
  ]);
  await expect(page.getByText(`${sub}.omani.works`).first()).toBeVisible();
  await snap(page, 'wizard-nojs-launched');
});
