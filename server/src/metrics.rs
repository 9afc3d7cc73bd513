//! Prometheus metrics, served in the text exposition format (0.0.4) on their own listener (`--metrics-bind`),
//! never on the console's address.
//!
//! Process-wide: HTTP request latency by route (the route's pattern, never the raw path), OpenTofu command
//! durations and failures, phase durations, lease takeovers. Read at scrape time: SSE subscribers and live
//! event hubs of this replica, the runs this replica holds, and deployments in flight by status (the whole
//! console's, from the database).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::response::Response;
use http::Request;

/// Upper bounds (seconds) of the HTTP latency buckets.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Upper bounds (seconds) for OpenTofu commands and phases (seconds to hours).
const LONG_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0,
];

struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, seconds: f64) {
        for (i, b) in self.bounds.iter().enumerate() {
            if seconds <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// Histograms keyed by their rendered label set.
struct Family {
    bounds: &'static [f64],
    series: Mutex<BTreeMap<String, Histogram>>,
}

impl Family {
    const fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    fn observe(&self, labels: String, d: Duration) {
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series
            .entry(labels)
            .or_insert_with(|| Histogram::new(self.bounds))
            .observe(d.as_secs_f64());
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (labels, h) in self.series.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            h.write(out, name, labels);
        }
    }
}

static HTTP: Family = Family::new(HTTP_BUCKETS);
static TOFU: Family = Family::new(LONG_BUCKETS);
static PHASES: Family = Family::new(LONG_BUCKETS);
static TOFU_FAILURES: OnceLock<Mutex<BTreeMap<String, u64>>> = OnceLock::new();
static TAKEOVERS: AtomicU64 = AtomicU64::new(0);

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One OpenTofu command ran (`init`, `plan`, `apply`, …) for `took`; `ok` false if it failed (non-zero exit,
/// timeout, cancel, missing binary).
pub fn tofu_command(command: &str, took: Duration, ok: bool) {
    let command = label(command);
    let outcome = if ok { "ok" } else { "failed" };
    TOFU.observe(format!("command=\"{command}\",outcome=\"{outcome}\""), took);
    if !ok {
        let mut f = TOFU_FAILURES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *f.entry(command).or_default() += 1;
    }
}

static PHASE_STARTS: OnceLock<Mutex<BTreeMap<(String, String), Instant>>> = OnceLock::new();

fn phase_starts() -> std::sync::MutexGuard<'static, BTreeMap<(String, String), Instant>> {
    PHASE_STARTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// A phase of deployment `id` started on this replica.
pub fn phase_started(id: &str, phase: &str) {
    phase_starts().insert((id.to_string(), phase.to_string()), Instant::now());
}

/// A phase of deployment `id` ended (`state`: how); observed if it started on this replica.
pub fn phase_finished(id: &str, phase: &str, state: &str) {
    let started = phase_starts().remove(&(id.to_string(), phase.to_string()));
    if let Some(started) = started {
        PHASES.observe(
            format!("phase=\"{}\",state=\"{}\"", label(phase), label(state)),
            started.elapsed(),
        );
    }
}

/// A replica took over a run whose lease had expired.
pub fn lease_takeover() {
    TAKEOVERS.fetch_add(1, Ordering::Relaxed);
}

/// The route label of a request: its matched pattern, set by [`route_of`] (or `unmatched` for static
/// files, the 404 page and anything no route claims, so raw paths never become labels).
#[derive(Clone)]
struct RouteLabel(String);

/// Route layer: passes the matched route's pattern out with the response for [`track`].
pub async fn route_of(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(RouteLabel(route));
    }
    res
}

/// Outer layer: records every request's latency by method, route and status.
pub async fn track(req: Request<Body>, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    // Router layers wrap each route, so the pattern is usually known here already (also for requests a
    // middleware answers before the handler, e.g. 401); [`route_of`] covers the rest.
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let res = next.run(req).await;
    let route = matched
        .or_else(|| res.extensions().get::<RouteLabel>().map(|r| r.0.clone()))
        .unwrap_or_else(|| "unmatched".into());
    HTTP.observe(
        format!(
            "method=\"{}\",route=\"{}\",status=\"{}\"",
            label(&method),
            label(&route),
            res.status().as_u16()
        ),
        started.elapsed(),
    );
    res
}

/// The process-wide series (everything but what is read from the engine at scrape time).
pub fn process_series() -> String {
    let mut out = String::new();
    HTTP.write(
        &mut out,
        "catalyst_http_request_duration_seconds",
        "HTTP request latency by method, route pattern and status.",
    );
    TOFU.write(
        &mut out,
        "catalyst_tofu_command_duration_seconds",
        "OpenTofu command durations by command and outcome.",
    );
    let _ = writeln!(
        out,
        "# HELP catalyst_tofu_command_failures_total OpenTofu commands that failed, by command.\n# TYPE catalyst_tofu_command_failures_total counter"
    );
    if let Some(f) = TOFU_FAILURES.get() {
        for (command, n) in f.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "catalyst_tofu_command_failures_total{{command=\"{command}\"}} {n}"
            );
        }
    }
    PHASES.write(
        &mut out,
        "catalyst_phase_duration_seconds",
        "Durations of runs' phases by phase and final state.",
    );
    let _ = writeln!(
        out,
        "# HELP catalyst_lease_takeovers_total Runs this replica took over after their lease expired.\n# TYPE catalyst_lease_takeovers_total counter\ncatalyst_lease_takeovers_total {}",
        TAKEOVERS.load(Ordering::Relaxed)
    );
    out
}
