import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

test('the flow fits a phone: the canvas scrolls inside its frame and the list carries the same steps', async ({ page, context, request, baseURL }) => {
  const id = await createDeployment(request, 'slow-flow-mobile');
  await page.goto(`/sovereign/provision/${id}/flow`);
  await hydrated(page);
  await expect(page.locator('g.flow-node[data-node="cluster-handback"]')).toHaveClass(/flow-running/, { timeout: 60_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  const nodes = await page.locator('g.flow-node').count();
  await expect(page.getByTestId('flow-list').locator('li')).toHaveCount(nodes);
  await snap(page, 'flow-mobile');
  await context.addCookies([{ name: 'catalyst_theme', value: 'light', url: baseURL ?? 'http://127.0.0.1:3000' }]);
  await page.reload();
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await snap(page, 'flow-mobile-light');
});
