import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';
import { fivePaged } from './deployments';

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

// Issue 25: pages are cut by cursor (in the URL), forward and back, and the region filter is part of the view.
test('pages forward and back by cursor and filters by region', async ({ page, request }) => {
  test.slow(); // five runs start on a loaded machine
  const tag = `pg${Date.now().toString(36)}`;
  await fivePaged(request, tag);
  const rows = page.getByTestId('deployment-row');
  const expectRows = async (...labels: string[]) => {
    await expect(rows).toHaveCount(labels.length, { timeout: 45_000 });
    for (const [i, label] of labels.entries()) await expect(rows.nth(i)).toContainText(`${tag}${label}-`);
  };
  await page.goto(`/sovereign/deployments?q=${tag}&sort=fqdn&dir=asc&perPage=2`);
  await hydrated(page);
  await expectRows('0', '1');
  await expect(page.getByTestId('pager-prev')).toHaveCount(0);
  await Promise.all([page.waitForURL(/[?&]after=/), page.getByTestId('pager-next').click()]);
  await expectRows('2', '3');
  await Promise.all([page.waitForURL(/[?&]after=/), page.getByTestId('pager-next').click()]);
  await expectRows('4');
  await expect(page.getByTestId('pager-next')).toHaveCount(0);
  await Promise.all([page.waitForURL(/[?&]before=/), page.getByTestId('pager-prev').click()]);
  await expectRows('2', '3');
  await Promise.all([page.waitForURL(/[?&]before=/), page.getByTestId('pager-prev').click()]);
  await expectRows('0', '1');
  await expect(page.getByTestId('pager-prev')).toHaveCount(0);
  // The region filter: three of the five are in Helsinki; the filtered list starts on its first page.
  await page.getByTestId('filter-region').selectOption('hel1');
  await Promise.all([page.waitForURL(/[?&]region=hel1/), page.getByRole('button', { name: 'Apply' }).click()]);
  await expect(page).not.toHaveURL(/after=|before=/);
  await expectRows('0', '1');
  await expect(page.getByTestId('deployments-total')).toHaveText('3 deployment(s)');
  await expect(page.getByTestId('count-all')).toHaveText('All 3');
  await snap(page, 'deployments-paged-region');
});
