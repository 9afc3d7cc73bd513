//! Benchmarks of accounts and sessions (not tests: they measure and print, nothing passes or fails).
//!
//! `cargo bench -p server --bench auth` prints:
//! 1. Argon2id cost: one password verification with the chosen parameters and two alternatives, as
//!    milliseconds and as a ratio to the chosen ones; and a full sign-in through the router.
//! 2. Session lookup overhead per request, in-process on SQLite: `GET /healthz` through the whole router
//!    without a cookie (the baseline: no lookup) and with a valid session cookie (one lookup), p50/p99;
//!    the difference is what resolving a session costs a request. Then `AuthService::resolve` of a session alone, through
//!    the database (cache emptied each time) and as requests see it (2 s cache).

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::body::Body;
use http::Request;
use leptos::server_fn::ServerFn;
use server::auth::password;
use server::db::DbUrl;
use tower::ServiceExt;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn verify_cost(m_kib: u32, t: u32, p: u32, rounds: usize) -> Duration {
    let hasher = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(m_kib, t, p, None).expect("params"),
    );
    let hash = hasher
        .hash_password(b"correct horse battery staple", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            assert!(password::verify_blocking_with(
                &hasher,
                "correct horse battery staple",
                &hash
            ));
            start.elapsed()
        })
        .collect();
    times.sort();
    percentile(&times, 0.5)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("## Argon2id verification (median of 15, one core)");
    let chosen = verify_cost(password::M_COST_KIB, password::T_COST, password::P_COST, 15);
    println!("chosen   m=19 MiB t=2 p=1 : {:7.1} ms  (1.00×)", ms(chosen));
    for (label, m, t, p) in [
        ("OWASP alt m=46 MiB t=1 p=1", 46 * 1024, 1, 1),
        ("RFC 9106  m=64 MiB t=3 p=1", 64 * 1024, 3, 1),
    ] {
        let d = verify_cost(m, t, p, 15);
        println!(
            "{label} : {:7.1} ms  ({:.2}×)",
            ms(d),
            d.as_secs_f64() / chosen.as_secs_f64()
        );
    }

    let db = common::sqlite().await;
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let state = server::app_state(common::settings_for(DbUrl::SqliteMemory, dir), db);
    let (_, cookie) = common::sign_in(
        &state,
        "bench@example.com",
        None,
        Some(app::auth::OrgRole::Editor),
    )
    .await;
    let router = server::http::router(state.clone());

    println!("\n## Sign-in through the router (server function, SQLite), 30 rounds");
    let mut logins = Vec::new();
    for _ in 0..30 {
        let req = Request::post(app::auth::api::Login::PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Body::from(
                "email=bench%40example.com&password=correct+horse+battery+staple",
            ))
            .expect("request");
        let start = Instant::now();
        let res = router.clone().oneshot(req).await.expect("response");
        logins.push(start.elapsed());
        assert_eq!(res.status(), 200);
    }
    logins.sort();
    println!(
        "sign-in p50 {:.1} ms, p99 {:.1} ms; the hash is {:.0}% of the median",
        ms(percentile(&logins, 0.5)),
        ms(percentile(&logins, 0.99)),
        100.0 * chosen.as_secs_f64() / percentile(&logins, 0.5).as_secs_f64()
    );

    println!("\n## Per-request session lookup, in-process (SQLite), 5000 requests each, interleaved");
    let send = |with_cookie: bool| {
        let router = router.clone();
        let cookie = cookie.clone();
        async move {
            let mut req = Request::get("/healthz");
            if with_cookie {
                req = req.header("cookie", cookie);
            }
            let req = req.body(Body::empty()).expect("request");
            let start = Instant::now();
            let res = router.oneshot(req).await.expect("response");
            let d = start.elapsed();
            assert_eq!(res.status(), 200);
            d
        }
    };
    for _ in 0..500 {
        send(false).await;
        send(true).await;
    }
    let (mut base, mut with) = (Vec::new(), Vec::new());
    for _ in 0..5000 {
        base.push(send(false).await);
        with.push(send(true).await);
    }
    base.sort();
    with.sort();
    let (b50, b99, w50, w99) = (
        percentile(&base, 0.5),
        percentile(&base, 0.99),
        percentile(&with, 0.5),
        percentile(&with, 0.99),
    );
    println!(
        "no session (baseline) p50 {:6.1} µs  p99 {:6.1} µs",
        us(b50),
        us(b99)
    );
    println!(
        "with session          p50 {:6.1} µs  p99 {:6.1} µs",
        us(w50),
        us(w99)
    );
    println!(
        "lookup overhead       p50 {:6.1} µs  p99 {:6.1} µs  (ratio with/without: p50 {:.2}×, p99 {:.2}×)",
        us(w50.saturating_sub(b50)),
        us(w99.saturating_sub(b99)),
        w50.as_secs_f64() / b50.as_secs_f64(),
        w99.as_secs_f64() / b99.as_secs_f64()
    );

    println!(
        "\n## resolving a session alone, 2000 calls with the cache emptied before each (the database path)"
    );
    let secret = cookie.trim_start_matches("catalyst_session=").to_string();
    let mut cold = Vec::new();
    for _ in 0..2000 {
        state.auth.forget_callers();
        let start = Instant::now();
        let p = state
            .auth
            .resolve(server::auth::callers::Presented::Session(&secret))
            .await
            .expect("lookup");
        cold.push(start.elapsed());
        assert!(p.is_some());
    }
    cold.sort();
    println!(
        "p50 {:6.1} µs  p99 {:6.1} µs",
        us(percentile(&cold, 0.5)),
        us(percentile(&cold, 0.99))
    );

    println!("\n## resolving a session alone, 5000 calls (cache refreshed from the database every 2 s)");
    let mut direct = Vec::new();
    for _ in 0..5000 {
        let start = Instant::now();
        let p = state
            .auth
            .resolve(server::auth::callers::Presented::Session(&secret))
            .await
            .expect("lookup");
        direct.push(start.elapsed());
        assert!(p.is_some());
    }
    direct.sort();
    println!(
        "p50 {:6.1} µs  p99 {:6.1} µs",
        us(percentile(&direct, 0.5)),
        us(percentile(&direct, 0.99))
    );
}
