/** Helpers shared by the wizard specs. */
import { Page, expect } from '@playwright/test';
import { hydrated } from './fixtures';

/** A token the Hetzner stand-in accepts (tests/standins/hetzner_tokens.py) and one it rejects with 401. */
export const GOOD_TOKEN = 'valid' + 'a'.repeat(59);
export const BAD_TOKEN = 'b'.repeat(64);
export const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIJqkUdW0kITcizpA/hK0ctsNltkludKjpEl7vyqQir e2e@catalyst';

export async function open(page: Page, step = '') {
  await page.goto(`/sovereign/wizard${step ? '/' + step : ''}`);
  await hydrated(page);
}

/** Continue, and wait for the next step's page. */
export async function next(page: Page, to: string) {
  await page.getByTestId('wizard-continue').click();
  await expect(page).toHaveURL(new RegExp(`/sovereign/wizard/${to}$`));
}

/** Waits until the draft has been saved on the server (the autosave after typing). */
export function saved(page: Page) {
  return page.waitForResponse((r) => r.url().includes('/api/fn/save_draft') && r.status() === 200);
}
