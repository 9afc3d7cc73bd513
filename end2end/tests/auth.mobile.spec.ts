import { test, expect, hydrated, snap, SIGNED_OUT } from './fixtures';

async function noHorizontalScroll(page: import('@playwright/test').Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'no horizontal scrolling').toBeLessThanOrEqual(0);
}

test.describe('signed out', () => {
  test.use({ storageState: SIGNED_OUT });
  test('the login page fits a phone', async ({ page }) => {
    await page.goto('/sovereign/login');
    await hydrated(page);
    await noHorizontalScroll(page);
    await expect(page.getByTestId('login-submit')).toBeVisible();
    await snap(page, 'login-mobile');
  });
});

test('the users, audit and tokens pages fit a phone', async ({ page }) => {
  for (const [path, name] of [
    ['/sovereign/users', 'users-mobile'],
    ['/sovereign/audit', 'audit-mobile'],
    ['/sovereign/settings/tokens', 'tokens-mobile'],
  ]) {
    await page.goto(path);
    await hydrated(page);
    await noHorizontalScroll(page);
    await snap(page, name);
  }
  await page.getByTestId('user-menu').locator('summary').click();
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await snap(page, 'user-menu-mobile');
});
