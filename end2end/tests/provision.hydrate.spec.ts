import { test, expect, hydrated, snap, STATE, SIGNED_OUT } from './fixtures';
import { createDeployment } from './provision';

test('the deployment page shows live progress and survives a reload mid-run', async ({ page, request }) => {
  const id = await createDeployment(request, 'very-slow-live');
  await page.goto(`/sovereign/provision/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('link-state')).toHaveText(/Live|Finished/);
  // Lines arrive while we watch.
  await expect(page.getByTestId('phase-tofu-apply')).toHaveAttribute('data-state', 'running', { timeout: 20_000 });
  const before = await page.getByTestId('log-line').count();
  await expect.poll(async () => page.getByTestId('log-line').count(), { timeout: 10_000 }).toBeGreaterThan(before);
  await expect(page.locator('[data-testid="resource-row"]').first()).toBeVisible();
  await snap(page, 'provision-live-desktop');

  // Reload in the middle of apply: the page comes back with the same history and continues live.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('phase-tofu-apply')).toHaveAttribute('data-state', /running|succeeded/);
  await expect(page.getByTestId('deployment-status')).toContainText('Waiting for the cluster', { timeout: 40_000 });
  // Every line once, in order.
  const seqs = await page.getByTestId('log-line').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
  expect(seqs.length).toBeGreaterThan(20);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  await expect(page.getByTestId('phase-tofu-output')).toHaveAttribute('data-state', 'succeeded');

  // Level filter and follow/pause.
  const all = await page.getByTestId('log-line').count();
  await page.getByTestId('level-filter').selectOption('warn');
  await expect.poll(async () => page.getByTestId('log-line').count()).toBeLessThan(all);
  const classes = await page.getByTestId('log-line').evaluateAll((els) => els.map((e) => e.className));
  expect(classes.every((c) => /\blog-(warn|error)\b/.test(c)), classes.join(' | ')).toBe(true);
  if (classes.length === 0) await expect(page.getByText('No lines at this level yet.')).toBeVisible();
  await page.getByTestId('level-filter').selectOption('info');
  await expect.poll(async () => page.getByTestId('log-line').count()).toBeGreaterThanOrEqual(all);
  await page.getByTestId('follow-toggle').click();
  await expect(page.getByTestId('follow-toggle')).toHaveAttribute('aria-pressed', 'false');
  await snap(page, 'provision-waiting-desktop');
});

test('a failed run shows the error with what to do, and retry starts again', async ({ page, request }) => {
  const id = await createDeployment(request, 'fail-apply-e2e');
  await page.goto(`/sovereign/provision/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('error-panel')).toContainText('resource_unavailable', { timeout: 30_000 });
  await expect(page.getByTestId('error-panel')).toContainText('Retry re-runs OpenTofu');
  await expect(page.getByTestId('link-state')).toHaveText('Finished');
  await snap(page, 'provision-failed-desktop');
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('deployment-status')).toContainText(/Provisioning|Failed/);
  await expect(page.getByTestId('phase-tofu-init')).toHaveAttribute('data-state', /running|succeeded/, { timeout: 20_000 });
});

test('the deployments list links to each deployment and filters by status', async ({ page, request }) => {
  const id = await createDeployment(request, 'listed');
  await page.goto('/sovereign/deployments');
  await hydrated(page);
  await expect(page.getByRole('link', { name: 'Deployments', exact: true })).toHaveAttribute('aria-current', 'page');
  const row = page.locator(`a[href="/sovereign/provision/${id}"]`);
  await expect(row).toBeVisible();
  await page.getByTestId('filter-status').selectOption('wiped');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/status=wiped/);
  await expect(page.getByTestId('deployments-empty')).toBeVisible();
  await snap(page, 'deployments-empty-desktop');
});

test.describe('as a viewer of the organisation', () => {
  test.use({ storageState: STATE.viewer });

  test('the deployment page shows the run but offers no actions, and the API refuses them', async ({ page, request, browser }) => {
    // Created by the superadmin; the viewer is a member of the same (default) organisation.
    const admin = await browser.newContext({ storageState: STATE.admin });
    const id = await createDeployment(admin.request, 'fail-apply-viewer');
    await page.goto(`/sovereign/provision/${id}`);
    await hydrated(page);
    await expect(page.getByTestId('error-panel')).toContainText('resource_unavailable', { timeout: 30_000 });
    await expect(page.getByRole('button', { name: 'Retry' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0);
    // The hint that tells an editor to retry is replaced by who can.
    await expect(page.getByTestId('error-panel')).not.toContainText('Retry re-runs OpenTofu');
    await expect(page.getByTestId('retry-elsewhere')).toContainText('can fix the cause and retry it');
    await snap(page, 'provision-viewer-desktop');
    const origin = new URL(page.url()).origin;
    const retry = await request.post(`/sovereign/api/v1/deployments/${id}/retry`, { headers: { origin } });
    expect(retry.status()).toBe(403);
    expect(await retry.text()).toContain('deployments.retry');
    const del = await request.delete(`/sovereign/api/v1/deployments/${id}`, { headers: { origin } });
    expect(del.status()).toBe(403);
    expect(await del.text()).toContain('deployments.delete');
    await admin.close();
  });
});

test.describe('signed out', () => {
  test.use({ storageState: SIGNED_OUT });

  test('deployment pages lead to the sign-in page and the API answers 401', async ({ page, request }) => {
    await page.goto('/sovereign/deployments');
    await expect(page).toHaveURL(/\/sovereign\/login/);
    const res = await request.get('/sovereign/api/v1/deployments');
    expect(res.status()).toBe(401);
    const stream = await request.get('/sovereign/api/v1/deployments/anything/stream');
    expect(stream.status()).toBe(401);
  });
});
