import { test, expect } from './fixtures';

test('the marketplace stands without JavaScript', async ({ page }) => {
  await page.goto('/sovereign/marketplace');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Platform components');
  await expect(page.locator('[data-testid="component-card"]')).toHaveCount(41);
  await expect(page.getByTestId('selected-count')).toHaveText('Selected 50 of 70');
  await expect(page.locator('[data-testid="component-card"][data-id="grafana"]')).toHaveAttribute('data-selected', 'true');
  await expect(page.getByRole('link', { name: 'Marketplace' }).first()).toHaveAttribute('aria-current', 'page');
});

test('product pages are plain links without JavaScript', async ({ page }) => {
  await page.goto('/sovereign/marketplace');
  await page.locator('[data-testid="component-card"][data-id="temporal"]').getByRole('link', { name: 'Temporal' }).click();
  await expect(page).toHaveURL(/\/product\/temporal$/);
  await expect(page.getByTestId('depends-on').getByRole('link')).toHaveText(['CloudNativePG']);
  await expect(page.locator('dl.facts')).toContainText('temporal 1.2.0');
});
