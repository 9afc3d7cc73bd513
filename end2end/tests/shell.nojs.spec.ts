import { test, expect } from './fixtures';

test('the console is server-rendered: the heading is in the HTML without JavaScript', async ({ page }) => {
  const res = await page.goto('/sovereign');
  expect(res?.status()).toBe(200);
  const html = await res!.text();
  expect(html).toContain('<h1>Launch your Sovereign</h1>');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Launch your Sovereign');
  await expect(page.getByTestId('db-backend')).toContainText(/SQLite|PostgreSQL/);
});

test('an unknown path under /sovereign is the 404 page with status 404', async ({ page }) => {
  const res = await page.goto('/sovereign/this/does/not/exist');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('the theme switch works without JavaScript (a form post that sets a cookie)', async ({ page }) => {
  await page.goto('/sovereign');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  expect(new URL(page.url()).pathname).toBe('/sovereign');
});

test('the overview leads to the wizard and the marketplace', async ({ page }) => {
  await page.goto('/sovereign');
  await page.getByTestId('cta-wizard').click();
  await expect(page).toHaveURL(/\/sovereign\/wizard/);
  await page.goto('/sovereign');
  await page.getByRole('link', { name: 'Browse components' }).click();
  await expect(page).toHaveURL(/\/sovereign\/marketplace$/);
});
