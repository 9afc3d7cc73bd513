import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

test('the deployment page fits a phone', async ({ page, request }) => {
  const id = await createDeployment(request, 'slow-mobile');
  await page.goto(`/sovereign/provision/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('deployment-status')).toContainText('Waiting for the cluster', { timeout: 40_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, 'provision-mobile');
  await page.goto('/sovereign/deployments');
  await hydrated(page);
  await snap(page, 'deployments-mobile');
});
