import { test, expect, hydrated, snap } from './fixtures';

test('the shell fits a phone screen', async ({ page }) => {
  await page.goto('/sovereign');
  await hydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'no horizontal scrolling').toBeLessThanOrEqual(0);
  await expect(page.getByTestId('theme-toggle')).toBeVisible();
  await snap(page, 'home-mobile');
});
