import { test, expect, hydrated, snap } from './fixtures';
import { createDeployment } from './provision';

test('the flow canvas grows live from the first OpenTofu resource, and a status change moves no node', async ({ page, request }) => {
  const id = await createDeployment(request, 'very-slow-flow');
  await page.goto(`/sovereign/provision/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('flow-link')).toHaveAttribute('href', `/sovereign/provision/${id}/flow`);
  await page.goto(`/sovereign/provision/${id}/flow`);
  await hydrated(page);
  const canvas = page.getByTestId('flow-canvas');
  // The server rendered the run as far as it was; the rest arrives over the stream, without a reload.
  await expect(canvas.locator('g.flow-node[data-node^="tofu:"]').first()).toBeVisible({ timeout: 30_000 });
  await expect(canvas.locator('g.flow-node[data-node="cluster-handback"]')).toBeVisible();
  expect(await canvas.locator('g.flow-node[data-node^="install-"]').count()).toBeGreaterThan(5);
  await expect(canvas.locator('g.flow-node.flow-running[data-node^="tofu:"]').first()).toBeVisible({ timeout: 30_000 });
  const handback = canvas.locator('g.flow-node[data-node="cluster-handback"]');
  const cilium = canvas.locator('g.flow-node[data-node="install-cilium"]');
  const before = [await handback.getAttribute('transform'), await cilium.getAttribute('transform')];
  await snap(page, 'flow-live-desktop');
  // Apply finishes and the hand-back starts: colours change, places do not.
  await expect(handback).toHaveClass(/flow-running/, { timeout: 60_000 });
  expect([await handback.getAttribute('transform'), await cilium.getAttribute('transform')]).toEqual(before);
  await expect(canvas.locator('g.flow-node.flow-running[data-node^="tofu:"]')).toHaveCount(0);
  await expect(page.getByTestId('flow-list')).toContainText('Cluster hand-back: Running');
  await snap(page, 'flow-waiting-desktop');
});

test('keyboard alone reaches every node of the flow, with a visible focus', async ({ page, request }) => {
  // A slow run: statuses keep changing while the keyboard walks, and no update may take the focus away.
  const id = await createDeployment(request, 'slow-flow-keys');
  await page.goto(`/sovereign/provision/${id}/flow`);
  await hydrated(page);
  const nodes = page.locator('g.flow-node');
  // The whole plan is on the canvas (resources, the hand-back, the releases) before the walk starts.
  await expect(page.locator('g.flow-node[data-node="cluster-handback"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator('g.flow-node[data-node="install-cilium"]')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('heading', { name: 'Flow of the run' }).click();
  // Tab until the first node has focus, then through all of them.
  let guard = 0;
  while (!(await page.evaluate(() => document.activeElement?.classList.contains('flow-node'))) && guard++ < 40) {
    await page.keyboard.press('Tab');
  }
  const total = await nodes.count();
  const reached = new Set<string>();
  for (let i = 0; i < total; i++) {
    const name = await page.evaluate(() => document.activeElement?.getAttribute('data-node') ?? '');
    reached.add(name);
    if (i === 0) {
      const width = await page.evaluate(() => getComputedStyle(document.activeElement!.querySelector('rect')!).strokeWidth);
      expect(width).toBe('4px');
    }
    await page.keyboard.press('Tab');
  }
  const all = await nodes.evaluateAll((els) => els.map((e) => e.getAttribute('data-node') ?? ''));
  expect([...reached].sort()).toEqual([...all].sort());
  // Each node says what it is and how it is doing.
  await expect(page.locator('g.flow-node[data-node="cluster-handback"]')).toHaveAttribute('aria-label', /Cluster hand-back, cluster hand-back: /);
});

test('the flow in the light theme: the same graph, and axe finds no serious problem', async ({ page, context, request, baseURL }) => {
  const id = await createDeployment(request, 'slow-flow-light');
  await context.addCookies([{ name: 'catalyst_theme', value: 'light', url: baseURL ?? 'http://127.0.0.1:3000' }]);
  await page.goto(`/sovereign/provision/${id}/flow`);
  await hydrated(page);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(page.locator('g.flow-node.flow-succeeded[data-node^="tofu:"]').first()).toBeVisible({ timeout: 30_000 });
  await snap(page, 'flow-light-desktop');
});

test('the canvas folds a phase, zooms, and opens a step’s log in a pane, by mouse and by keyboard', async ({ page, request }) => {
  const id = await createDeployment(request, 'slow-flow-pane');
  await page.goto(`/sovereign/provision/${id}/flow`);
  await hydrated(page);
  const canvas = page.getByTestId('flow-canvas');
  const handback = canvas.locator('g.flow-node[data-node="cluster-handback"]');
  await expect(handback).toBeVisible({ timeout: 30_000 });
  // A click opens the step's log.
  await handback.click();
  await expect(page).toHaveURL(/job=cluster-handback/);
  const pane = page.getByTestId('flow-pane');
  await expect(pane).toContainText('Cluster hand-back');
  await expect(pane.getByTestId('flow-pane-line').first()).toBeVisible({ timeout: 30_000 });
  await snap(page, 'flow-pane-desktop');
  // Escape closes it; Enter on a focused step opens it again.
  await handback.focus();
  await page.keyboard.press('Escape');
  await expect(pane).toHaveCount(0);
  await handback.focus();
  await page.keyboard.press('Enter');
  await expect(pane).toContainText('Cluster hand-back');
  // Zoom: the canvas grows, the level says so.
  const width = Number(await canvas.locator('svg').getAttribute('width'));
  await page.getByTestId('zoom-in').click();
  await expect(page.getByTestId('zoom-level')).toHaveText('125 %');
  expect(Number(await canvas.locator('svg').getAttribute('width'))).toBeGreaterThan(width);
  await handback.focus();
  await page.keyboard.press('-');
  await expect(page.getByTestId('zoom-level')).toHaveText('100 %');
  // Folding the cloud resources leaves one node for them; Enter on it unfolds.
  await page.getByTestId('fold-infrastructure').click();
  const group = canvas.locator('g.flow-node[data-node="group:infrastructure"]');
  await expect(group).toBeVisible();
  await expect(canvas.locator('g.flow-node[data-node^="tofu:"]')).toHaveCount(0);
  await snap(page, 'flow-folded-desktop');
  await group.focus();
  await page.keyboard.press('Enter');
  await expect(canvas.locator('g.flow-node[data-node^="tofu:"]').first()).toBeVisible();
});

test('a double-click opens a step’s page; the critical path is outlined; a waiting step says what it waits for', async ({ page, request }) => {
  const id = await createDeployment(request, 'slow-flow-critical');
  await page.goto(`/sovereign/provision/${id}/flow`);
  await hydrated(page);
  const canvas = page.getByTestId('flow-canvas');
  const handback = canvas.locator('g.flow-node[data-node="cluster-handback"]');
  await expect(handback).toHaveClass(/flow-running/, { timeout: 60_000 });
  // The path ends at the hand-back (the job that got furthest) and starts at a resource.
  await expect(handback).toHaveClass(/flow-critical/);
  await expect(canvas.locator('g.flow-node.flow-critical[data-node^="tofu:"]').first()).toBeVisible();
  await expect(canvas.locator('path.flow-edge-critical').first()).toBeAttached();
  await expect(page.getByTestId('flow-critical-legend')).toContainText('the critical path');
  const cilium = canvas.locator('g.flow-node[data-node="install-cilium"]');
  await expect(cilium.getByTestId('flow-node-cause')).toHaveText('waits for Cluster hand-back');
  await cilium.click();
  await expect(page.getByTestId('flow-pane-cause')).toHaveText(/^Waiting for Cluster hand-back, which is running/);
  await snap(page, 'flow-critical-desktop');
  await cilium.dblclick();
  await expect(page).toHaveURL(new RegExp(`/sovereign/provision/${id}/jobs/install-cilium$`));
  await expect(page.getByTestId('job-title')).toHaveText('cilium');
  await page.getByTestId('run-tab-timeline').click();
  await expect(page.getByTestId('timeline-critical-legend')).toBeVisible();
  await expect(page.locator('g.tl-row.tl-critical[data-job="cluster-handback"]')).toBeAttached();
});
