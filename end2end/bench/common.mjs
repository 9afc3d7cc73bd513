// What the step-1 benchmarks share: command-line options, the browser they launch, the median, the sign-in
// whose session every measured browser starts with, and how a measured page is set up and read.
import { chromium } from 'playwright-core';

/** The value after `--name` on the command line, or `dflt`. */
export const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
export const base = arg('url', process.env.CATALYST_URL ?? 'http://127.0.0.1:3000');
export const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// $CHROMIUM_EXTRA_ARGS adds flags for a diagnosis (e.g. `--js-flags=--no-wasm-lazy-compilation`), never for a
// figure that goes into BENCHMARKS.md.
export const launchArgs = [
  '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
  ...(process.env.CHROMIUM_EXTRA_ARGS ?? '').split(' ').filter(Boolean),
];
export const launch = () => chromium.launch({ executablePath, args: launchArgs });
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Signs in through the login page (`--email`/`--password` or $CATALYST_ADMIN_EMAIL/$CATALYST_ADMIN_PASSWORD)
 *  and returns the session (cookies) for the measured runs. */
export async function signIn() {
  const email = arg('email', process.env.CATALYST_ADMIN_EMAIL ?? 'admin@example.com');
  const password = arg('password', process.env.CATALYST_ADMIN_PASSWORD ?? '');
  if (!password) throw new Error('give --password (or set CATALYST_ADMIN_PASSWORD) for an account that may use the wizard');
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/sovereign/login`);
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await Promise.all([
      page.waitForURL((u) => !u.pathname.startsWith('/sovereign/login'), { timeout: 60_000 }),
      page.getByTestId('login-submit').click(),
    ]);
    return await page.context().storageState();
  } finally {
    await browser.close();
  }
}

/** A page of `browser` as every measured load starts: a 1280×800 context with `storageState`, gzip as the only
 *  accepted encoding (what the bytes target is stated in), the HTTP cache off, the CPU throttled `rate` times
 *  through CDP, and `window.__hydratedAt` set when `<body data-hydrated="true">` appears. Returns the page and
 *  its CDP session (Network is enabled on it). */
export async function measuredPage(browser, storageState, rate) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'gzip' } });
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        obs.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  return { page, cdp };
}

/** Waits for the `data-hydrated` marker and the first contentful paint, and returns both times (ms). (A copy of
 *  the page with no script sets the marker on `load`, which can come before the paint is recorded.)
 *  Polls from here through CDP `Runtime.evaluate` of a one-line expression: Playwright's `waitForFunction` would
 *  first inject its selector engine (~330 KB of script) into the page, which at 4x throttling takes the main
 *  thread for ~60 ms right when the page's own module is about to instantiate, and would be counted against it. */
export async function paintAndReady(cdp) {
  const expression =
    'window.__hydratedAt !== undefined && performance.getEntriesByName("first-contentful-paint").length > 0' +
    ' ? JSON.stringify({ fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,' +
    ' ready: window.__hydratedAt }) : ""';
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { result } = await cdp.send('Runtime.evaluate', { expression, returnByValue: true });
    if (result.value) return JSON.parse(result.value);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the page set no data-hydrated marker or painted nothing within 60 s');
}
