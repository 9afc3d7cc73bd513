import { test, expect, snap } from './fixtures';
import type { Page } from '@playwright/test';
import { credentials, next, startOver } from './wizard';

/** Nothing overflows the 390 px viewport. */
async function fits(page: Page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
}

test('on a phone the stepper collapses and every step still fits', async ({ page }) => {
  test.setTimeout(90_000);
  await startOver(page);
  await expect(page.getByTestId('stepper-compact')).toHaveText('Step 1 of 7 · Organisation');
  await expect(page.getByTestId('stepper-organisation')).toBeHidden();
  await fits(page);
  await snap(page, 'wizard-1-org-mobile');
  await next(page, 'topology');
  await fits(page);
  await snap(page, 'wizard-2-topology-mobile');
  await next(page, 'provider');
  await expect(page.getByTestId('stepper-compact')).toHaveText('Step 3 of 7 · Provider');
  await fits(page);
  await snap(page, 'wizard-3-provider-mobile');
  await next(page, 'credentials');
  await credentials(page);
  await fits(page);
  await snap(page, 'wizard-4-credentials-mobile');
  await next(page, 'components');
  await expect(page.getByTestId('component-grid')).toBeVisible();
  await expect(page.getByTestId('stepper-compact')).toHaveText('Step 5 of 7 · Components');
  await fits(page);
  await snap(page, 'wizard-5-components-mobile');
  await next(page, 'domain');
  await page.locator('#f-domain-subdomain').fill('mobile-e2e');
  await expect(page.getByTestId('subdomain-status')).toHaveText('available');
  await fits(page);
  await snap(page, 'wizard-6-domain-mobile');
  await next(page, 'review');
  await expect(page.getByTestId('review-components-count')).toContainText('50 selected');
  await fits(page);
  await snap(page, 'wizard-7-review-mobile');
});
