import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

test('the jobs table and the timeline fit a phone', async ({ page, request }) => {
  const id = await createDeployment(request, 'slow-jobs-mobile');
  for (const [path, name] of [['jobs', 'jobs-mobile'], ['jobs/timeline', 'timeline-mobile']]) {
    await page.goto(`/sovereign/provision/${id}/${path}`);
    await hydrated(page);
    await expect(page.locator('[data-job="cluster-handback"]')).toBeVisible({ timeout: 30_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await snap(page, name);
  }
});

test('a job’s page fits a phone', async ({ page, request }) => {
  const id = await createDeployment(request, 'slow-job-mobile');
  // The components' jobs exist once the GitOps tree is pushed.
  await expect
    .poll(async () => (await request.get(`/sovereign/api/v1/deployments/${id}/jobs/install-cilium`)).status(), { timeout: 30_000 })
    .toBe(200);
  await page.goto(`/sovereign/provision/${id}/jobs/install-cilium`);
  await hydrated(page);
  await expect(page.getByTestId('job-page-cause')).toContainText('Waiting for', { timeout: 30_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await snap(page, 'job-mobile');
});
