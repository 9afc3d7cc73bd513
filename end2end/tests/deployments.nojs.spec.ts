import { test, expect } from './fixtures';
import { createDeployment } from './provision';
import { fivePaged } from './deployments';

// Without JavaScript the search is a plain GET form and the per-status counts are links.
test('without JavaScript the list searches and filters by status through the URL', async ({ page, request }) => {
  const tag = `nojsfind${Date.now().toString(36)}`;
  for (let i = 0; i < 3; i++) await createDeployment(request, `${tag}${i}`);
  await page.goto('/sovereign/deployments');
  await page.getByTestId('filter-search').fill(`${tag}1`);
  await page.getByTestId('filter-search').press('Enter');
  await expect(page).toHaveURL(new RegExp(`[?&]q=${tag}1`));
  await expect(page.getByTestId('deployment-row')).toHaveCount(1);
  await expect(page.getByTestId('deployment-row')).toContainText(`${tag}1-`);
  await page.goto(`/sovereign/deployments?q=${tag}`);
  await expect(page.getByTestId('deployment-row')).toHaveCount(3);
  await expect(page.getByTestId('count-all')).toHaveText('All 3');
  // A count link keeps the search and adds its status.
  const link = page.getByTestId('status-counts').locator('a').nth(1);
  const href = await link.getAttribute('href');
  expect(href).toContain(`q=${tag}`);
  expect(href).toContain('status=');
});

// Without JavaScript the pager's links and the region filter are plain URLs.
test('without JavaScript the list pages by cursor links and filters by region', async ({ page, request }) => {
  test.slow();
  const tag = `npg${Date.now().toString(36)}`;
  await fivePaged(request, tag);
  const rows = page.getByTestId('deployment-row');
  const expectRows = async (...labels: string[]) => {
    await expect(rows).toHaveCount(labels.length);
    for (const [i, label] of labels.entries()) await expect(rows.nth(i)).toContainText(`${tag}${label}-`);
  };
  await page.goto(`/sovereign/deployments?q=${tag}&sort=fqdn&dir=asc&perPage=2`);
  await expectRows('0', '1');
  await page.getByTestId('pager-next').click();
  await expect(page).toHaveURL(/[?&]after=/);
  await expectRows('2', '3');
  await page.getByTestId('pager-next').click();
  await expectRows('4');
  await page.getByTestId('pager-prev').click();
  await expect(page).toHaveURL(/[?&]before=/);
  await expectRows('2', '3');
  await page.getByTestId('filter-region').selectOption('hel1');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/[?&]region=hel1/);
  await expectRows('0', '1');
  await expect(page.getByTestId('deployments-total')).toHaveText('3 deployment(s)');
  await page.getByTestId('pager-next').click();
  await expectRows('2');
});
