import { test, expect } from './fixtures';
import type { CDPSession, Locator, Page } from '@playwright/test';
import { GOOD_TOKEN, ED25519, next, startOver } from './wizard';

/**
 * Nothing typed is lost or doubled while a wizard step hydrates (issue 27). Each step is loaded afresh with the
 * CPU throttled 4× through CDP, and the person starts as soon as the server's HTML shows the step: one action
 * is repeated key by key (or press by press) until the page has hydrated and a few times after, so it always
 * spans the moment the wasm takes the page over; others happen before. The values must then be exactly what
 * was done — in the page, and after a reload (the autosaved draft). Every round forces the race on every step
 * (the repeated action always spans hydration), so one round, the default, catches it; $TYPING_ROUNDS runs more.
 * Before the fix, the organisation name typed this way ended as "Acme Financial" plus the keys typed after
 * hydration in 5 of 5 runs (the hydration wrote the draft's value over the input). Not covered: the Components
 * step's grid (its toggles are buttons: a press before hydration is lost) and Review (nothing to type there).
 */
const ROUNDS = Number(process.env.TYPING_ROUNDS ?? '1');

/** How many actions follow the one during which the page was seen hydrated. */
const AFTER = 4;

const hydratedNow = (page: Page) => page.evaluate(() => document.body?.dataset.hydrated === 'true');

/** Throttles the page's CPU 4× and turns its HTTP cache off (every load is a first visit), through CDP. */
async function throttle(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  return cdp;
}

/**
 * Loads a step afresh and returns as soon as the element `first` is in the document, long before the wasm has
 * hydrated it. Polls through CDP: Playwright's own waiting would first inject its selector engine into the page,
 * which at 4× takes long enough for a small page to hydrate meanwhile.
 */
async function openCold(page: Page, cdp: CDPSession, step: string, first: string) {
  await page.goto(`/sovereign/wizard/${step}`, { waitUntil: 'commit' });
  const expression = `!!document.querySelector(${JSON.stringify(first)})`;
  for (let i = 0; ; i++) {
    const { result } = await cdp.send('Runtime.evaluate', { expression, returnByValue: true });
    if (result.value) break;
    if (i > 3000) throw new Error(`${step}: ${first} never appeared`);
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(await hydratedNow(page), `${step}: the step had hydrated before anything was typed`).toBe(false);
}

/** Calls `act(i)` for i = 0, 1, … until the page has hydrated, then AFTER more times. Returns how many calls. */
async function acrossHydration(page: Page, act: (i: number) => Promise<void>) {
  let after = -1;
  let i = 0;
  while (after < AFTER) {
    await act(i++);
    if (after >= 0 || (await hydratedNow(page))) after++;
    if (i > 5000) throw new Error('the page never hydrated');
  }
  return i;
}

/**
 * Types into `field` (emptied first) one key at a time across hydration; once the text is `max` long it
 * deletes the last character and types on. Returns the text typed.
 */
async function typeAcross(page: Page, field: Locator, alphabet: string, max = 40) {
  await field.fill('');
  let typed = '';
  await acrossHydration(page, async (i) => {
    if (typed.length >= max) {
      await page.keyboard.press('Backspace');
      typed = typed.slice(0, -1);
      return;
    }
    const ch = alphabet[i % alphabet.length];
    await page.keyboard.type(ch);
    typed += ch;
  });
  return typed;
}

/**
 * Waits until the draft as it is now has reached the server: the autosave runs 600 ms after the last edit, so
 * the first save sent from now on carries it (one sent earlier may still be on its way, and may not).
 */
async function saved(page: Page) {
  const request = await page.waitForRequest((r) => r.url().includes('/api/fn/wizard/save_draft'));
  const response = await request.response();
  expect(response?.status()).toBe(200);
}

/** Reloads the step (not throttled) and waits until it has hydrated. */
async function reload(page: Page) {
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 45_000 });
}

const WORDS = 'Typed Before Hydration and after ';

for (let round = 1; round <= ROUNDS; round++) {
  test(`typing while each step hydrates keeps exactly what was typed (round ${round})`, async ({ page }) => {
    test.setTimeout(600_000);
    await startOver(page);
    const cdp = await throttle(page);

    // Step 1: a select and a toggle before hydration, the name typed across it.
    await openCold(page, cdp, 'organisation', '#f-org-name');
    await page.locator('#f-org-headquarters').fill('Oslo, Norway');
    const [industry] = await page.locator('#f-org-industry').selectOption({ index: 3 });
    const [size] = await page.locator('#f-org-size').selectOption({ index: 1 });
    await page.getByRole('checkbox', { name: 'GDPR' }).check();
    const name = await typeAcross(page, page.locator('#f-org-name'), WORDS);
    await saved(page);
    const step1 = async () => {
      await expect(page.locator('#f-org-name')).toHaveValue(name);
      await expect(page.locator('#f-org-headquarters')).toHaveValue('Oslo, Norway');
      await expect(page.locator('#f-org-industry')).toHaveValue(industry);
      await expect(page.locator('#f-org-size')).toHaveValue(size);
      await expect(page.getByRole('checkbox', { name: 'GDPR' })).toBeChecked();
    };
    await step1();
    await reload(page);
    await step1();
    await next(page, 'topology');

    // Step 2: a topology chosen before hydration, the HA switch pressed across it.
    await openCold(page, cdp, 'topology', '#f-haEnabled');
    await page.getByTestId('topology-solo').click();
    await page.getByTestId('f-airgap').click();
    const presses = await acrossHydration(page, () => page.getByTestId('f-haEnabled').click());
    await saved(page);
    const step2 = async () => {
      await expect(page.getByTestId('topology-solo').locator('input')).toBeChecked();
      await expect(page.getByTestId('f-airgap')).toBeChecked();
      await expect(page.getByTestId('f-haEnabled')).toBeChecked({ checked: presses % 2 === 1 });
    };
    await step2();
    await reload(page);
    await step2();
    // One region, so the later steps stay small; no air gap.
    await page.getByTestId('f-airgap').uncheck();
    await next(page, 'provider');

    // Step 3: the worker count typed before hydration, the control plane's size chosen across it.
    await openCold(page, cdp, 'provider', '#f-regions-0-controlPlaneSize');
    await page.locator('#f-regions-0-workerCount').fill('3');
    const sizes = page.locator('#f-regions-0-controlPlaneSize');
    const options = await sizes.locator('option:not([disabled])').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    let chosen = '';
    await acrossHydration(page, async (i) => {
      chosen = options[(i + 1) % options.length];
      await sizes.selectOption(chosen);
    });
    await saved(page);
    const step3 = async () => {
      await expect(page.locator('#f-regions-0-workerCount')).toHaveValue('3');
      await expect(sizes).toHaveValue(chosen);
    };
    await step3();
    await reload(page);
    await step3();
    await next(page, 'credentials');

    // Step 4: the token pasted before hydration (kept in the page only), the project id typed across it.
    await openCold(page, cdp, 'credentials', '#f-hetznerProjectId');
    await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
    const project = await typeAcross(page, page.locator('#f-hetznerProjectId'), '1234567890');
    await saved(page);
    await expect(page.locator('#f-hetznerProjectId')).toHaveValue(project);
    await expect(page.locator('#f-secrets-hetznerToken')).toHaveValue(GOOD_TOKEN);
    await page.getByTestId('validate-token').click();
    await expect(page.getByTestId('token-ok')).toBeVisible();
    await page.getByTestId('ssh-tab-paste').click();
    await page.getByTestId('ssh-paste').fill(ED25519);
    const pasted = saved(page);
    await expect(page.getByTestId('ssh-paste-ok')).toBeVisible();
    await pasted;
    await reload(page);
    await expect(page.locator('#f-hetznerProjectId')).toHaveValue(project);
    // The reload forgot the token (never saved): enter it again to go on.
    await page.locator('#f-secrets-hetznerToken').fill(GOOD_TOKEN);
    await page.getByTestId('validate-token').click();
    await expect(page.getByTestId('token-ok')).toBeVisible();
    await next(page, 'components');
    await next(page, 'domain');

    // Step 6: the e-mail typed before hydration, the subdomain typed across it (and checked once it is live).
    await openCold(page, cdp, 'domain', '#f-domain-subdomain');
    await page.locator('#f-adminEmail').fill('ops@typing.example');
    const sub = await typeAcross(page, page.locator('#f-domain-subdomain'), 'abcdefghijklmnopqrstuvwxyz0123456789');
    await saved(page);
    // The subdomain typed before hydration was handed to its handler, which checked it.
    await expect(page.getByTestId('subdomain-status')).toHaveText('available');
    const step6 = async () => {
      await expect(page.locator('#f-domain-subdomain')).toHaveValue(sub);
      await expect(page.locator('#f-adminEmail')).toHaveValue('ops@typing.example');
    };
    await step6();
    await reload(page);
    await step6();
  });
}
