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

test('without JavaScript a job has its own page: status, timings, cause, its neighbours as links and its log', async ({ page, request }) => {
  const id = await createDeployment(request, 'job-page-nojs');
  // Wait until apply is through and the hand-back waits for the cluster.
  await expect
    .poll(async () => (await (await request.get(`/sovereign/api/v1/deployments/${id}/jobs/cluster-handback`)).json()).job?.status, { timeout: 60_000 })
    .toBe('running');
  // From the jobs table: a component waiting for the hand-back.
  await page.goto(`/sovereign/provision/${id}/jobs?q=cilium`);
  await page.locator('tr[data-job="install-cilium"]').getByTestId('job-link').click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/provision/${id}/jobs/install-cilium$`));
  await expect(page.getByTestId('job-title')).toHaveText('cilium');
  await expect(page.getByTestId('job-status')).toHaveText('Waiting');
  await expect(page.getByTestId('job-page-cause')).toHaveText(/^Waiting for Cluster hand-back, which is running; it starts once that is done\.$/);
  await expect(page.getByTestId('job-times')).toContainText('Attempts');
  await snap(page, 'job-nojs');
  // Its dependency is a link to that job's page, which has a log and lists cilium as waiting for it.
  await page.getByTestId('job-upstream').getByRole('link', { name: 'Cluster hand-back' }).click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/provision/${id}/jobs/cluster-handback$`));
  await expect(page.getByTestId('job-status')).toHaveText('Running');
  await expect(page.getByTestId('job-log').getByTestId('flow-pane-line').first()).toContainText('Waiting for the control plane');
  await expect(page.getByTestId('job-downstream').getByRole('link', { name: 'cilium' })).toBeVisible();
  await page.getByTestId('job-on-canvas').click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/provision/${id}/flow\\?job=cluster-handback$`));
  await expect(page.getByTestId('flow-pane')).toContainText('Cluster hand-back');
  // From the timeline: a resource whose name has brackets and quotes (percent-encoded in the address).
  await page.goto(`/sovereign/provision/${id}/jobs/timeline`);
  const row = page.locator('g.tl-row[data-job^="tofu:hcloud_server."]').first();
  const name = (await row.getAttribute('data-job')) ?? '';
  expect(name).toContain('[');
  await row.locator('a').click();
  await expect(page.getByTestId('job-title')).toHaveText(name.replace(/^tofu:/, ''));
  await expect(page.getByTestId('job-status')).toHaveText('Done');
  await expect(page.getByTestId('job-duration')).not.toHaveText('—');
  // A job the run does not have says so.
  await page.goto(`/sovereign/provision/${id}/jobs/install-no-such-thing`);
  await expect(page.locator('body')).toContainText('The run has no job “install-no-such-thing”.');
});
