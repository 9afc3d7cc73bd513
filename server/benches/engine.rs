//! Provisioning-engine benchmarks: event ingest (SQLite and Postgres), SSE fan-out to 1,000 subscribers of
//! one deployment, and memory per idle subscriber. Run: `cargo bench -p server --bench engine`.
//!
//! Each figure is printed with its in-process baseline (single-event appends for ingest, one subscriber for
//! fan-out), so ratios are comparable across machines.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::deployments::{EventKind, Phase};
use futures_util::StreamExt;
use server::crypto::SecretBox;
use server::db::Db;
use server::db::deployment_events::{self, NewEvent};
use server::db::deployments::{self as store, NewDeployment};
use server::deployments::Engine;

fn new_deployment(id: &str, org: &str) -> NewDeployment {
    NewDeployment {
        id: id.into(),
        org_id: org.into(),
        created_by: "bench".into(),
        fqdn: format!("{id}.example.com"),
        request: serde_json::to_string(&common::engine::request(&format!("{id}.example.com")).request)
            .expect("json"),
        bearer_sha256: "00".repeat(32),
        secrets: vec![],
        first_event: NewEvent::info(Phase::Gitops, "created").with_kind(EventKind::Status, Some("pending")),
    }
}

fn line(i: usize) -> NewEvent {
    NewEvent::info(
        Phase::TofuApply,
        format!(
            "hcloud_server.worker[{}]: Still creating... [{}s elapsed]",
            i % 50,
            i % 600
        ),
    )
}

/// Events per second appending `total` events in batches of `batch`.
async fn ingest(db: &Db, id: &str, total: usize, batch: usize) -> f64 {
    let events: Vec<NewEvent> = (0..batch).map(line).collect();
    let started = Instant::now();
    let mut done = 0;
    while done < total {
        deployment_events::append(db, id, &events, &[])
            .await
            .expect("append");
        done += batch;
    }
    done as f64 / started.elapsed().as_secs_f64()
}

async fn ingest_report(name: &str, db: Db) {
    store::insert(&db, &new_deployment("ingest-single", "bench"))
        .await
        .expect("insert");
    store::insert(&db, &new_deployment("ingest-batched", "bench"))
        .await
        .expect("insert");
    let single = ingest(&db, "ingest-single", 2_000, 1).await;
    let batched = ingest(&db, "ingest-batched", 50_000, 256).await;
    println!(
        "ingest {name:8}  single-event appends: {single:>9.0} events/s   batches of 256 (the run's sink): {batched:>9.0} events/s   ratio {:.1}×",
        batched / single
    );
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn now_us() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

/// Opens `n` SSE subscriptions to one deployment, appends `events` events (one every `gap`) carrying their
/// send time, and returns the delivery latencies (µs) seen by all subscribers, plus the RSS growth (KiB)
/// once the `n` subscribers were connected and idle.
async fn fanout(n: usize, events: usize, gap: Duration) -> (Vec<u128>, u64) {
    let db = common::sqlite().await;
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut settings = common::settings_for(server::db::DbUrl::SqliteMemory, dir.clone());
    settings.engine.tofu_bin = dir.join("no-tofu");
    let state = server::app_state_with(settings, db.clone(), SecretBox::generate());
    // Streams need a session and `deployments.events.read` in the deployment's organisation, as in
    // production: every subscriber is resolved by the auth middleware.
    let (_, cookie) = common::sign_in(
        &state,
        "viewer@bench.example",
        None,
        Some(app::auth::OrgRole::Viewer),
    )
    .await;
    let org = server::db::orgs::list(&db).await.expect("orgs")[0].id.clone();
    let engine: Engine = state.engine.clone();
    let router = server::http::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    store::insert(&db, &new_deployment("fanout", &org))
        .await
        .expect("insert");
    // Mark it in flight so streams stay open.
    let mut w = server::db::deployments::StatusWrite::new(
        app::deployments::DeploymentStatus::Provisioning,
        Phase::Gitops,
        "go",
    );
    w.only_from = None;
    engine.transition("fanout", &w).await.expect("provisioning");

    let before = rss_kib();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(n * events)));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(n);
    let mut tasks = Vec::new();
    for _ in 0..n {
        let client = client.clone();
        let latencies = latencies.clone();
        let ready = ready_tx.clone();
        let url = format!("http://{addr}/sovereign/api/v1/deployments/fanout/stream?after=2");
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("stream");
            assert_eq!(res.status(), 200, "the stream opens");
            let _ = ready.send(()).await;
            let mut body = res.bytes_stream();
            let mut buf = String::new();
            let mut got = 0;
            while let Some(Ok(chunk)) = body.next().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    if let Some(sent) = block
                        .split("sent=")
                        .nth(1)
                        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|s| s.parse::<u128>().ok())
                    {
                        latencies
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(now_us().saturating_sub(sent));
                        got += 1;
                    }
                }
                if got >= events {
                    break;
                }
            }
        }));
    }
    for _ in 0..n {
        ready_rx.recv().await.expect("subscriber connected");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_growth = rss_kib().saturating_sub(before);
    for i in 0..events {
        let e = NewEvent::info(Phase::TofuApply, format!("event {i} sent={}", now_us()));
        engine.append("fanout", &[e], &[]).await.expect("append");
        tokio::time::sleep(gap).await;
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    let mut l = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    l.sort_unstable();
    (l, idle_growth)
}

fn pct(sorted: &[u128], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        ingest_report("sqlite", common::sqlite().await).await;
        ingest_report("postgres", common::postgres().await).await;

        let (one, _) = fanout(1, 200, Duration::from_millis(20)).await;
        let (many, idle_kib) = fanout(1_000, 200, Duration::from_millis(20)).await;
        println!(
            "sse fan-out   1 subscriber:  p50 {:.2} ms  p99 {:.2} ms  ({} deliveries)",
            pct(&one, 0.5),
            pct(&one, 0.99),
            one.len()
        );
        println!(
            "sse fan-out   1,000 subscribers of one deployment: p50 {:.2} ms  p99 {:.2} ms  ({} deliveries, {:.1}% of expected)  p99 ratio to 1 subscriber {:.1}×",
            pct(&many, 0.5),
            pct(&many, 0.99),
            many.len(),
            many.len() as f64 / 2_000.0,
            pct(&many, 0.99) / pct(&one, 0.99)
        );
        println!(
            "memory        1,000 idle subscribers: +{} KiB RSS → {:.1} KiB per subscriber (server and client side in one process: an upper bound)",
            idle_kib,
            idle_kib as f64 / 1_000.0
        );
    });
}
