import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

test('the jobs table follows the run live, filters and sorts, and agrees with the timeline', async ({ page, request }) => {
  const id = await createDeployment(request, 'slow-jobs');
  await page.goto(`/sovereign/provision/${id}`);
  await hydrated(page);
  await page.getByTestId('jobs-link').click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/provision/${id}/jobs$`));
  await hydrated(page);
  const table = page.getByTestId('jobs-table');
  await expect(table.locator('tr[data-job="cluster-handback"]')).toBeVisible({ timeout: 30_000 });
  // Live: the hand-back starts without a reload, and running jobs come first.
  await expect(table.locator('tr[data-job="cluster-handback"] [data-status="running"]')).toBeVisible({ timeout: 60_000 });
  await expect(table.locator('tr[data-testid="job-row"]').first().locator('[data-status]')).toHaveAttribute('data-status', 'running');
  await snap(page, 'jobs-desktop');

  // The cloud resources are done: their durations are fixed, and the timeline shows the same ones.
  await page.goto(`/sovereign/provision/${id}/jobs?batch=infrastructure&sort=name`);
  await hydrated(page);
  const rows = page.locator('tr[data-testid="job-row"]');
  await expect(rows.first()).toBeVisible();
  const fromTable = await rows.evaluateAll((trs) =>
    trs.map((tr) => [tr.getAttribute('data-job'), tr.querySelector('[data-testid="job-duration"]')?.textContent?.trim()]),
  );
  expect(fromTable.length).toBeGreaterThan(5);
  expect(fromTable.map(([name]) => name)).toEqual([...fromTable.map(([name]) => name)].sort());
  await page.getByTestId('run-tab-timeline').click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/provision/${id}/jobs/timeline$`));
  await hydrated(page);
  const onTimeline = async () => {
    const bars = await page.locator('g.tl-row').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-job'), g.getAttribute('data-duration')]));
    const byName = new Map(bars.map(([name, duration]) => [name, duration]));
    return fromTable.map(([name]) => [name, byName.get(name)]);
  };
  await expect.poll(onTimeline).toEqual(fromTable);
  await snap(page, 'timeline-desktop');

  // Words that match nothing: the table says so and how to get the rows back.
  await page.goto(`/sovereign/provision/${id}/jobs?q=no-such-job`);
  await hydrated(page);
  await expect(page.getByTestId('jobs-empty')).toContainText('No job matches');
});
