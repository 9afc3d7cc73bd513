/**
 * Pre-flight on the Review step (issue 21): a server type the Hetzner stand-in has none of in a location
 * (`scripts/test.sh` starts it with `--unavailable cpx62@fsn1`) fails the pre-flight, which links the
 * failure to the Provider step and keeps Launch disabled; fixed there, the pre-flight passes and the launch
 * goes ahead.
 */
import { expect, test } from '@playwright/test';
import { snap } from './fixtures';
import { credentials, next, startOver } from './wizard';

test('an unavailable server type fails pre-flight on its Provider field; fixed, the Sovereign launches', async ({ page }) => {
  test.setTimeout(180_000);
  await startOver(page);
  await next(page, 'topology');
  await page.getByTestId('topology-solo').click();
  await next(page, 'provider');
  await page.locator('#f-regions-0-cloudRegion').selectOption('fsn1');
  await page.locator('#f-regions-0-controlPlaneSize').selectOption('cpx62');
  await next(page, 'credentials');
  await credentials(page);
  await next(page, 'components');
  await next(page, 'domain');
  const sub = `pf-${Date.now().toString(36)}`;
  await page.locator('#f-domain-subdomain').fill(sub);
  await expect(page.getByTestId('subdomain-status')).toHaveText('available');
  await next(page, 'review');

  const check = page.getByTestId('preflight-check-server-type:regions[0].controlPlaneSize');
  await expect(check).toHaveAttribute('data-status', 'fail', { timeout: 30_000 });
  await expect(check).toContainText('Hetzner has no cpx62 available in fsn1');
  await expect(page.getByTestId('preflight-summary')).toContainText('failed');
  await expect(page.getByTestId('preflight-cost-total')).toContainText('per month without VAT');
  await expect(page.getByTestId('wizard-continue')).toBeDisabled();
  await snap(page, 'preflight-fail-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await snap(page, 'preflight-fail-mobile');
  await page.setViewportSize({ width: 1280, height: 900 });

  // The failure links to the field that fixes it, with its message beside the field.
  await check.getByTestId('preflight-fix').click();
  await expect(page).toHaveURL(/\/sovereign\/wizard\/provider/);
  await expect(page.getByTestId('error-regions[0].controlPlaneSize'))
    .toContainText('no cpx62 available in fsn1');
  await page.locator('#f-regions-0-controlPlaneSize').selectOption('cpx52');
  await page.getByTestId('stepper-review').getByRole('link').click();
  await expect(page).toHaveURL(/review$/);
  await expect(check).toHaveAttribute('data-status', 'pass', { timeout: 30_000 });
  await expect(page.getByTestId('preflight-summary')).toContainText('passed');
  await expect(page.getByTestId('wizard-continue')).toBeEnabled();
  await snap(page, 'preflight-pass-desktop');

  await page.getByTestId('wizard-continue').click();
  await expect(page).toHaveURL(/\/sovereign\/provision\/[A-Za-z0-9_-]+$/, { timeout: 30_000 });
});
