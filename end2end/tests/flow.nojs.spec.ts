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
