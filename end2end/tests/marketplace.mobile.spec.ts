import { test, expect, hydrated, snap } from './fixtures';

test('on a phone the grid shows one card per row and the toggle still works', async ({ page }) => {
  await page.goto('/sovereign/marketplace');
  await hydrated(page);
  const visible = page.locator('[data-testid="component-card"]:visible');
  const first = await visible.nth(0).boundingBox();
  const second = await visible.nth(1).boundingBox();
  expect(first && second).toBeTruthy();
  if (first && second) {
    expect(Math.abs(first.x - second.x)).toBeLessThan(1);
    expect(second.y).toBeGreaterThan(first.y + first.height - 1);
    expect(first.width).toBeGreaterThan(300);
  }
  // Nothing overflows sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const card = page.locator('[data-testid="component-card"][data-id="grafana"]');
  await card.getByTestId('toggle').click();
  await expect(card).toHaveAttribute('data-selected', 'false');
  await snap(page, 'marketplace-mobile');
});

test('the product page reads well on a phone', async ({ page }) => {
  await page.goto('/sovereign/marketplace/product/cilium');
  await hydrated(page);
  await expect(page.getByTestId('always-installed')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, 'product-mobile');
});
