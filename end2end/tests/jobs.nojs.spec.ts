import { test, expect, snap } from './fixtures';
import { createDeployment } from './provision';

test('without JavaScript the jobs table filters by its form and the timeline is drawn on the server', async ({ page, request }) => {
  const id = await createDeployment(request, 'jobs-nojs');
  await expect
    .poll(async () => (await (await request.get(`/sovereign/api/v1/deployments/${id}/jobs`)).json()).jobs.filter((j: { status: string }) => j.status === 'succeeded').length, { timeout: 30_000 })
    .toBeGreaterThan(3);
  await page.goto(`/sovereign/provision/${id}/jobs`);
  await expect(page.getByRole('heading', { name: 'Jobs of the run' })).toBeVisible();
  const all = await page.locator('tr[data-testid="job-row"]').count();
  expect(all).toBeGreaterThan(3);
  await page.getByTestId('jobs-filter-status').selectOption('succeeded');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/status=succeeded/);
  const statuses = await page.locator('tr[data-testid="job-row"] [data-status]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  expect(statuses.length).toBeGreaterThan(3);
  expect(new Set(statuses)).toEqual(new Set(['succeeded']));
  // A header sorts by its column (a plain link).
  await page.getByRole('link', { name: 'Job', exact: true }).click();
  await expect(page).toHaveURL(/sort=name/);
  await expect(page).toHaveURL(/status=succeeded/);
  await snap(page, 'jobs-nojs');
  await page.goto(`/sovereign/provision/${id}/jobs/timeline`);
  await expect(page.locator('g.tl-row')).toHaveCount(all);
  await snap(page, 'timeline-nojs');
});
