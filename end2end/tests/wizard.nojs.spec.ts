import { test, expect } from './fixtures';

test('step 1 is complete server-rendered HTML', async ({ page }) => {
  const res = await page.goto('/sovereign/wizard/organisation');
  expect(res?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tell us about your organisation');
  await expect(page.locator('#f-org-name')).toHaveValue('Acme Financial');
  await expect(page.getByTestId('wizard-progress')).toHaveText('Step 1 of 7 · Organisation · 14%');
});

test('a future step redirects on the server', async ({ page }) => {
  await page.goto('/sovereign/wizard/domain');
  await expect(page).toHaveURL(/\/sovereign\/wizard\/organisation$/);
});
