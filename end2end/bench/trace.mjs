// Where wizard step 1's cold load spends the renderer's main thread: one fresh browser per run, CPU throttled
// through CDP, a Chromium performance trace of the load, and the main thread's time summed per kind of work
// between navigation start and the `data-hydrated` marker (median of N runs per kind).
//
// Usage: node end2end/bench/trace.mjs [--url http://127.0.0.1:3600] [--runs 5] [--throttle 4]
//        [--path /sovereign/wizard/organisation] [--out trace.json]   (sign-in as in step1.mjs)
//        [--no-signin] (a page that needs no session, e.g. a copy served by static-server.mjs)
//        [--no-trace]  (times only: first paint and the marker, without the tracing overhead)
// The kinds are Chromium trace event names, grouped: html (parsing), style+layout, paint, script (JS
// compile and run, wasm instantiation and calls), wasm-compile (main-thread wasm compilation), gc, other.
// Nested events count once, in the innermost kind named below. Release builds only, as step1.mjs.
import { arg, base, launch, measuredPage, median, paintAndReady, signIn as signInOnce } from './common.mjs';

const runs = Number(arg('runs', '5'));
const rate = Number(arg('throttle', '4'));
const path = arg('path', '/sovereign/wizard/organisation');
const out = arg('out', '');

/** Signs in, unless the page needs no session (`--no-signin`). */
const signIn = () => (process.argv.includes('--no-signin') ? undefined : signInOnce());

// Innermost event name → kind. Events not named here take the kind of the event around them.
const KIND = {
  ParseHTML: 'html',
  ParseAuthorStyleSheet: 'style+layout',
  UpdateLayoutTree: 'style+layout',
  RecalculateStyles: 'style+layout',
  Layout: 'style+layout',
  'LocalFrameView::layout': 'style+layout',
  PrePaint: 'paint',
  Paint: 'paint',
  'LocalFrameView::RunPaintLifecyclePhase': 'paint',
  Layerize: 'paint',
  EvaluateScript: 'script',
  'v8.compileModule': 'script',
  'v8.evaluateModule': 'script',
  FunctionCall: 'script',
  'v8.callFunction': 'script',
  RunMicrotasks: 'script',
  'v8.run': 'script',
  'v8.compile': 'script',
  'wasm.CompileLazy': 'wasm-compile',
  'wasm.SyncCompile': 'wasm-compile',
  'wasm.SyncInstantiate': 'wasm-instantiate',
  'wasm.FinishAsyncCompile': 'wasm-instantiate',
  'wasm.OnCompilationSucceeded': 'wasm-instantiate',
  MinorGC: 'gc',
  MajorGC: 'gc',
  'V8.GC_SCAVENGER': 'gc',
  'V8.GCScavenger': 'gc',
  'V8.GC_MC': 'gc',
};

/** Self time per kind of the renderer main thread's complete events between t0 and t1 (µs, trace clock). */
function summarise(events, t0, t1) {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return {};
  const own = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur > 0 && e.ts < t1 && e.ts + e.dur > t0)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const kinds = {};
  const names = {};
  // A stack of open events; each event's self time (minus its children) goes to the innermost named kind.
  const stack = [];
  const close = (upTo) => {
    while (stack.length && stack[stack.length - 1].end <= upTo) stack.pop();
  };
  const add = (kind, us) => { kinds[kind] = (kinds[kind] ?? 0) + us; };
  for (const e of own) {
    close(e.ts);
    const start = Math.max(e.ts, t0);
    const end = Math.min(e.ts + e.dur, t1);
    const kind = KIND[e.name] ?? stack[stack.length - 1]?.kind ?? 'other';
    const parent = stack[stack.length - 1];
    if (parent) {
      add(parent.kind, -(end - start)); // this time is the child's, not the parent's
      names[parent.name] = (names[parent.name] ?? 0) - (end - start);
    }
    add(kind, end - start);
    names[e.name] = (names[e.name] ?? 0) + (end - start);
    stack.push({ end: e.ts + e.dur, kind, name: e.name });
  }
  return { kinds, names };
}

async function once(storageState, i) {
  const browser = await launch();
  try {
    const { page, cdp } = await measuredPage(browser, storageState, rate);
    const tracing = !process.argv.includes('--no-trace');
    if (tracing) await browser.startTracing(page, {
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'disabled-by-default-v8.compile', 'blink', 'loading'],
    });
    await page.goto(`${base}${path}`, { waitUntil: 'load' });
    const timing = await paintAndReady(cdp); // not Playwright's waitForFunction: see paintAndReady
    if (i === 0 && process.argv.includes('--resources')) {
      // What the page fetched before it was ready: name, start, end (ms since navigation).
      const resources = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((r) => r.startTime < window.__hydratedAt)
          .map((r) => [new URL(r.name).pathname, Math.round(r.startTime), Math.round(r.responseEnd)]),
      );
      for (const [name, start, end] of resources) console.log(`    ${String(start).padStart(5)} → ${String(end).padStart(5)} ms  ${name}`);
    }
    if (!tracing) return { fcp: timing.fcp, ready: timing.ready, ms: {}, msBefore: {}, byName: {} };
    const buf = await browser.stopTracing();
    if (out && i === 0) writeFileSync(out, buf);
    const { traceEvents } = JSON.parse(buf.toString());
    // The trace clock of performance.now()'s zero: the first-contentful-paint event minus its page time.
    const fcpEvent = traceEvents.filter((e) => e.name === 'firstContentfulPaint').sort((a, b) => a.ts - b.ts)[0];
    if (!fcpEvent) throw new Error('no firstContentfulPaint in the trace');
    const t0 = fcpEvent.ts - timing.fcp * 1000;
    const { kinds, names } = summarise(traceEvents, t0, t0 + timing.ready * 1000);
    const ms = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, v / 1000]));
    const byName = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, v / 1000]));
    // The same split before and after the first paint.
    const before = summarise(traceEvents, t0, t0 + timing.fcp * 1000).kinds;
    const msBefore = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v / 1000]));
    return { fcp: timing.fcp, ready: timing.ready, ms, msBefore, byName };
  } finally {
    await browser.close();
  }
}

const session = await signIn();
const samples = [];
for (let i = 0; i < runs; i++) samples.push(await once(session, i));
const kinds = [...new Set(samples.flatMap((s) => Object.keys(s.ms)))].sort();
console.log(`${path} at ${rate}x CPU, median of ${runs} fresh browsers:`);
console.log(`  first contentful paint ${Math.round(median(samples.map((s) => s.fcp)))} ms · input ready ${Math.round(median(samples.map((s) => s.ready)))} ms`);
console.log('  renderer main thread, self time by kind (ms): until first paint · until input ready');
for (const k of kinds) {
  const b = median(samples.map((s) => s.msBefore[k] ?? 0)).toFixed(0).padStart(6);
  const a = median(samples.map((s) => s.ms[k] ?? 0)).toFixed(0).padStart(6);
  console.log(`    ${k.padEnd(18)} ${b} · ${a}`);
}
const busy = median(samples.map((s) => Object.values(s.ms).reduce((a, b) => a + b, 0)));
console.log(`    ${'busy, all kinds'.padEnd(18)} ${busy.toFixed(0).padStart(6)}`);
const names = [...new Set(samples.flatMap((s) => Object.keys(s.byName)))]
  .map((n) => [n, median(samples.map((s) => s.byName[n] ?? 0))])
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(arg('top', '20')));
console.log('  top trace events by self time until input ready (ms):');
for (const [n, v] of names) console.log(`    ${n.slice(0, 48).padEnd(48)} ${v.toFixed(1).padStart(7)}`);
