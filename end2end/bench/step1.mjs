// Cold load of wizard step 1 in headless Chromium: a fresh browser per run, median of N runs, at full CPU
// speed and with CDP CPU throttling. Measures first contentful paint, the time until the organisation-name
// input accepts typing (the app sets <body data-hydrated> once hydration has attached the handlers; the
// script then types into the input and checks the app reacted), and the bytes transferred (gzip).
//
// Usage: node end2end/bench/step1.mjs [--url http://127.0.0.1:3600] [--runs 7] [--throttle 1,4] [--floor]
//        [--email admin@example.com --password …]   (default: $CATALYST_ADMIN_EMAIL / $CATALYST_ADMIN_PASSWORD)
// The wizard needs sign-in: the script signs in once through the login page and starts every measured
// browser with that session cookie (a fresh browser and an empty HTTP cache each run).
// The server must be a release build (`cargo leptos build --release`) with nothing loaded from outside
// 127.0.0.1; the script fails if any request leaves the loopback address.
//
// --floor also measures, in the same run and interleaved with the page (run i of each, one after the other),
// two copies of the same page the browser gets instead of the server's answer (Playwright `route.fulfill`;
// every other file still comes from the server): the HTML and CSS alone with no script ("paint floor": its
// first paint), and the page with the main module instantiated but nothing hydrated ("main-module floor":
// when its `init()` resolved). Neither can be beaten by any work of the page's own code, so the page's
// figures minus these are what the app's code costs (BENCHMARKS.md → "Wizard step 1").
import { arg, base, launch, measuredPage, median, paintAndReady, signIn } from './common.mjs';

const runs = Number(arg('runs', '7'));
const rates = arg('throttle', '1,4').split(',').map(Number);
const floor = process.argv.includes('--floor');
const PATH = '/sovereign/wizard/organisation';

/** The two floor copies of the step-1 page, from the server's own answer to this session. */
async function floorPages(storageState) {
  const cookie = storageState.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const res = await fetch(`${base}${PATH}`, { headers: { cookie } });
  if (!res.ok) throw new Error(`GET ${PATH}: ${res.status}`);
  const html = await res.text();
  const marker = '<script>addEventListener("load",()=>{document.body.dataset.hydrated="true"})</script>';
  const paint = html
    .replace(/<script[^>]*>[\s\S]*?<\/script>/g, '')
    .replace(/<link rel="(modulepreload|preload)"[^>]*>/g, '')
    .replace('</body>', `${marker}</body>`);
  // The hydration script as Leptos writes it, with `mod.hydrate()` replaced: the main module is fetched,
  // compiled and instantiated as on the real page, and nothing else runs. The split modules' preloads go.
  const main = html
    .replace(/<script[^>]*>for\(const f of\[[\s\S]*?<\/script>/, '')
    .replace('mod.hydrate();', 'document.body.dataset.hydrated = "true";');
  if (paint === html || main === html || !main.includes('dataset.hydrated = "true"')) {
    throw new Error('the step-1 page no longer looks as --floor expects: update floorPages()');
  }
  return { paint, main };
}

async function once(rate, storageState, copy) {
  const browser = await launch();
  try {
    const { page, cdp } = await measuredPage(browser, storageState, rate);
    const bytes = new Map();
    const urls = new Map();
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
    cdp.on('Network.loadingFinished', (e) => bytes.set(e.requestId, e.encodedDataLength));
    if (copy) {
      await page.route(`${base}${PATH}`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: copy }),
      );
    }
    await page.goto(`${base}${PATH}`, { waitUntil: 'load' });
    const timing = await paintAndReady(cdp);
    if (copy) return timing;
    // Typing works: the app shows the name rule's message for an empty name (a live, hydrated check).
    await page.fill('#f-org-name', '');
    await page.waitForSelector('[data-testid="error-org.name"]:has-text("Enter")', { timeout: 10_000 });
    await page.waitForTimeout(200); // let the last loadingFinished events arrive
    const outside = [...urls.values()].filter((u) => !/^https?:\/\/127\.0\.0\.1[:/]/.test(u) && !u.startsWith('data:'));
    if (outside.length) throw new Error(`requests left 127.0.0.1: ${outside.join(', ')}`);
    const perFile = {};
    let total = 0;
    for (const [id, n] of bytes) {
      const u = new URL(urls.get(id) ?? 'http://x/?');
      if (u.pathname.includes('/api/fn/')) continue; // the autosave triggered by the typing check
      perFile[u.pathname] = (perFile[u.pathname] ?? 0) + n;
      total += n;
    }
    return { ...timing, total, perFile };
  } finally {
    await browser.close();
  }
}

const session = await signIn();
const copies = floor ? await floorPages(session) : undefined;
const results = {};
for (const rate of rates) {
  const samples = [];
  const paintFloor = [];
  const mainFloor = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await once(rate, session));
    if (copies) {
      paintFloor.push(await once(rate, session, copies.paint));
      mainFloor.push(await once(rate, session, copies.main));
    }
  }
  results[rate] = {
    fcp_ms: Math.round(median(samples.map((s) => s.fcp))),
    input_ready_ms: Math.round(median(samples.map((s) => s.ready))),
    bytes_gzip: median(samples.map((s) => s.total)),
    files: samples[0].perFile,
  };
  console.log(`throttle ${rate}x: FCP ${results[rate].fcp_ms} ms · input ready ${results[rate].input_ready_ms} ms · ${(results[rate].bytes_gzip / 1024).toFixed(1)} KiB (median of ${runs})`);
  if (copies) {
    const r = results[rate];
    r.paint_floor_ms = Math.round(median(paintFloor.map((s) => s.fcp)));
    r.main_module_floor_ms = Math.round(median(mainFloor.map((s) => s.ready)));
    console.log(
      `  floors: HTML + CSS first paint ${r.paint_floor_ms} ms · main module instantiated ${r.main_module_floor_ms} ms` +
        ` → the page's paint is floor + ${r.fcp_ms - r.paint_floor_ms} ms, input ready is floor + ${r.input_ready_ms - r.main_module_floor_ms} ms`,
    );
  }
}
console.log(JSON.stringify(results, null, 2));
