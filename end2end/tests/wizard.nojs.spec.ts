import { test, expect } from './fixtures';
import { discardDraft } from './wizard';

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
