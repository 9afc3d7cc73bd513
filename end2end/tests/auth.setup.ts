// Runs before every other project: signs in as the seeded superadmin and as a viewer it invites, and saves
// both sessions (STATE in fixtures.ts) so the other tests start signed in.
import * as fs from 'fs';
import * as path from 'path';
import { test as setup, expect } from '@playwright/test';
import { ADMIN, STATE, invitedAccount, signIn } from './fixtures';

setup('sign in as the superadmin and as a viewer', async ({ page }) => {
  // Two sign-ins, an invitation and a sign-up, each page hydrating a debug build: give it room on a busy machine.
  setup.setTimeout(120_000);
  fs.mkdirSync(path.dirname(STATE.admin), { recursive: true });
  await page.goto('/sovereign');
  await expect(page).toHaveURL(/\/sovereign\/login/);
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page.getByTestId('user-email')).toHaveText(ADMIN.email);
  await page.context().storageState({ path: STATE.admin });

  const viewer = await invitedAccount(page, `viewer-${Date.now()}@example.com`, 'viewer', 'viewer-password-long-enough');
  await expect(viewer.getByRole('heading', { level: 1 })).toHaveText('Launch your Sovereign');
  await viewer.context().storageState({ path: STATE.viewer });
  await viewer.context().close();
});
