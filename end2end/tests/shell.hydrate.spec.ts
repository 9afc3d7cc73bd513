import { test, expect, hydrated, snap } from './fixtures';

test('a control that calls a server function works after hydration', async ({ page }) => {
  await page.goto('/sovereign');
  await hydrated(page);
  await expect(page.getByTestId('check-result')).toHaveText('Not checked yet in this session.');
  let navigated = false;
  page.on('framenavigated', () => (navigated = true));
  await page.getByTestId('check-db').click();
  await expect(page.getByTestId('check-result')).toHaveText(/(SQLite|PostgreSQL) answered in \d+\.\d\d ms/);
  expect(navigated, 'the check ran in place, without a page load').toBe(false);
  await snap(page, 'home-desktop');
});

test('the theme choice survives a reload', async ({ page }) => {
  await page.goto('/sovereign');
  await hydrated(page);
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await hydrated(page);
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
});

test('the 404 page hydrates without errors and links home', async ({ page }) => {
  const res = await page.goto('/sovereign/nope');
  expect(res?.status()).toBe(404);
  await hydrated(page);
  await page.getByRole('link', { name: 'Back to the overview' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Launch your Sovereign');
});
