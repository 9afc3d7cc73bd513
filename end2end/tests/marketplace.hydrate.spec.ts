import { test, expect, hydrated, snap } from './fixtures';
import type { Page } from '@playwright/test';

const cards = (page: Page) => page.locator('[data-testid="component-card"]:visible');
const card = (page: Page, id: string) => page.locator(`[data-testid="component-card"][data-id="${id}"]`);

async function openMarketplace(page: Page) {
  await page.goto('/sovereign/marketplace');
  await hydrated(page);
  await expect(page.getByTestId('selected-count')).toHaveText('Selected 50 of 70');
}

test('search filters the cards by name, id, description and family', async ({ page }) => {
  await openMarketplace(page);
  await expect(cards(page)).toHaveCount(41);
  await page.getByTestId('search').fill('grafana');
  await expect(cards(page)).toHaveCount(1);
  await expect(cards(page).first()).toHaveAttribute('data-id', 'grafana');
  // Family subtitle and description words match too.
  await page.getByTestId('search').fill('machine learning');
  await expect(cards(page)).toHaveCount(8);
  await page.getByTestId('search').fill('no-such-thing');
  await expect(cards(page)).toHaveCount(0);
  await expect(page.getByTestId('empty')).toHaveText('No components match your filters.');
  await page.getByTestId('search').fill('');
  await expect(cards(page)).toHaveCount(41);
});

test('a family chip filters to that family and toggles off again', async ({ page }) => {
  await openMarketplace(page);
  const chip = page.getByRole('group', { name: 'Filter by family' }).getByRole('button', { name: 'RELAY' });
  await chip.click();
  await expect(chip).toHaveAttribute('aria-pressed', 'true');
  await expect(cards(page)).toHaveCount(5);
  for (const c of await cards(page).all()) {
    await expect(c.locator('.chip-family')).toHaveText('RELAY');
  }
  await chip.click();
  await expect(cards(page)).toHaveCount(41);
});

test('selecting a CORTEX member adds the whole family and says so', async ({ page }) => {
  await openMarketplace(page);
  await expect(card(page, 'neo4j')).toHaveAttribute('data-selected', 'false');
  await card(page, 'neo4j').getByTestId('toggle').click();
  const toast = page.getByTestId('toast').last();
  await expect(toast).toContainText('Added Neo4j. Also added the CORTEX family:');
  await expect(toast).toContainText('LibreChat');
  for (const id of ['neo4j', 'knative', 'vllm', 'milvus', 'bge', 'langfuse', 'librechat', 'ferretdb']) {
    await expect(card(page, id)).toHaveAttribute('data-selected', 'true');
  }
  // 50 defaults + 7 CORTEX members not yet selected + FerretDB (LibreChat needs it).
  await expect(page.getByTestId('selected-count')).toHaveText('Selected 58 of 70');
  await expect(page.getByRole('tab', { name: /Choose your stack/ })).toHaveText('Choose your stack (31)');
  await snap(page, 'marketplace-desktop');
});

test('removing a component with dependents asks first, keeps on Escape, then removes them all', async ({ page }) => {
  await openMarketplace(page);
  await card(page, 'librechat').getByTestId('toggle').click();
  await expect(card(page, 'ferretdb')).toHaveAttribute('data-selected', 'true');
  const toggle = card(page, 'ferretdb').getByTestId('toggle');
  await toggle.click();
  const dialog = page.getByTestId('removal-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading')).toHaveText('Remove FerretDB?');
  await expect(dialog).toContainText('FerretDB is used by 1 other component. Removing it will also remove:');
  await expect(page.getByTestId('removal-list').locator('li')).toHaveText(['LibreChat']);
  // Focus starts on the safe choice and stays inside the dialog.
  const keep = dialog.getByRole('button', { name: 'Keep' });
  const removeAll = dialog.getByRole('button', { name: 'Remove all' });
  await expect(keep).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(removeAll).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(keep).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(removeAll).toBeFocused();
  await snap(page, 'marketplace-dialog');
  // Escape keeps everything and returns focus to the toggle.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(toggle).toBeFocused();
  await expect(card(page, 'ferretdb')).toHaveAttribute('data-selected', 'true');
  await expect(card(page, 'librechat')).toHaveAttribute('data-selected', 'true');
  // Again, with the keyboard, and confirm.
  await page.keyboard.press('Enter');
  await expect(dialog).toBeVisible();
  await removeAll.click();
  await expect(dialog).toBeHidden();
  await expect(card(page, 'ferretdb')).toHaveAttribute('data-selected', 'false');
  await expect(card(page, 'librechat')).toHaveAttribute('data-selected', 'false');
  await expect(page.getByTestId('toast').last()).toHaveText(/Removed FerretDB\. Also removed: LibreChat\./);
  // A component nothing depends on goes without asking.
  await card(page, 'ntfy').getByTestId('toggle').click();
  await expect(card(page, 'ntfy')).toHaveAttribute('data-selected', 'true');
  await card(page, 'ntfy').getByTestId('toggle').click();
  await expect(dialog).toBeHidden();
  await expect(card(page, 'ntfy')).toHaveAttribute('data-selected', 'false');
  await expect(page.getByTestId('toast').last()).toHaveText(/Removed ntfy\./);
});

test('reset to defaults restores the default selection', async ({ page }) => {
  await openMarketplace(page);
  await card(page, 'grafana').getByTestId('toggle').click();
  await expect(page.getByTestId('selected-count')).toHaveText('Selected 49 of 70');
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('selected-count')).toHaveText('Selected 50 of 70');
  await expect(card(page, 'grafana')).toHaveAttribute('data-selected', 'true');
});

test('the tabs switch with the keyboard and list the always-included components', async ({ page }) => {
  await openMarketplace(page);
  const choose = page.getByRole('tab', { name: /Choose your stack/ });
  await expect(choose).toHaveText('Choose your stack (23)');
  await choose.focus();
  await page.keyboard.press('ArrowRight');
  const always = page.getByRole('tab', { name: 'Always included (27)' });
  await expect(always).toHaveAttribute('aria-selected', 'true');
  await expect(always).toBeFocused();
  const panel = page.getByRole('tabpanel', { name: 'Always included (27)' });
  await expect(panel.locator('.always-item')).toHaveCount(27);
  await expect(panel).toContainText('Always installed: required by');
  await snap(page, 'marketplace-always');
});

test('the product page links to its dependencies and shows mandatory ones as always installed', async ({ page }) => {
  await page.goto('/sovereign/marketplace/product/harbor');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Harbor');
  await expect(page.getByTestId('always-installed')).toHaveText('Always installed');
  const deps = page.getByTestId('depends-on').getByRole('link');
  await expect(deps).toHaveText(['CloudNativePG', 'Envoy Gateway', 'Keycloak', 'OpenBao', 'SeaweedFS', 'Valkey']);
  await deps.first().click();
  await expect(page).toHaveURL(/\/sovereign\/marketplace\/product\/cnpg$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('CloudNativePG');
  await expect(page.getByTestId('why')).toContainText('Always installed: required by Gitea, Harbor');
  await expect(page.getByTestId('depended-on-by').getByRole('link', { name: 'Temporal' })).toBeVisible();
  await snap(page, 'product-desktop');
});

test('the product page adds and removes, and the selection follows to the grid', async ({ page }) => {
  await page.goto('/sovereign/marketplace/product/strimzi');
  await hydrated(page);
  const button = page.getByTestId('product-toggle');
  await expect(button).toHaveText('Remove from stack');
  await button.click();
  // Debezium needs Strimzi: the dialog asks first.
  await expect(page.getByTestId('removal-list').locator('li')).toHaveText(['Debezium']);
  await page.getByTestId('confirm-remove').click();
  await expect(button).toHaveText('Add to stack');
  await expect(page.getByTestId('why')).toHaveText('Not selected.');
  await page.getByRole('link', { name: 'Marketplace' }).first().click();
  await expect(card(page, 'strimzi')).toHaveAttribute('data-selected', 'false');
  await expect(card(page, 'debezium')).toHaveAttribute('data-selected', 'false');
  await expect(page.getByTestId('selected-count')).toHaveText('Selected 48 of 70');
});

test('the family page adds the whole family', async ({ page }) => {
  await page.goto('/sovereign/marketplace/family/relay');
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('RELAY');
  await expect(page.getByTestId('member')).toHaveCount(5);
  await page.getByRole('button', { name: 'Add the whole family' }).click();
  await expect(page.getByTestId('toast').last()).toContainText('Added the RELAY family: Matrix (Synapse) and ntfy.');
  await expect(page.getByTestId('member').locator('.chip-selected')).toHaveCount(5);
  await snap(page, 'family-desktop');
});

test('unknown products and families are the 404 page', async ({ page }) => {
  for (const path of ['/sovereign/marketplace/product/nope', '/sovereign/marketplace/family/nope']) {
    const res = await page.goto(path);
    expect(res?.status()).toBe(404);
    await expect(page.getByTestId('not-found')).toBeVisible();
  }
});
