//! Voucher benchmarks. Run: `cargo bench -p server --bench vouchers` (Postgres from `CATALYST_TEST_PG_URL` or a
//! throw-away cluster, as in the store tests).
//!
//! - **Redemption race**, on SQLite and on Postgres: 200 organisations redeem one code with a cap of 50 at the
//!   same moment (200 tasks on a multi-threaded runtime); prints how many succeeded (must be exactly 50), whether
//!   every organisation's balance equals the sum of its ledger and the grants add up to 50 × the credit, and the
//!   redemptions per second. Baseline, same process: 200 redemptions of an uncapped code one after another.
//! - **Redeem preview**: the real router on a loopback port, 16 concurrent clients (reqwest, HTTP/1.1 keep-alive,
//!   each from its own `X-Forwarded-For` address so the per-address limit is checked but does not refuse), 4,000
//!   `POST /sovereign/api/v1/vouchers/redeem-preview`; requests per second and p50/p99. Baseline: the same load on
//!   `GET /healthz` (no database, no auth list).

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use server::billing::store as billing;
use server::db::{Db, now_ms};
use server::vouchers::store::{self, NewVoucherRow, Redeem, RedeemError};

const ORGS: usize = 200;
const CAP: i64 = 50;
const CREDIT: i64 = 10_000;

async fn seed(db: &Db, code: &str, max: i64) {
    store::insert(
        db,
        &NewVoucherRow {
            code: code.into(),
            credit_cents: CREDIT,
            currency: "EUR".into(),
            description: String::new(),
            active: true,
            max_redemptions: max,
            created_by: None,
            now: now_ms(),
        },
    )
    .await
    .expect("voucher");
}

async fn orgs(db: &Db, prefix: &str) -> Vec<String> {
    let mut ids = Vec::with_capacity(ORGS);
    for i in 0..ORGS {
        let org = server::db::orgs::create(db, &format!("{prefix}-{i}"), &format!("{prefix} {i}"))
            .await
            .expect("org")
            .expect("free slug");
        ids.push(org.id);
    }
    ids
}

fn redeem_of(code: &str, org: &str) -> Redeem {
    Redeem {
        code: code.into(),
        org_id: org.into(),
        user_id: None,
        order_id: uuid::Uuid::new_v4().to_string(),
        ledger_id: uuid::Uuid::new_v4().to_string(),
        now: now_ms(),
    }
}

async fn race(name: &str, db: Db) {
    // Baseline: one at a time, no cap.
    seed(&db, "SERIAL", 0).await;
    let serial_orgs = orgs(&db, "serial").await;
    let started = Instant::now();
    for org in &serial_orgs {
        store::redeem(&db, &redeem_of("SERIAL", org))
            .await
            .expect("redeemed");
    }
    let serial = ORGS as f64 / started.elapsed().as_secs_f64();

    // Measured: 200 at once against a cap of 50.
    seed(&db, "RACE", CAP).await;
    let race_orgs = orgs(&db, "race").await;
    let started = Instant::now();
    let tasks: Vec<_> = race_orgs
        .iter()
        .map(|org| {
            let (db, r) = (db.clone(), redeem_of("RACE", org));
            tokio::spawn(async move { store::redeem(&db, &r).await })
        })
        .collect();
    let (mut ok, mut used_up, mut other) = (0, 0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(RedeemError::UsedUp) => used_up += 1,
            Err(e) => {
                other += 1;
                eprintln!("unexpected: {e}");
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let times = store::get(&db, "RACE")
        .await
        .expect("read")
        .expect("voucher")
        .times_redeemed;
    let (mut sum, mut matches) = (0, true);
    for org in &race_orgs {
        let balance = billing::account(&db, org)
            .await
            .expect("account")
            .map_or(0, |a| a.balance_cents);
        matches &= billing::ledger_sum(&db, org).await.expect("sum") == balance;
        sum += balance;
    }
    println!(
        "redemption race {name:8}  {ok} of {ORGS} succeeded (cap {CAP}; {used_up} refused as used up, {other} other), \
         times_redeemed {times}, ledgers = balances: {matches}, credit granted {} (= {CAP} × {CREDIT}: {})",
        sum,
        sum == CAP * CREDIT
    );
    println!(
        "redemption race {name:8}  {:>7.0} attempts/s ({:>6.0} successful/s) in {:.0} ms   baseline one at a time: {serial:>6.0} redemptions/s   ratio {:.2}×",
        ORGS as f64 / elapsed,
        ok as f64 / elapsed,
        elapsed * 1000.0,
        (ORGS as f64 / elapsed) / serial
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `total` requests from `clients` concurrent clients; returns requests/s and the sorted latencies.
async fn load(
    client: &reqwest::Client,
    url: &str,
    body: Option<&'static str>,
    clients: usize,
    total: usize,
) -> (f64, Vec<Duration>) {
    let started = Instant::now();
    let per = total / clients;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, url) = (client.clone(), url.to_string());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per);
                for i in 0..per {
                    // Its own address per request: the limit is checked on every request but never refuses.
                    let ip = format!("10.{}.{}.{}", c, (i / 250) % 250, i % 250 + 1);
                    let t = Instant::now();
                    let req = match body {
                        Some(b) => client
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(b),
                        None => client.get(&url),
                    };
                    let res = req.header("x-forwarded-for", ip).send().await.expect("request");
                    let status = res.status();
                    let _ = res.bytes().await.expect("body");
                    assert!(status.as_u16() == 200, "{url}: {status}");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

async fn preview() {
    let db = common::sqlite().await;
    seed(&db, "PREVIEW-BENCH", 0).await;
    let mut settings = common::memory_settings();
    settings.auth.trust_forwarded_for = true;
    let state = server::app_state(settings, db);
    let router = server::http::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .expect("client");
    let health = format!("http://{addr}/healthz");
    let preview = format!("http://{addr}/sovereign/api/v1/vouchers/redeem-preview");
    // Warm-up.
    load(&client, &health, None, 16, 800).await;
    load(&client, &preview, Some(r#"{"code":"preview-bench"}"#), 16, 800).await;
    let (base_rate, base) = load(&client, &health, None, 16, 4_000).await;
    let (rate, lat) = load(&client, &preview, Some(r#"{"code":"preview-bench"}"#), 16, 4_000).await;
    println!(
        "redeem preview  SQLite, 16 clients, 4,000 requests: {rate:>6.0} requests/s   p50 {:.2} ms   p99 {:.2} ms   \
         baseline GET /healthz: {base_rate:>6.0} requests/s, p99 {:.2} ms   ratio {:.2}×",
        percentile(&lat, 0.5).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
        percentile(&base, 0.99).as_secs_f64() * 1000.0,
        rate / base_rate
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        race("SQLite", common::sqlite().await).await;
        race("Postgres", common::postgres().await).await;
        preview().await;
    });
}
