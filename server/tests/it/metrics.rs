//! `/metrics`: Prometheus text format on its own router (the console's does not answer it), request latency
//! by route pattern (never the raw path), and the gauges read at scrape time — on both databases.

use crate::common;

use axum::body::Body;
use http::{Request, StatusCode};
use server::db::Db;
use server::state::AppState;
use tower::ServiceExt;

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String, String) {
    let res = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let ct = res
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .expect("body");
    (status, ct, String::from_utf8_lossy(&body).into_owned())
}

async fn scrape(state: &AppState) -> String {
    let (status, ct, text) = get(&server::http::metrics::router(state.clone()), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    text
}

/// The value of one series (`name{labels}`), 0 if absent.
pub(crate) fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
        .unwrap_or(0.0)
}

/// Every line is a comment or `name{labels} value` in the exposition format.
fn well_formed(text: &str) {
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, v) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        assert!(v.parse::<f64>().is_ok() || v == "+Inf", "value of {line}");
        let name = series.split('{').next().unwrap_or_default();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "name of {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "labels of {line}"
            );
        }
    }
}

async fn metrics_on(db: Db) {
    let state = server::app_state(common::memory_settings(), db);
    let console = server::http::router(state.clone());
    let healthz =
        r#"catalyst_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}"#;
    let show = r#"catalyst_http_request_duration_seconds_count{method="GET",route="/sovereign/api/v1/deployments/{id}",status="401"}"#;
    let before = scrape(&state).await;
    assert_eq!(get(&console, "/healthz").await.0, StatusCode::OK);
    assert_eq!(
        get(&console, "/sovereign/api/v1/deployments/raw-path-id-7f3a")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&console, "/sovereign/pkg/raw-path-file-7f3a.js").await.0,
        StatusCode::NOT_FOUND
    );
    // Metrics are on their own listener: the console's address does not serve them (signed out, a page
    // that does not exist sends to the login).
    let (status, _, body) = get(&console, "/metrics").await;
    assert_ne!(status, StatusCode::OK);
    assert!(!body.contains("catalyst_http_request_duration_seconds"), "{body}");
    let after = scrape(&state).await;
    well_formed(&after);
    assert!(value(&after, healthz) >= value(&before, healthz) + 1.0, "{after}");
    assert!(value(&after, show) >= value(&before, show) + 1.0, "{after}");
    assert!(
        after.contains(r#"catalyst_http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="+Inf"}"#),
        "{after}"
    );
    assert!(after.contains(r#"route="unmatched",status="404""#), "{after}");
    assert!(!after.contains("raw-path"), "raw paths never become labels");
    for series in [
        "catalyst_sse_subscribers",
        "catalyst_runs_held",
        "catalyst_lease_takeovers_total",
        r#"catalyst_runs_in_flight{status="provisioning"}"#,
    ] {
        assert!(
            after.lines().any(|l| l.starts_with(&format!("{series} "))),
            "{series} in {after}"
        );
    }
    for family in [
        "catalyst_tofu_command_duration_seconds histogram",
        "catalyst_tofu_command_failures_total counter",
        "catalyst_phase_duration_seconds histogram",
    ] {
        assert!(after.contains(&format!("# TYPE {family}")), "{family}");
    }
}

#[tokio::test]
async fn metrics_sqlite() {
    metrics_on(common::sqlite().await).await;
}

#[tokio::test]
async fn metrics_postgres() {
    metrics_on(common::postgres().await).await;
}

#[test]
fn the_metrics_address_must_differ_from_the_console_s() {
    use clap::Parser;
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display().to_string();
    let parse = |extra: &[&str]| {
        // The catalog by its path in the repository: the default (`platform`) is relative to where the
        // server runs, and cargo runs this test in `server/`.
        let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/../platform");
        let mut args = vec![
            "catalyst",
            "--data-dir",
            d.as_str(),
            "--bind",
            "127.0.0.1:3000",
            "--catalog-dir",
            catalog,
        ];
        args.extend_from_slice(extra);
        server::cli::Cli::try_parse_from(args)
            .expect("parses")
            .config
            .validate()
    };
    let e = parse(&["--metrics-bind", "127.0.0.1:3000"]).expect_err("same address");
    assert_eq!(e.option, "--metrics-bind");
    assert!(e.problem.contains("--bind"), "{}", e.problem);
    let e = parse(&["--metrics-bind", "metrics"]).expect_err("not an address");
    assert_eq!(e.option, "--metrics-bind");
    let s = parse(&["--metrics-bind", "127.0.0.1:9090"]).expect("valid");
    assert_eq!(s.metrics_bind, Some("127.0.0.1:9090".parse().expect("addr")));
    assert_eq!(parse(&[]).expect("valid").metrics_bind, None);
}
