/** Vouchers on a 390 px phone: the redeem page's states, the admin page and the billing page fit. */
import { SIGNED_OUT, expect, hydrated, snap, test } from './fixtures';
import { issueVoucher, uniqueCode } from './vouchers';

test('the redeem page on a phone', async ({ page, browser }) => {
  const code = uniqueCode('phone');
  await issueVoucher(page.request, code, 120);
  const anon = await (await browser.newContext({ storageState: SIGNED_OUT, viewport: { width: 390, height: 844 } })).newPage();
  await anon.goto(`/redeem?code=${code}`);
  await hydrated(anon);
  await expect(anon.getByTestId('redeem-valid')).toBeVisible();
  await expect(anon.getByTestId('redeem-signup')).toBeInViewport();
  await snap(anon, 'redeem-valid-mobile');
  await anon.goto('/redeem');
  await hydrated(anon);
  await expect(anon.getByTestId('redeem-missing')).toBeVisible();
  await snap(anon, 'redeem-missing-mobile');
  await anon.context().close();
});

test('the admin and billing pages on a phone', async ({ page }) => {
  await issueVoucher(page.request, uniqueCode('list'), 30, { description: 'Listed on a phone' });
  await page.goto('/sovereign/vouchers');
  await hydrated(page);
  await expect(page.getByTestId('vouchers-table')).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, 'nothing but the table scrolls sideways').toBeLessThanOrEqual(390);
  await snap(page, 'vouchers-admin-mobile');
  await page.goto('/sovereign/billing');
  await hydrated(page);
  await expect(page.getByTestId('billing-balance')).toBeVisible();
  await snap(page, 'billing-mobile');
});
