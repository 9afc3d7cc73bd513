import { test as base, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Messages the browser logs that are not failures of the page:
 * - "preloaded using link preload but not used within a few seconds from the window's load event": a clock,
 *   not a fault — on a loaded machine hydration simply takes longer than Chromium's few seconds (seen on a
 *   2-core runner at load 15 on every hydrate test alike). Tests assert behaviour, never timings; how soon the
 *   preloaded page module is used is measured by `end2end/bench/step1.mjs` (BENCHMARKS.md).
 */
const IGNORED: RegExp[] = [/was preloaded using link preload but not used within a few seconds/];

/** The test OpenID Connect provider's own pages (its development login form) are not ours to fix either. */
const FOREIGN_ORIGINS = [process.env.E2E_OIDC_ISSUER].filter((o): o is string => !!o);

/**
 * Every test fails if the page logs a console error or warning, or throws: hydration mismatches and
 * panics surface there.
 */
export const test = base.extend<{ consoleProblems: string[] }>({
  consoleProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      // A page that is itself a 404 or 403 makes Chromium log "Failed to load resource"; that is the point of
      // it. So does a server function answering 4xx (a wrong password, a missing permission): the app shows
      // those errors itself. 5xx answers are never expected.
      const expected4xx = new Set<string>();
      page.on('response', (res) => {
        const s = res.status();
        const serverFn = new URL(res.url()).pathname.startsWith('/sovereign/api/fn/');
        if (s >= 400 && s < 500 && (res.request().isNavigationRequest() || serverFn)) expected4xx.add(res.url());
      });
      // Chromium may report the console message before the response event: "Failed to load resource" lines
      // are judged at the end, once every response has been seen.
      const failedLoads: { url: string; text: string }[] = [];
      page.on('console', (msg) => {
        if (FOREIGN_ORIGINS.some((o) => page.url().startsWith(o))) return;
        if (msg.text().startsWith('Failed to load resource')) {
          failedLoads.push({ url: msg.location().url, text: `${msg.type()}: ${msg.text()} (${msg.location().url})` });
          return;
        }
        if ((msg.type() === 'error' || msg.type() === 'warning') && !IGNORED.some((r) => r.test(msg.text()))) {
          problems.push(`${msg.type()}: ${msg.text()}`);
        }
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use(problems);
      problems.push(...failedLoads.filter((f) => !expected4xx.has(f.url)).map((f) => f.text));
      expect(problems, 'console errors or warnings on the pages visited').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/**
 * Waits until the wasm app has hydrated the page (the frontend sets `data-hydrated`). A guard, not a timing:
 * the deployment page (the most split modules of a debug build, a run starting beside it) took 17 s to hydrate
 * on a 2-core machine at load 15, so the wait allows 45 s; how fast pages hydrate is measured by
 * `end2end/bench/` (BENCHMARKS.md).
 */
export async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 45_000 });
}

/** axe-core, the accessibility engine browsers' own audit tools use (npm `axe-core`). */
const AXE_SOURCE = fs.readFileSync(path.resolve(__dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * The serious and critical WCAG problems axe-core finds on the page as it is now, one line per element.
 * (Evaluated over the DevTools protocol, so the console's Content-Security-Policy does not stop it.)
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Violation[] }> } }).axe;
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} — ${n.target.join(' ')}`));
  });
}

/**
 * Saves a screenshot under test-results/screenshots for people to look at, after checking the page with
 * axe-core: every page the tests picture must be free of serious and critical accessibility problems.
 * (Pages with JavaScript off are pictured only: axe runs in the page.)
 */
export async function snap(page: Page, name: string) {
  // A wizard step's code arrives as its own chunk after navigation: picture the step, not its placeholder.
  await expect(page.getByTestId('wizard-step-loading')).toHaveCount(0);
  await page.screenshot({ path: path.resolve(__dirname, '../test-results/screenshots', `${name}.png`), fullPage: true });
  if (base.info().project.use.javaScriptEnabled !== false) {
    expect(await accessibilityProblems(page), `accessibility of ${name}`).toEqual([]);
  }
}

/** The superadmin `scripts/test.sh` seeds with `catalyst admin create`. */
export const ADMIN = {
  email: process.env.CATALYST_ADMIN_EMAIL ?? 'admin@example.com',
  password: process.env.CATALYST_ADMIN_PASSWORD ?? 'catalyst-e2e-admin-password',
};

/**
 * Saved sessions, written by `auth.setup.ts` before any other test runs. Every project uses `admin` by
 * default (its tests run signed in as the superadmin); `test.use({ storageState: STATE.viewer })` runs a
 * file as a viewer of the default organisation, and `test.use({ storageState: SIGNED_OUT })` signed out.
 */
export const STATE = {
  admin: path.resolve(__dirname, '../.auth/admin.json'),
  viewer: path.resolve(__dirname, '../.auth/viewer.json'),
};
export const SIGNED_OUT = { cookies: [], origins: [] };

/** Signs in through the login page (works with and without JavaScript) and waits for the next page. */
export async function signIn(page: Page, email: string, password: string) {
  if (!new URL(page.url()).pathname.startsWith('/sovereign/login')) await page.goto('/sovereign/login');
  if (jsEnabled()) await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/sovereign/login')),
    page.getByTestId('login-submit').click(),
  ]);
}

/** Whether the running project executes JavaScript (the `nojs` project does not). */
export function jsEnabled() {
  return test.info().project.use.javaScriptEnabled !== false;
}

/**
 * Creates an account through the real invitation flow: the signed-in `adminPage` invites `email` to the
 * default organisation as `role`, and a fresh signed-out context signs up with the link. Returns that
 * context's page, signed in as the new account.
 */
export async function invitedAccount(adminPage: Page, email: string, role: 'viewer' | 'editor' | 'admin' | 'owner', password: string) {
  await adminPage.goto('/sovereign/users');
  await hydrated(adminPage);
  await adminPage.getByLabel('E-mail').fill(email);
  await adminPage.locator('#invite-role').selectOption(role);
  await adminPage.getByTestId('invite-submit').click();
  const link = await adminPage.getByTestId('invite-link').textContent();
  expect(link).toContain('/sovereign/signup?invite=');
  const context = await adminPage.context().browser()!.newContext({ storageState: SIGNED_OUT });
  const page = await context.newPage();
  await page.goto(link!);
  await hydrated(page);
  await expect(page.getByTestId('invite-preview')).toContainText(`as ${role}`);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/sovereign'), page.getByTestId('signup-submit').click()]);
  return page;
}
