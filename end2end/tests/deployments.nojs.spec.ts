import { test, expect } from './fixtures';
import { createDeployment } from './provision';

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
