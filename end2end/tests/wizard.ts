/** Helpers shared by the wizard specs. */
import { Page, expect, test } from '@playwright/test';
import { hydrated } from './fixtures';

/**
 * The read & write token `scripts/test.sh` starts infra's Hetzner API stand-in (tests/standins/hetzner.py)
 * with, and a token it rejects with 401 `unauthorized`.
 */
export const GOOD_TOKEN = process.env.E2E_HETZNER_TOKEN ?? 'set-E2E_HETZNER_TOKEN-to-the-stand-in-token-0123456789abcdefghij';
export const BAD_TOKEN = 'b'.repeat(64);
export const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIJqkUdW0kITcizpA/hK0ctsNltkludKjpEl7vyqQir e2e@catalyst';
/** What `ssh-keygen -lf` prints for ED25519. */
export const ED25519_FINGERPRINT = 'SHA256:kHCzDlZwL3Kuj84qI1SmihDxjG9ptAjY4h5d8IqNoTs';

export async function open(page: Page, step = '') {
  await page.goto(`/sovereign/wizard${step ? '/' + step : ''}`);
  await hydrated(page);
}

/**
 * Begins a new draft with the wizard's own "Start over" (press twice). Drafts belong to the signed-in
 * user, and every browser test runs as the same superadmin, so each test that needs a fresh run starts so.
 */
export async function startOver(page: Page) {
  await open(page);
  const button = page.getByTestId('start-over');
  await button.click();
  await expect(button).toHaveText('Discard this draft? Press again');
  // The draft is discarded, then the page loads step 1 afresh.
  await Promise.all([page.waitForEvent('load'), button.click()]);
  await expect(page).toHaveURL(/\/sovereign\/wizard\/organisation$/);
  await hydrated(page);
  await expect(page.getByTestId('stepper-topology')).toHaveAttribute('class', /is-future/);
}

/** Continue, and wait for the next step's page. */
export async function next(page: Page, to: string) {
  await page.getByTestId('wizard-continue').click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/wizard/${to}$`));
}

/** Waits until the draft has been saved on the server (the autosave after typing). */
export function saved(page: Page) {
  return page.waitForResponse((r) => r.url().includes('/api/fn/wizard/save_draft') && r.status() === 200);
}

/** Fills the Credentials step with a token the stand-in accepts, a project id and a pasted key. */
export async function credentials(page: Page) {
  await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
  await page.getByTestId('validate-token').click();
  await expect(page.getByTestId('token-ok')).toBeVisible();
  await page.locator('#f-hetznerProjectId').fill('1234567');
  await page.getByTestId('ssh-tab-paste').click();
  await page.getByTestId('ssh-paste').fill(ED25519);
  await expect(page.getByTestId('ssh-paste-ok')).toBeVisible();
  await expect(page.getByTestId('ssh-paste-fingerprint')).toHaveText(ED25519_FINGERPRINT);
}

/** The component grid's card of one blueprint. */
export const card = (page: Page, id: string) => page.locator(`[data-testid="component-card"][data-id="${id}"]`);

/** Discards the signed-in user's draft through the wizard's server function (postcard: no arguments is an
 *  empty body). */
export async function discardDraft(page: Page) {
  const base = new URL(test.info().project.use.baseURL ?? process.env.CATALYST_URL ?? 'http://127.0.0.1:3000');
  const res = await page.request.post('/sovereign/api/fn/wizard/discard_draft', {
    headers: { origin: base.origin, 'content-type': 'application/x-postcard', accept: 'application/x-postcard' },
    data: Buffer.alloc(0),
  });
  expect(res.status()).toBe(200);
}
