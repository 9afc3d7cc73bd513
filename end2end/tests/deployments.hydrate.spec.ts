import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

// Issue 25: a person finds one deployment among many by searching, and the view is in the URL.
test('search finds one deployment among many and the view is a shareable URL', async ({ page, request }) => {
  test.slow(); // six runs start on a loaded machine
  const tag = `find${Date.now().toString(36)}`;
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push(await createDeployment(request, `${tag}${i}`));
  await page.goto('/sovereign/deployments');
  await hydrated(page);
  await expect(page.getByTestId('status-counts')).toBeVisible();
  await page.getByTestId('filter-search').fill(`${tag}3`);
  await Promise.all([page.waitForURL(new RegExp(`[?&]q=${tag}3`)), page.getByTestId('filter-search').press('Enter')]);
  await expect(page.getByTestId('deployment-row')).toHaveCount(1, { timeout: 45_000 });
  await expect(page.getByTestId('deployment-row')).toContainText(`${tag}3-`);
  // The counts follow the search: one deployment in all.
  await expect(page.getByTestId('count-all')).toHaveText('All 1');
  await snap(page, 'deployments-search');
  // The same URL shows the same view to whoever opens it.
  const shared = page.url();
  await page.goto(shared);
  await expect(page.getByTestId('deployment-row')).toHaveCount(1);
  // A search that matches nothing says what can be searched.
  await page.goto(`/sovereign/deployments?q=${tag}-nothing`);
  await expect(page.getByTestId('deployments-empty')).toContainText('No deployment matches this search');
});
