/**
 * Vouchers with JavaScript, as a new customer would meet them: the redeem page → sign-up with the voucher →
 * the wizard, prefilled with the new organisation → the billing page's ledger with the voucher's credit.
 * Also the missing, not-valid and ended states, and the admin page.
 */
import { SIGNED_OUT, expect, hydrated, snap, test } from './fixtures';
import { issueVoucher, uniqueCode } from './vouchers';

test('a new user redeems a voucher, signs up, and lands in the wizard with the credit', async ({ page, browser }) => {
  test.setTimeout(180_000);
  const code = uniqueCode('zero');
  await issueVoucher(page.request, code, 500, { description: 'Welcome to your own cloud', max_redemptions: 10 });

  const context = await browser.newContext({ storageState: SIGNED_OUT, viewport: { width: 1280, height: 800 } });
  const me = await context.newPage();
  // The e-mail's link, in lower case: codes are case-insensitive.
  await me.goto(`/redeem?code=${code.toLowerCase()}`);
  await hydrated(me);
  await expect(me.getByTestId('redeem-valid')).toBeVisible();
  await expect(me.getByTestId('redeem-credit')).toHaveText('€500.00 credit');
  await expect(me.getByTestId('redeem-description')).toHaveText('Welcome to your own cloud');
  await snap(me, 'redeem-valid-desktop');
  await me.getByTestId('redeem-signup').click();
  await expect(me).toHaveURL(`/sovereign/signup?voucher=${code}`);
  await hydrated(me);
  await expect(me.getByTestId('signup-voucher')).toContainText('€500.00 of credit for your new organisation');
  // Sign-up is invite-only on the test console: the voucher is the invitation.
  const email = `${code.toLowerCase()}@customer.example`;
  await me.getByLabel('E-mail').fill(email);
  await me.getByLabel('Password').fill('a long enough password for e2e');
  await Promise.all([me.waitForURL(/\/sovereign\/wizard\/organisation$/), me.getByTestId('signup-submit').click()]);
  await hydrated(me);
  // Prefilled with the organisation the sign-up just made, the one the credit went to.
  const local = email.split('@')[0];
  await expect(me.getByTestId('owner-org')).toContainText(`${local}'s organisation`);
  // The credit is the organisation's: the billing page shows the voucher's grant.
  await me.goto('/sovereign/billing');
  await hydrated(me);
  const rows = me.getByTestId('ledger-row');
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toContainText(`Voucher ${code}`);
  await expect(rows.nth(0)).toContainText('+€500.00');
  await expect(me.getByTestId('billing-balance')).toHaveText('€500.00');
  await snap(me, 'billing-ledger-desktop');
  await context.close();
});

test.describe('the redeem page with JavaScript, signed out', () => {
  test.use({ storageState: SIGNED_OUT });

  test('missing, then not valid, from the code form', async ({ page }) => {
    await page.goto('/redeem');
    await hydrated(page);
    await expect(page.getByTestId('redeem-missing')).toBeVisible();
    await snap(page, 'redeem-missing-desktop');
    await page.getByLabel('Voucher code').fill('NOT-A-VOUCHER');
    await Promise.all([page.waitForURL(/\/redeem\?code=NOT-A-VOUCHER$/), page.getByTestId('redeem-check').click()]);
    await hydrated(page);
    await expect(page.getByTestId('redeem-not-valid')).toBeVisible();
    await expect(page.getByTestId('redeem-detail')).toHaveText('This code does not exist or has been retired.');
    await snap(page, 'redeem-not-valid-desktop');
  });
});

test('the ended state, and the admin page', async ({ page, browser }) => {
  const ended = uniqueCode('used');
  await issueVoucher(page.request, ended, 40, { max_redemptions: 1, active: false });
  const anon = await (await browser.newContext({ storageState: SIGNED_OUT })).newPage();
  await anon.goto(`/redeem?code=${ended}`);
  await hydrated(anon);
  await expect(anon.getByTestId('redeem-ended')).toBeVisible();
  await expect(anon.getByTestId('redeem-ended')).toContainText('€40.00');
  await snap(anon, 'redeem-ended-desktop');
  await anon.context().close();

  // The admin page: issue with the form, switch on, revoke after the confirm step.
  const code = uniqueCode('admin');
  await page.goto('/sovereign/vouchers');
  await hydrated(page);
  await page.locator('#voucher-code').fill(code.toLowerCase());
  await page.locator('#voucher-credit').fill('49.50');
  await page.locator('#voucher-max').fill('25');
  await page.locator('#voucher-description').fill('Partner campaign');
  await page.getByTestId('voucher-issue').click();
  await expect(page.getByTestId('voucher-issued')).toHaveText(`Voucher ${code} issued: €49.50 credit.`);
  const row = page.locator(`[data-testid="voucher-row"][data-code="${code}"]`);
  await expect(row).toContainText('0 of 25');
  await snap(page, 'vouchers-admin-desktop');
  await page.getByTestId('voucher-search').fill('partner');
  await Promise.all([page.waitForURL(/q=partner/), page.getByTestId('voucher-search').press('Enter')]);
  await expect(row).toBeVisible();
  await row.getByTestId('voucher-revoke').click();
  await row.getByTestId('voucher-revoke-confirm').click();
  await expect(row).toHaveCount(0);
  // The voucher's page keeps its history.
  await page.goto(`/sovereign/vouchers/${code}`);
  await expect(page.getByTestId('voucher-state')).toHaveText('Revoked');
  await expect(page.getByTestId('redemptions-empty')).toBeVisible();
});
