import { test, expect, snap } from './fixtures';
import { createDeployment } from './provision';

test('without JavaScript the flow page is the server-rendered canvas and its list', async ({ page, request }) => {
  const id = await createDeployment(request, 'flow-nojs');
  // Let the run plan, so there is something to draw.
  await expect
    .poll(async () => (await (await request.get(`/sovereign/api/v1/deployments/${id}/jobs`)).json()).jobs.length, { timeout: 30_000 })
    .toBeGreaterThan(3);
  await page.goto(`/sovereign/provision/${id}/flow`);
  await expect(page.getByRole('heading', { name: 'Flow of the run' })).toBeVisible();
  const nodes = await page.locator('g.flow-node').count();
  expect(nodes).toBeGreaterThan(3);
  await expect(page.getByTestId('flow-list').locator('li')).toHaveCount(nodes);
  await snap(page, 'flow-nojs');
});

test('without JavaScript a folded phase and a step’s log are links the server renders', async ({ page, request }) => {
  const id = await createDeployment(request, 'flow-pane-nojs');
  // Wait for the plan's resources (the releases are listed earlier).
  await expect
    .poll(async () => (await (await request.get(`/sovereign/api/v1/deployments/${id}/jobs`)).json()).jobs.filter((j: { kind: string }) => j.kind === 'resource').length, { timeout: 30_000 })
    .toBeGreaterThan(3);
  await page.goto(`/sovereign/provision/${id}/flow`);
  await page.getByTestId('fold-infrastructure').click();
  await expect(page).toHaveURL(/fold=infrastructure/);
  await expect(page.locator('g.flow-node[data-node="group:infrastructure"]')).toHaveCount(1);
  await expect(page.locator('g.flow-node[data-node^="tofu:"]')).toHaveCount(0);
  await page.goto(`/sovereign/provision/${id}/flow?job=cluster-handback`);
  await expect(page.getByTestId('flow-pane')).toContainText('Cluster hand-back');
  await page.getByTestId('flow-pane-close').click();
  await expect(page.getByTestId('flow-pane')).toHaveCount(0);
});

test('without JavaScript a failed step and the steps it holds up each say why, on the canvas, the jobs table and the timeline', async ({ page, request }) => {
  // The stand-in's apply fails at the load balancer (Hetzner's resource_unavailable) every time.
  const id = await createDeployment(request, 'fail-apply-cause');
  await expect
    .poll(async () => (await (await request.get(`/sovereign/api/v1/deployments/${id}`)).json()).status, { timeout: 60_000 })
    .toBe('failed');
  await page.goto(`/sovereign/provision/${id}/flow`);
  const lb = page.locator('g.flow-node.flow-failed[data-node^="tofu:hcloud_load_balancer."]').first();
  await expect(lb.getByTestId('flow-node-cause')).toHaveText('Hetzner has none now');
  await expect(lb).toHaveAttribute('aria-label', /resource_unavailable\): retry later/);
  const list = page.getByTestId('flow-list');
  await expect(list.getByTestId('flow-cause').filter({ hasText: 'Hetzner has none of what this resource needs' })).toHaveCount(1);
  // A component waits for the hand-back, which waits for the failed load balancer: the sentence names the chain.
  await expect(list.locator('li', { hasText: 'cilium' }).getByTestId('flow-cause')).toHaveText(
    /^Blocked: it waits for Cluster hand-back, which waits for hcloud_load_balancer\.[^,]+, which failed; fix /,
  );
  // Never the library's own text.
  await expect(page.locator('body')).not.toContainText('TOFU_STANDIN_FAIL_RESOURCE');
  await snap(page, 'flow-cause-nojs');
  await page.goto(`/sovereign/provision/${id}/jobs?status=failed`);
  await expect(page.getByTestId('job-cause').first()).toContainText('Hetzner has none of what this resource needs');
  await page.goto(`/sovereign/provision/${id}/jobs/timeline`);
  await expect(page.getByTestId('timeline-causes')).toContainText('Blocked: it waits for Cluster hand-back');
  await expect(page.locator('body')).not.toContainText('TOFU_STANDIN_FAIL_RESOURCE');
});
