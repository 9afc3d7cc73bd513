//! HTTP load benchmark (not a test): serves the console in-process on a free port over a fresh SQLite
//! database, then runs N concurrent clients against each path for D seconds and prints latency percentiles
//! and throughput. `/healthz` (the full middleware stack, no rendering) is the baseline measured in the same
//! process; the SSR figures are also given as a ratio to it.
//!
//! cargo bench -p server --bench http_load -- [--clients 50] [--secs 20] [--path /sovereign ...]

use std::time::{Duration, Instant};

use server::config::{LogFormat, Settings};
use server::db::DbUrl;

struct Args {
    clients: usize,
    secs: u64,
    paths: Vec<String>,
}

fn args() -> Args {
    let mut a = Args {
        clients: 50,
        secs: 20,
        paths: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--clients" => a.clients = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.clients),
            "--secs" => a.secs = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.secs),
            "--path" => a.paths.extend(it.next()),
            _ => {} // cargo bench passes --bench
        }
    }
    if a.paths.is_empty() {
        a.paths.push("/sovereign".into());
    }
    a
}

struct Stats {
    count: usize,
    errors: usize,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    max: Duration,
    rps: f64,
}

async fn run(base: &str, path: &str, clients: usize, secs: u64, cookie: Option<String>) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let url = format!("{base}{path}");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = client.clone();
        let url = url.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut req = client.get(&url);
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("client task");
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Stats {
        count: all.len(),
        errors,
        p50: pct(0.50),
        p90: pct(0.90),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or_default(),
        rps: all.len() as f64 / elapsed,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let bind = "127.0.0.1:0".parse().expect("addr");
        let settings = Settings {
            auth: server::auth::config::AuthSettings::defaults_for(bind),
            bind,
            database: DbUrl::Sqlite {
                path: dir.path().join("bench.db"),
            },
            data_dir: dir.path().to_path_buf(),
            log_format: LogFormat::Pretty,
            log_level: "error".into(),
            site_root: "target/site".into(),
            catalog: std::sync::Arc::new(
                server::config::load_catalog(
                    &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../platform"),
                )
                .expect("the repository's catalog"),
            ),
            gitops: Default::default(),
            pool_domains: vec!["omani.works".into()],
            nameservers: vec!["ns1.omani.works".into()],
            engine: server::config::EngineSettings::defaults("127.0.0.1:0".parse().expect("addr")),
            hetzner_api_url: server::hetzner::DEFAULT_API_URL.into(),
            pdns: None,
            limits: Default::default(),
            mail: Default::default(),
            metrics_bind: None,
            preflight: Default::default(),
        };
        let db = server::open_database(&settings).await.expect("database");
        let listener = server::bind(settings.bind).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = server::app_state(settings, db);
        // Pages need a signed-in user: one account with a session, as a browser would carry.
        let user = state
            .auth
            .create_superadmin("bench@example.com", "correct horse battery staple", "Bench")
            .await
            .expect("account");
        let set_cookie = state
            .auth
            .start_session(&user, &app::auth::RequestMeta::default(), "bench")
            .await
            .expect("session");
        let cookie = set_cookie.split(';').next().map(str::to_string);
        let router = server::http::router(state);
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await;
        });
        let base = format!("http://{addr}");

        // Warm up every path (connection pool, lazy statics, SQLite cache).
        for p in std::iter::once("/healthz".to_string()).chain(a.paths.iter().cloned()) {
            let _ = run(&base, &p, 4, 1, cookie.clone()).await;
        }
        println!(
            "{} concurrent clients, {} s per path, release={}",
            a.clients,
            a.secs,
            !cfg!(debug_assertions)
        );
        println!(
            "| path | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | p99 ÷ baseline p99 |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        let baseline = run(&base, "/healthz", a.clients, a.secs, cookie.clone()).await;
        let row = |path: &str, s: &Stats| {
            println!(
                "| `{path}` | {} | {} | {:.0} | {} | {} | {} | {} | {:.1}× |",
                s.count,
                s.errors,
                s.rps,
                ms(s.p50),
                ms(s.p90),
                ms(s.p99),
                ms(s.max),
                s.p99.as_secs_f64() / baseline.p99.as_secs_f64().max(1e-9)
            )
        };
        row("/healthz (baseline)", &baseline);
        for p in &a.paths {
            let s = run(&base, p, a.clients, a.secs, cookie.clone()).await;
            row(p, &s);
        }
    });
}
