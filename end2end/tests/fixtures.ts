import { test as base, expect, Page } from '@playwright/test';
import * as path from 'path';

/** Messages the browser logs that are not ours to fix (none today). */
const IGNORED: RegExp[] = [];

/**
 * Every test fails if the page logs a console error or warning, or throws: hydration mismatches and
 * panics surface there.
 */
export const test = base.extend<{ consoleProblems: string[] }>({
  consoleProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      // A page that is itself a 404 makes Chromium log "Failed to load resource"; that is the point of it.
      const expected404 = new Set<string>();
      page.on('response', (res) => {
        if (res.status() === 404 && res.request().isNavigationRequest()) expected404.add(res.url());
      });
      page.on('console', (msg) => {
        if (msg.text().startsWith('Failed to load resource') && expected404.has(msg.location().url)) return;
        if ((msg.type() === 'error' || msg.type() === 'warning') && !IGNORED.some((r) => r.test(msg.text()))) {
          problems.push(`${msg.type()}: ${msg.text()}`);
        }
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use(problems);
      expect(problems, 'console errors or warnings on the pages visited').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the wasm app has hydrated the page (the frontend sets `data-hydrated`). */
export async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}

/** Saves a screenshot under test-results/screenshots for people to look at. */
export async function snap(page: Page, name: string) {
  await page.screenshot({ path: path.resolve(__dirname, '../test-results/screenshots', `${name}.png`), fullPage: true });
}
