import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

test('the searched deployments list fits a phone', async ({ page, request }) => {
  const tag = `mobfind${Date.now().toString(36)}`;
  await createDeployment(request, `${tag}0`);
  await page.goto(`/sovereign/deployments?q=${tag}`);
  await hydrated(page);
  await expect(page.getByTestId('deployment-row')).toHaveCount(1);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, 'deployments-search-mobile');
});
