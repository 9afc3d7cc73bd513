import { test, expect, accessibilityProblems, hydrated, snap } from './fixtures';

test('a control that calls a server function works after hydration', async ({ page }) => {
  await page.goto('/sovereign');
  await hydrated(page);
  await expect(page.getByTestId('check-result')).toHaveText('Not checked yet in this session.');
  let navigated = false;
  page.on('framenavigated', () => (navigated = true));
  await page.getByTestId('check-db').click();
  await expect(page.getByTestId('check-result')).toHaveText(/(SQLite|PostgreSQL) answered in \d+\.\d\d ms/);
  expect(navigated, 'the check ran in place, without a page load').toBe(false);
  await snap(page, 'home-desktop');
});

test('the theme choice survives a reload', async ({ page }) => {
  await page.goto('/sovereign');
  await hydrated(page);
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'light');
  await hydrated(page);
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
});

test('the light theme passes the same accessibility check as the dark one', async ({ page, context, baseURL }) => {
  // snap() checks every page the tests picture, in the dark theme they start in; this is the light one.
  await context.addCookies([{ name: 'catalyst_theme', value: 'light', url: baseURL ?? 'http://127.0.0.1:3000' }]);
  for (const path of ['', '/wizard/organisation', '/marketplace', '/marketplace/product/neo4j', '/deployments', '/users', '/audit', '/settings/tokens', '/settings/account']) {
    await page.goto(`/sovereign${path}`);
    await hydrated(page);
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    expect(await accessibilityProblems(page), `accessibility of /sovereign${path} in the light theme`).toEqual([]);
  }
  // And a deployment's live page, when earlier tests have launched one (its phases, logs and status colours).
  await page.goto('/sovereign/deployments');
  const first = page.getByTestId('deployment-row').first().getByRole('link').first();
  if ((await first.count()) > 0) {
    await first.click();
    await expect(page).toHaveURL(/\/sovereign\/provision\//);
    await hydrated(page);
    expect(await accessibilityProblems(page), 'accessibility of a deployment page in the light theme').toEqual([]);
  }
});

test('the 404 page hydrates without errors and links home', async ({ page }) => {
  const res = await page.goto('/sovereign/nope');
  expect(res?.status()).toBe(404);
  await hydrated(page);
  await page.getByRole('link', { name: 'Back to the overview' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Launch your Sovereign');
});
