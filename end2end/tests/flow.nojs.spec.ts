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
