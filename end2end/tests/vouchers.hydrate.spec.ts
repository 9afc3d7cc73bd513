/**
 * Vouchers with JavaScript, as a new customer would meet them: the redeem page → sign-up with the voucher →
 * the wizard, prefilled with the new organisation → the billing page's ledger with the voucher's credit.
 * Also the missing, not-valid and ended states, and the admin page.
 */
import { SIGNED_OUT, expect, hydrated, snap, test } from './fixtures';
import { issueVoucher, uniqueCode } from './vouchers';
import { credentials, next } from './wizard';

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

/**
 * The whole path of issue 24 as a new customer walks it: the e-mail's /redeem link → sign-up with the voucher →
 * the wizard → the Review step, where the credit is short (Launch disabled with the amount missing, as the
 * server's 409 would say) → a second code redeemed on the billing page in a new tab → checked again, Launch is
 * paid by the credit → the billing page shows the launch's spend and the balance left.
 */
test('a launch paid by credit: short credit keeps Launch disabled; redeemed, the launch is paid and in the ledger', async ({ page, browser }) => {
  test.setTimeout(300_000);
  const first = uniqueCode('tiny');
  const more = uniqueCode('more');
  await issueVoucher(page.request, first, 1);
  await issueVoucher(page.request, more, 2000);

  const context = await browser.newContext({ storageState: SIGNED_OUT, viewport: { width: 1280, height: 900 } });
  const me = await context.newPage();
  await me.goto(`/redeem?code=${first}`);
  await hydrated(me);
  await me.getByTestId('redeem-signup').click();
  await expect(me).toHaveURL(`/sovereign/signup?voucher=${first}`);
  await hydrated(me);
  await me.getByLabel('E-mail').fill(`${first.toLowerCase()}@customer.example`);
  await me.getByLabel('Password').fill('a long enough password for e2e');
  await Promise.all([me.waitForURL(/\/sovereign\/wizard\/organisation$/), me.getByTestId('signup-submit').click()]);
  await hydrated(me);
  await next(me, 'topology');
  await me.getByTestId('topology-solo').click();
  await next(me, 'provider');
  // A node the default selection fits on (the pre-flight's capacity check passes), as preflight.hydrate picks.
  await me.locator('#f-regions-0-cloudRegion').selectOption('fsn1');
  await me.locator('#f-regions-0-controlPlaneSize').selectOption('cpx52');
  await next(me, 'credentials');
  await credentials(me);
  await next(me, 'components');
  await next(me, 'domain');
  await me.locator('#f-domain-subdomain').fill(`cr-${Date.now().toString(36)}`);
  await expect(me.getByTestId('subdomain-status')).toHaveText('available');
  await next(me, 'review');

  // €1 does not pay a month: the amount missing, the way to add credit, Launch disabled with the reason. The
  // price is the pre-flight's monthly estimate without VAT, the figure the server charges.
  await expect(me.getByTestId('preflight-summary')).toContainText('passed', { timeout: 45_000 });
  const estimate = /^€([\d,]+\.\d\d) per month without VAT/.exec((await me.getByTestId('preflight-cost-total').textContent()) ?? '');
  expect(estimate).not.toBeNull();
  const credit = me.getByTestId('review-credit');
  await expect(credit).toContainText(`does not cover the first month (€${estimate![1]})`, { timeout: 45_000 });
  const text = (await credit.textContent()) ?? '';
  const found = /\(€1\.00\) does not cover the first month \(€([\d,]+\.\d\d)\): €([\d,]+\.\d\d) is missing/.exec(text);
  expect(found, text).not.toBeNull();
  const cents = (s: string) => Math.round(Number(s.replace(/,/g, '')) * 100);
  const monthly = cents(found![1]);
  expect(cents(found![2])).toBe(monthly - 100);
  await expect(me.getByTestId('wizard-continue')).toBeDisabled();
  await expect(me.getByTestId('launch-credit-short')).toHaveText(`Launch needs €${found![2]} more credit: redeem a voucher on the billing page.`);
  await expect(me.getByTestId('wizard-continue')).toHaveAttribute('aria-describedby', 'launch-credit-short');
  await snap(me, 'review-credit-short-desktop');
  await me.setViewportSize({ width: 390, height: 844 });
  await snap(me, 'review-credit-short-mobile');
  await me.setViewportSize({ width: 1280, height: 900 });

  // The billing page in a new tab: the wizard keeps the token it holds only in memory.
  const [billing] = await Promise.all([context.waitForEvent('page'), me.getByTestId('review-credit-redeem').click()]);
  await hydrated(billing);
  await billing.locator('#billing-code').fill(more);
  await billing.getByTestId('billing-redeem').click();
  await expect(billing.getByTestId('billing-redeemed')).toContainText(`Voucher ${more} redeemed`);
  await billing.close();

  await me.getByTestId('review-credit-recheck').click();
  await expect(credit).toContainText('Paid by credit');
  await expect(me.getByTestId('launch-credit-short')).toHaveCount(0);
  await expect(me.getByTestId('wizard-continue')).toBeEnabled();
  await snap(me, 'review-credit-paid-desktop');
  await me.setViewportSize({ width: 390, height: 844 });
  await snap(me, 'review-credit-paid-mobile');
  await me.setViewportSize({ width: 1280, height: 900 });

  await me.getByTestId('wizard-continue').click();
  await expect(me).toHaveURL(/\/sovereign\/provision\/[A-Za-z0-9_-]+$/, { timeout: 45_000 });

  // The ledger: both grants and the launch's spend, newest first; the balance is what is left.
  await me.goto('/sovereign/billing');
  await hydrated(me);
  const rows = me.getByTestId('ledger-row');
  await expect(rows).toHaveCount(3);
  const money = (c: number) => `€${(c / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  await expect(rows.nth(0)).toContainText('Sovereign launched (first month)');
  await expect(rows.nth(0)).toContainText(`-${money(monthly)}`);
  await expect(me.getByTestId('billing-balance')).toHaveText(money(200_100 - monthly));
  await expect(me.locator('[data-testid="order-row"][data-kind="deployment"]')).toHaveCount(1);
  await snap(me, 'billing-after-launch-desktop');
  await context.close();
});
