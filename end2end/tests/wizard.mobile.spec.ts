import { test, expect, snap } from './fixtures';
import { next, open } from './wizard';

test('on a phone the stepper collapses and every step still fits', async ({ page }) => {
  await open(page);
  await expect(page.getByTestId('stepper-compact')).toHaveText('Step 1 of 7 · Organisation');
  await expect(page.getByTestId('stepper-organisation')).toBeHidden();
  await snap(page, 'wizard-1-org-mobile');
  await next(page, 'topology');
  await snap(page, 'wizard-2-topology-mobile');
  await next(page, 'provider');
  await expect(page.getByTestId('stepper-compact')).toHaveText('Step 3 of 7 · Provider');
  // Nothing overflows the 390 px viewport.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await snap(page, 'wizard-3-provider-mobile');
  await next(page, 'credentials');
  await snap(page, 'wizard-4-credentials-mobile');
});
