/**
 * Vouchers without JavaScript: the public /redeem page's states are whole server-rendered pages, its code
 * form is a plain GET form, and administrators issue and revoke vouchers with plain form posts.
 */
import { SIGNED_OUT, expect, snap, test } from './fixtures';
import { issueVoucher, uniqueCode } from './vouchers';

test.describe('the redeem page, signed out', () => {
  test.use({ storageState: SIGNED_OUT });

  test('no code asks for one; an unknown code is not valid', async ({ page }) => {
    await page.goto('/redeem');
    await expect(page.getByTestId('redeem-missing')).toBeVisible();
    await expect(page.getByRole('heading', { name: 'No voucher code' })).toBeVisible();
    await snap(page, 'redeem-missing-nojs');
    // The form writes ?code= and the server answers the next state.
    await page.getByLabel('Voucher code').fill('no-such-voucher-here');
    await Promise.all([page.waitForURL(/\/redeem\?code=no-such-voucher-here$/), page.getByTestId('redeem-check').click()]);
    await expect(page.getByTestId('redeem-not-valid')).toBeVisible();
    await expect(page.getByTestId('redeem-detail')).toHaveText('This code does not exist or has been retired.');
    await expect(page.getByTestId('redeem-missing')).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'Sign up without a voucher' })).toHaveAttribute('href', '/sovereign/signup');
    await snap(page, 'redeem-not-valid-nojs');
  });
});

test('the ended and valid states, and sign-up carrying the code, without JavaScript', async ({ page, browser }) => {
  const ended = uniqueCode('ended');
  const valid = uniqueCode('valid');
  await issueVoucher(page.request, ended, 75, { active: false });
  await issueVoucher(page.request, valid, 250, { description: 'Franchise launch offer' });
  const anon = await (await browser.newContext({ storageState: SIGNED_OUT, javaScriptEnabled: false })).newPage();

  await anon.goto(`/redeem?code=${ended.toLowerCase()}`);
  await expect(anon.getByTestId('redeem-ended')).toBeVisible();
  await expect(anon.getByRole('heading', { name: 'This campaign has ended' })).toBeVisible();
  await expect(anon.getByTestId('redeem-code')).toHaveText(ended);
  await expect(anon.getByTestId('redeem-ended')).toContainText('€75.00');
  await expect(anon.getByTestId('redeem-signup')).toHaveText('Sign up without a voucher');
  await snap(anon, 'redeem-ended-nojs');

  await anon.goto(`/redeem?code=${valid.toLowerCase()}`);
  await expect(anon.getByTestId('redeem-valid')).toBeVisible();
  await expect(anon.getByTestId('redeem-credit')).toHaveText('€250.00 credit');
  await expect(anon.getByTestId('redeem-description')).toHaveText('Franchise launch offer');
  await expect(anon.getByTestId('redeem-code')).toHaveText(valid);
  await snap(anon, 'redeem-valid-nojs');
  // The code travels in the sign-up page's address and form, not in browser storage.
  await anon.getByTestId('redeem-signup').click();
  await expect(anon).toHaveURL(`/sovereign/signup?voucher=${valid}`);
  await expect(anon.getByTestId('signup-voucher')).toHaveText(`Voucher ${valid}: €250.00 of credit for your new organisation.`);
  await expect(anon.locator('input[type="hidden"][name="voucher"]')).toHaveValue(valid);
  await snap(anon, 'signup-with-voucher-nojs');
  await anon.context().close();
});

test('administrators issue, switch off and revoke with plain forms', async ({ page }) => {
  const code = uniqueCode('nojs');
  await page.goto('/sovereign/vouchers');
  await expect(page.getByRole('heading', { name: 'Vouchers', level: 1 })).toBeVisible();
  // The earlier console's defaults: 100 of credit, active, unlimited.
  await expect(page.locator('#voucher-credit')).toHaveValue('100');
  await expect(page.locator('#voucher-max')).toHaveValue('0');
  await expect(page.locator('#voucher-active')).toBeChecked();
  await page.locator('#voucher-code').fill(code.toLowerCase());
  await Promise.all([page.waitForURL(/\/sovereign\/vouchers$/), page.getByTestId('voucher-issue').click()]);
  const row = page.locator(`[data-testid="voucher-row"][data-code="${code}"]`);
  await expect(row).toContainText('€100.00');
  await expect(row.getByTestId('voucher-state')).toHaveText('Active');
  await snap(page, 'vouchers-admin-nojs');
  await Promise.all([page.waitForURL(/\/sovereign\/vouchers$/), row.getByTestId('voucher-toggle').click()]);
  await expect(row.getByTestId('voucher-state')).toHaveText('Off');
  // The confirm step is a disclosure: it opens without JavaScript.
  await row.getByTestId('voucher-revoke').click();
  await Promise.all([page.waitForURL(/\/sovereign\/vouchers$/), row.getByTestId('voucher-revoke-confirm').click()]);
  await expect(row).toHaveCount(0);
  await page.goto(`/sovereign/vouchers?q=${code.toLowerCase()}&revoked=true`);
  await expect(row.getByTestId('voucher-state')).toHaveText('Revoked');
});
