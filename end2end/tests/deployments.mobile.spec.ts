import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';
import { fivePaged } from './deployments';

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

test('a paged, region-filtered list fits a phone', async ({ page, request }) => {
  test.slow();
  const tag = `mpg${Date.now().toString(36)}`;
  await fivePaged(request, tag);
  await page.goto(`/sovereign/deployments?q=${tag}&region=hel1&sort=fqdn&dir=asc&perPage=2`);
  await hydrated(page);
  await expect(page.getByTestId('deployment-row')).toHaveCount(2);
  await page.getByTestId('pager-next').click();
  await expect(page.getByTestId('deployment-row')).toHaveCount(1, { timeout: 45_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, 'deployments-paged-mobile');
});
