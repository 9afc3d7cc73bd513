//! Pre-flight benchmark. Run: `cargo bench -p server --bench preflight`.
//!
//! The real router (`POST /sovereign/api/v1/deployments/preflight`, signed in) against the Hetzner API
//! stand-in (`tests/standins/hetzner.py`, a local HTTP server speaking the API's shapes) on SQLite: the wall
//! time of one pre-flight, p50 and p95 over 40 runs with the price list cached (the usual case: the price list
//! is cached for 6 hours and shared by replicas), and one cold run; and the number of Hetzner requests each run
//! makes (from the report's `apiRequests`, checked against the stand-in's own request log), also when a read
//! fails once and is retried, and the worst case the code allows (every read tried 3 times). Baseline, same
//! process and stand-in: one `GET /v1/server_types` round trip (reqwest, keep-alive), p50/p95 over 40.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use app::auth::OrgRole;
use app::preflight::PreflightReport;
use axum::body::Body;
use common::engine::{GitRepo, HetznerStandin, request, standin_tofu};
use http::{Method, Request, StatusCode};
use server::db::DbUrl;
use server::preflight::HetznerLimits;

const RUNS: usize = 40;

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let hetzner = HetznerStandin::start_with(serde_json::json!({}), &[]);
        let git = GitRepo::new();
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let mut settings = common::settings_for(DbUrl::SqliteMemory, dir);
        settings.hetzner_api_url = hetzner.url.clone();
        settings.engine.tofu_bin = standin_tofu();
        settings.engine.public_url = "https://console.example.com/sovereign".into();
        settings.gitops = git.settings();
        settings.gitops.console_egress_cidrs = vec!["198.51.100.0/24".into()];
        settings.preflight.limits = HetznerLimits::parse(
            "servers=25,load_balancers=5,primary_ips=50,networks=10,firewalls=10,placement_groups=10,volumes=50",
        )
        .expect("limits");
        let state = server::app_state(settings, common::sqlite().await);
        let router = server::http::router(state.clone());
        let (_, cookie) = common::sign_in(&state, "owner@acme.example", None, Some(OrgRole::Owner)).await;
        let body = serde_json::to_vec(&request("bench.acme.example")).expect("json");
        let run = || async {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/sovereign/api/v1/deployments/preflight")
                .header("content-type", "application/json")
                .header(http::header::COOKIE, &cookie)
                .header(http::header::ORIGIN, common::ORIGIN)
                .body(Body::from(body.clone()))
                .expect("request");
            let started = Instant::now();
            let (status, _, bytes) = common::send(&router, req).await;
            let took = started.elapsed();
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
            let report: PreflightReport = serde_json::from_slice(&bytes).expect("a report");
            (took, report)
        };

        hetzner.clear_requests().await;
        let (cold, report) = run().await;
        let cold_logged = hetzner.requests().await.len();
        println!(
            "pre-flight, cold (price list fetched): {} — {} Hetzner requests (stand-in log: {cold_logged}), {} checks",
            ms(cold),
            report.api_requests,
            report.checks.len()
        );

        let mut times = Vec::with_capacity(RUNS);
        let mut requests = Vec::with_capacity(RUNS);
        hetzner.clear_requests().await;
        for _ in 0..RUNS {
            let (took, report) = run().await;
            times.push(took);
            requests.push(report.api_requests);
        }
        let logged = hetzner.requests().await.len();
        let per_run = requests.iter().sum::<u32>() as f64 / RUNS as f64;
        println!(
            "pre-flight, price list cached, {RUNS} runs: p50 {} p95 {} — {per_run} Hetzner requests per run (stand-in log: {:.1})",
            ms(pct(times.clone(), 0.5)),
            ms(pct(times.clone(), 0.95)),
            logged as f64 / RUNS as f64
        );

        hetzner.clear_requests().await;
        hetzner
            .fail_next("/v1/server_types", 1, 503, "unavailable")
            .await;
        let (retried, report) = run().await;
        println!(
            "pre-flight, GET /server_types answered 503 once: {} — {} Hetzner requests",
            ms(retried),
            report.api_requests
        );
        println!(
            "worst case the code allows: {} requests (each of the {per_run} reads tried 3 times)",
            per_run * 3.0
        );

        // Baseline: one Hetzner round trip.
        let http = reqwest::Client::new();
        let url = format!("{}/server_types", hetzner.url.trim_end_matches('/'));
        let mut base = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let started = Instant::now();
            let res = http
                .get(&url)
                .bearer_auth(common::engine::TOKEN)
                .send()
                .await
                .expect("stand-in answers");
            assert!(res.status().is_success(), "{}", res.status());
            res.bytes().await.expect("body");
            base.push(started.elapsed());
        }
        let p50 = pct(times.clone(), 0.5);
        let b50 = pct(base.clone(), 0.5);
        println!(
            "baseline, one GET /v1/server_types: p50 {} p95 {} — the pre-flight's p50 is {:.1}× one round trip",
            ms(b50),
            ms(pct(base, 0.95)),
            p50.as_secs_f64() / b50.as_secs_f64()
        );
    });
}
