import { test, expect } from './fixtures';
import { createDeployment } from './provision';

test('without JavaScript the deployment page renders its state and log', async ({ page, request }) => {
  const id = await createDeployment(request, 'nojs');
  await expect
    .poll(async () => (await (await request.get(`/sovereign/api/v1/deployments/${id}`)).json()).status, { timeout: 30_000 })
    .toBe('waiting-for-cluster');
  await page.goto(`/sovereign/provision/${id}`);
  await expect(page.getByTestId('deployment-status')).toContainText('Waiting for the cluster');
  await expect(page.getByTestId('phase-tofu-apply')).toHaveAttribute('data-state', 'succeeded');
  await expect(page.getByTestId('log-line').first()).toBeVisible();
  await expect(page.getByTestId('resource-row')).toHaveCount(14);
  await page.goto('/sovereign/deployments');
  await expect(page.getByTestId('deployments-table')).toContainText('nojs-');
});

test('an unknown deployment says so', async ({ page }) => {
  const res = await page.goto('/sovereign/provision/doesnotexist');
  expect(res?.status()).toBeLessThan(500);
  await expect(page.getByRole('alert')).toContainText('There is no deployment');
});
