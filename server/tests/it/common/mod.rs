//! Shared test support: fresh databases on both backends, and a router over them.
//!
//! Postgres: `CATALYST_TEST_PG_URL` (an admin URL, as `scripts/test.sh` exports) if set; otherwise the first
//! test starts a throw-away cluster (initdb + pg_ctl on a free port in a temp dir) that a watchdog stops and
//! removes when this test process exits. Every test gets its own database in it.

#![allow(dead_code)]

pub mod engine;
pub mod oidc;
pub mod pdns;
pub mod smtp;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use server::config::{LogFormat, Settings};
use server::db::{Db, DbUrl};
use server::state::AppState;

pub fn settings_for(database: DbUrl, data_dir: PathBuf) -> Settings {
    let bind = "127.0.0.1:0".parse().expect("addr");
    Settings {
        auth: server::auth::config::AuthSettings::defaults_for(bind),
        bind,
        database,
        data_dir,
        log_format: LogFormat::Pretty,
        log_level: "warn".into(),
        site_root: PathBuf::from("target/site"),
        pool_domains: vec!["omani.works".into()],
        nameservers: vec!["ns1.omani.works".into(), "ns2.omani.works".into()],
        // The shared Hetzner API stand-in: it accepts `engine::TOKEN`, so creating a deployment (whose
        // create path checks the token with Hetzner) works; tests that need another answer start their own.
        hetzner_api_url: hetzner_api().to_string(),
        engine: server::config::EngineSettings {
            // Tests create many deployments in one organisation; the limits' own tests set them.
            limits: server::db::deployments::CreateLimits::OFF,
            ..server::config::EngineSettings::defaults("127.0.0.1:0".parse().expect("addr"))
        },
        catalog: repo_catalog(),
        gitops: Default::default(),
        // A real PowerDNS (started once per test process): the wizard's subdomain check needs it.
        pdns: Some(pdns::pdns().settings()),
        limits: Default::default(),
        mail: server::mail::config::MailSettings {
            smtp: None,
            public_origin: ORIGIN.into(),
        },
        metrics_bind: None,
        // The create path's pre-flight needs a console a launch would pass (https, egress networks, a GitOps
        // repository, OpenTofu, the account's limits): it::preflight and it::wizard set one up and turn it on.
        preflight: server::preflight::PreflightOptions {
            on_create: false,
            ..Default::default()
        },
    }
}

/// The Hetzner Cloud API stand-in shared by this test process (`tests/standins/hetzner.py`, empty, accepting
/// [`engine::TOKEN`] for reading and writing): what the create path's token check asks. Started by the first
/// test that needs it; a watchdog stops it when this test process exits.
// The stand-in lives as long as this test process; its watchdog stops it (nothing here waits for either).
#[allow(clippy::zombie_processes)]
pub fn hetzner_api() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        use std::io::BufRead;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/standins/hetzner.py");
        let mut child = Command::new("python3")
            .args([script, "--port", "0", "--token", engine::TOKEN])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs the Hetzner stand-in");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stand-in prints its address");
        let watch = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; kill {} 2>/dev/null",
            std::process::id(),
            child.id()
        );
        Command::new("setsid")
            .args(["sh", "-c", &watch])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the stand-in's watchdog starts");
        line.trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line of the Hetzner stand-in: {line}"))
            .to_string()
    })
}

/// The create path's live checks over the shared Hetzner stand-in and no PowerDNS (engine-level tests
/// create bring-your-own-domain deployments, which need no pool check).
pub fn create_checks() -> server::deployments::CreateChecks {
    let settings = server::wizard::WizardSettings {
        pool_domains: vec!["omani.works".into()],
        nameservers: vec![],
    };
    server::deployments::CreateChecks {
        subdomains: std::sync::Arc::new(server::wizard::PoolSubdomains {
            settings: std::sync::Arc::new(settings),
            pools: None,
            taken: None,
        }),
        tokens: std::sync::Arc::new(server::wizard::HetznerTokens::new(hetzner_api())),
    }
}

/// Settings for an in-process router over SQLite in memory, with a fresh data folder.
pub fn memory_settings() -> Settings {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    settings_for(DbUrl::SqliteMemory, dir)
}

/// The real router and its state over a fresh SQLite database.
pub async fn app_over(settings: Settings) -> (axum::Router, AppState) {
    app_on(settings, sqlite().await)
}

/// [`app_over`] on `db` (for the tests that run on both backends).
pub fn app_on(settings: Settings, db: Db) -> (axum::Router, AppState) {
    let state = server::app_state(settings, db);
    (server::http::router(state.clone()), state)
}

/// The repository's own catalog (`platform/`), loaded once per test process.
pub fn repo_catalog() -> std::sync::Arc<server::catalog::CatalogStore> {
    static CATALOG: OnceLock<std::sync::Arc<server::catalog::CatalogStore>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../platform"));
            std::sync::Arc::new(
                server::catalog::load(&dir)
                    .unwrap_or_else(|p| panic!("the repository's catalog is invalid:\n{p}")),
            )
        })
        .clone()
}

/// The origin every in-process test request claims (what `settings_for` derives from its bind address).
pub const ORIGIN: &str = "http://127.0.0.1:0";

/// Creates an account (`platform` role, member of the first organisation as `org_role`) and a session for
/// it; returns the user id and the `Cookie` header value (`catalyst_session=…`).
pub async fn sign_in(
    state: &AppState,
    email: &str,
    platform: Option<app::auth::PlatformRole>,
    org_role: Option<app::auth::OrgRole>,
) -> (String, String) {
    let password = "correct horse battery staple";
    let user = state
        .auth
        .create_superadmin(email, password, "")
        .await
        .expect("account created");
    server::db::users::set_platform_role(&state.db, &user.id, platform)
        .await
        .expect("platform role");
    let orgs = server::db::orgs::list(&state.db).await.expect("orgs");
    let org = &orgs[0];
    match org_role {
        Some(role) => server::db::orgs::set_member(&state.db, &org.id, &user.id, role)
            .await
            .expect("member"),
        None => {
            server::db::orgs::remove_member(&state.db, &org.id, &user.id)
                .await
                .expect("not a member");
        }
    }
    let set_cookie = state
        .auth
        .start_session(&user, &app::auth::RequestMeta::default(), "test")
        .await
        .expect("session");
    let cookie = set_cookie.split(';').next().expect("name=value").to_string();
    (user.id, cookie)
}

/// A migrated SQLite database in a fresh temp file (the directory lives as long as the process).
pub async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let db = Db::connect(&DbUrl::Sqlite {
        path: dir.join("test.db"),
    })
    .await
    .expect("sqlite opens");
    db.migrate().await.expect("sqlite migrates");
    db
}

/// A migrated, empty Postgres database of its own.
pub async fn postgres() -> Db {
    let admin = pg_admin_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin_db = Db::connect(&DbUrl::Postgres { url: admin.clone() })
        .await
        .expect("postgres admin connects");
    if let Db::Postgres(pool) = &admin_db {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(pool)
            .await
            .expect("create database");
    }
    admin_db.close().await;
    let url = replace_db_name(&admin, &name);
    let db = Db::connect(&DbUrl::Postgres { url })
        .await
        .expect("postgres connects");
    db.migrate().await.expect("postgres migrates");
    db
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map(|(b, q)| (b, Some(q)))
        .unwrap_or((url, None));
    let base = base.rsplit_once('/').map(|(head, _)| head).unwrap_or(base);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub fn pg_admin_url() -> String {
    if let Ok(url) = std::env::var("CATALYST_TEST_PG_URL") {
        return url;
    }
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    match CLUSTER.get_or_init(start_cluster) {
        Ok(url) => url.clone(),
        Err(e) => panic!(
            "no Postgres for the store tests: {e}. Install Debian's `postgresql`, or set CATALYST_TEST_PG_URL."
        ),
    }
}

fn pg_bin_dir() -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_string())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

/// Runs a Postgres tool, as the `postgres` user when we are root (initdb refuses to run as root).
fn pg_tool(bin: &std::path::Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn start_cluster() -> Result<String, String> {
    let bin = pg_bin_dir()?;
    let dir = tempfile::Builder::new()
        .prefix("catalyst-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("cannot chown the cluster directory to postgres".into());
        }
    }
    let data = dir.join("data");
    let out = pg_tool(&bin, "initdb")
        .args(["-A", "trust", "-U", "catalyst", "-E", "UTF8", "--no-sync", "-D"])
        .arg(&data)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        dir.display()
    );
    let out = pg_tool(&bin, "pg_ctl")
        .arg("-D")
        .arg(&data)
        .args(["-o", &opts, "-l"])
        .arg(dir.join("log"))
        .args(["-w", "start"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Watchdog: when this test process exits, stop the cluster and remove its directory.
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- {}/pg_ctl -D {} -m immediate stop",
            bin.display(),
            data.display()
        )
    } else {
        format!("{}/pg_ctl -D {} -m immediate stop", bin.display(), data.display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
    Ok(format!("postgres://catalyst@127.0.0.1:{port}/postgres"))
}

/// Generates `sqlite` and `postgres` tests for each listed `async fn name(db: Db)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name(super::common::sqlite().await).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name(super::common::postgres().await).await
                }
            }
        )*
    };
}

/// How long a test waits for the next piece of a response before it fails instead of hanging.
const STALL: std::time::Duration = std::time::Duration::from_secs(30);

/// The whole body of `body` (at most `limit` bytes), like `axum::body::to_bytes`, except that a response that
/// stops coming fails the test with what had arrived so far instead of hanging it: the part of a server-
/// rendered page before the stall names the view that never finished.
pub async fn to_bytes(mut body: axum::body::Body, limit: usize) -> Result<axum::body::Bytes, String> {
    use http_body_util::BodyExt;
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(STALL, body.frame()).await {
            Err(_) => panic!(
                "the response body stalled for {STALL:?} after {} bytes: …{}",
                got.len(),
                String::from_utf8_lossy(&got[got.len().saturating_sub(2000)..])
            ),
            Ok(None) => return Ok(got.into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    got.extend_from_slice(&data);
                    if got.len() > limit {
                        return Err(format!("the body is over {limit} bytes"));
                    }
                }
            }
        }
    }
}

/// `router.oneshot(req)`, failing the test if no response head comes within 30 s instead of hanging it.
pub async fn oneshot(router: axum::Router, req: http::Request<axum::body::Body>) -> axum::response::Response {
    use tower::ServiceExt;
    let what = format!("{} {}", req.method(), req.uri());
    match tokio::time::timeout(STALL, router.oneshot(req)).await {
        Ok(res) => res.unwrap_or_else(|e| match e {}),
        Err(_) => panic!("{what}: no response head within {STALL:?}"),
    }
}

/// Sends `req` through `router` and reads the whole answer: status, headers and body (up to 16 MiB), each
/// failing the test after 30 s of silence instead of hanging it.
pub async fn send(
    router: &axum::Router,
    req: http::Request<axum::body::Body>,
) -> (http::StatusCode, http::HeaderMap, axum::body::Bytes) {
    let res = oneshot(router.clone(), req).await;
    let (status, headers) = (res.status(), res.headers().clone());
    let body = to_bytes(res.into_body(), 16 * 1024 * 1024).await.expect("body");
    (status, headers, body)
}
