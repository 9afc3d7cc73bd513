//! The wizard's server side: the draft store on both backends, and the server functions driven with
//! hand-crafted requests (what a client that skips the browser's checks would send).

mod common;

use axum::Router;
use axum::body::{Body, to_bytes};
use http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use server::db::{self, Db, DbUrl};
use tower::ServiceExt;

on_both_backends!(drafts_round_trip);

async fn drafts_round_trip(db: Db) {
    assert_eq!(db::drafts::get(&db, "u1").await.expect("get"), None);
    db::drafts::put(&db, "u1", r#"{"a":1}"#, 0).await.expect("put");
    db::drafts::put(&db, "u2", r#"{"b":2}"#, 3).await.expect("put");
    db::drafts::put(&db, "u1", r#"{"a":2}"#, 1)
        .await
        .expect("overwrite");
    let row = db::drafts::get(&db, "u1").await.expect("get").expect("exists");
    assert_eq!(row.draft, r#"{"a":2}"#);
    assert_eq!(row.completed, 1);
    assert!(row.updated_at >= row.created_at);
    assert!(db::drafts::delete(&db, "u1").await.expect("delete"));
    assert!(!db::drafts::delete(&db, "u1").await.expect("delete again"));
    assert_eq!(
        db::drafts::delete_older_than(&db, i64::MAX).await.expect("sweep"),
        1
    );
    assert_eq!(db::drafts::get(&db, "u2").await.expect("get"), None);
}

async fn router() -> Router {
    let db = common::sqlite().await;
    let dir = tempfile::tempdir().expect("tempdir").keep();
    server::http::router(server::app_state(
        common::settings_for(DbUrl::SqliteMemory, dir),
        db,
    ))
}

struct Client {
    router: Router,
    cookie: Option<String>,
}

impl Client {
    async fn new() -> Client {
        Client {
            router: router().await,
            cookie: None,
        }
    }

    async fn call(&mut self, path: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
        let mut req = Request::post(path)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).expect("req"))
            .await
            .expect("infallible");
        if let Some(set) = res.headers().get("set-cookie") {
            let v = set.to_str().expect("ascii");
            assert!(v.contains("HttpOnly"), "{v}");
            self.cookie = Some(v.split(';').next().expect("pair").to_string());
        }
        let status = res.status();
        let body = to_bytes(res.into_body(), 1 << 20).await.expect("body");
        let value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        (status, value)
    }

    async fn draft(&mut self) -> serde_json::Value {
        let (s, v) = self
            .call(app::wizard::api::GetWizard::PATH, serde_json::json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["draft"].clone()
    }

    async fn save(
        &mut self,
        draft: &serde_json::Value,
        confirm: Option<&str>,
    ) -> (StatusCode, serde_json::Value) {
        self.call(
            app::wizard::api::SaveDraft::PATH,
            serde_json::json!({"draft": draft, "confirm": confirm}),
        )
        .await
    }
}

fn fields(v: &serde_json::Value) -> Vec<String> {
    v["Invalid"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_new_user_gets_the_defaults_and_keeps_their_draft() {
    let mut c = Client::new().await;
    let mut d = c.draft().await;
    assert!(c.cookie.is_some(), "the draft owner cookie is set");
    assert_eq!(d["request"]["org"]["name"], "Acme Financial");
    assert_eq!(d["request"]["topology"], "zoned");
    assert_eq!(d["request"]["domain"]["poolDomain"], "omani.works");
    assert_eq!(d["completed"], 0);
    d["request"]["org"]["name"] = "Globex Bank".into();
    let (s, v) = c.save(&d, Some("org")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["completed"], 1);
    let again = c.draft().await;
    assert_eq!(again["request"]["org"]["name"], "Globex Bank");
    assert_eq!(again["completed"], 1);
    // Another browser has its own draft.
    let mut other = Client::new().await;
    other.router = c.router.clone();
    assert_eq!(other.draft().await["request"]["org"]["name"], "Acme Financial");
}

#[tokio::test]
async fn the_server_rejects_what_the_browser_would_have() {
    let mut c = Client::new().await;
    let mut d = c.draft().await;
    d["request"]["org"]["name"] = "   ".into();
    let (s, v) = c.save(&d, Some("org")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["org.name"]);
    // The typed data is kept even though the step was not confirmed.
    assert_eq!(c.draft().await["completed"], 0);

    d["request"]["org"]["name"] = "Acme".into();
    assert_eq!(c.save(&d, Some("org")).await.0, StatusCode::OK);
    assert_eq!(c.save(&d, Some("topology")).await.0, StatusCode::OK);
    // A provider Catalyst cannot provision is refused, not accepted and ignored.
    d["request"]["regions"][1]["provider"] = "aws".into();
    d["request"]["regions"][1]["cloudRegion"] = "eu-west-1".into();
    d["request"]["regions"][1]["controlPlaneSize"] = "m6i.xlarge".into();
    d["request"]["regions"][0]["workerCount"] = 51.into();
    let (s, v) = c.save(&d, Some("provider")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        fields(&v),
        vec![
            "regions[0].workerCount",
            "regions[0].workerSize",
            "regions[1].provider"
        ]
    );
}

#[tokio::test]
async fn steps_cannot_be_skipped() {
    let mut c = Client::new().await;
    let d = c.draft().await;
    let (s, v) = c.save(&d, Some("domain")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // Nor can the client raise its own progress.
    let mut forged = d.clone();
    forged["completed"] = 6.into();
    assert_eq!(c.save(&forged, None).await.0, StatusCode::OK);
    assert_eq!(c.draft().await["completed"], 0);
}

#[tokio::test]
async fn future_step_urls_redirect_to_the_first_incomplete_step() {
    let r = router().await;
    let res = r
        .clone()
        .oneshot(
            Request::get("/sovereign/wizard/domain")
                .header("accept", "text/html")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("infallible");
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/sovereign/wizard/organisation");
    let res = r
        .oneshot(
            Request::get("/sovereign/wizard/organisation")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
    let body = to_bytes(res.into_body(), 1 << 22).await.expect("body");
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("Tell us about your organisation"),
        "step 1 is server-rendered"
    );
    assert!(html.contains(r#"id="f-org-name""#));
    assert!(html.contains("Step 1 of 7 · Organisation · 14%"));
}

#[tokio::test]
async fn subdomain_check_and_key_generation() {
    let mut c = Client::new().await;
    let check = |sub: &str| serde_json::json!({"pool_domain": "omani.works", "subdomain": sub});
    let (s, v) = c
        .call(app::wizard::api::CheckSubdomain::PATH, check("acme"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "available");
    assert_eq!(v["fqdn"], "acme.omani.works");
    assert_eq!(
        c.call(app::wizard::api::CheckSubdomain::PATH, check("console"))
            .await
            .1["status"],
        "reserved"
    );
    assert_eq!(
        c.call(app::wizard::api::CheckSubdomain::PATH, check("-x"))
            .await
            .1["status"],
        "invalid"
    );
    let (_, v) = c
        .call(
            app::wizard::api::CheckSubdomain::PATH,
            serde_json::json!({"pool_domain": "evil.example", "subdomain": "acme"}),
        )
        .await;
    assert_eq!(v["status"], "unsupported-pool");

    let (s, v) = c
        .call(
            app::wizard::api::GenerateSshKey::PATH,
            serde_json::json!({"fqdn": "acme.omani.works"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let public = v["publicKey"].as_str().expect("public key");
    assert!(public.ends_with("catalyst@acme.omani.works"));
    assert_eq!(app::deployments::validate::ssh_public_key(public), None);
    assert!(
        v["privateKey"]
            .as_str()
            .is_some_and(|k| k.contains("OPENSSH PRIVATE KEY"))
    );
    // The private key is not kept: the draft has no trace of it.
    let d = c.draft().await;
    assert!(!d.to_string().contains("PRIVATE"));
}

#[tokio::test]
async fn launch_validates_the_whole_request_again() {
    let mut c = Client::new().await;
    let d = c.draft().await;
    let mut request = d["request"].clone();
    request["sshPublicKey"] = "not a key".into();
    request["domain"]["subdomain"] = "console".into();
    let (s, v) = c
        .call(
            app::wizard::api::Launch::PATH,
            serde_json::json!({"create": {"request": request, "secrets": {"hetznerToken": "short"}}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        fields(&v),
        vec![
            "hetznerProjectId",
            "sshPublicKey",
            "domain.subdomain",
            "secrets.hetznerToken"
        ]
    );
}

/// Starts the Hetzner stand-in on a free port; it is killed when the guard drops.
struct StandIn(std::process::Child, u16);

impl StandIn {
    fn start() -> StandIn {
        use std::io::BufRead;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut child = std::process::Command::new("python3")
            .arg(root.join("tests/standins/hetzner_tokens.py"))
            .args(["--port", "0"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the stand-in");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the stand-in prints its port");
        let port = line
            .trim()
            .trim_start_matches("listening on ")
            .parse()
            .expect("a port");
        StandIn(child, port)
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn token_check_against_the_hetzner_api() {
    let standin = StandIn::start();
    let db = common::sqlite().await;
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut settings = common::settings_for(DbUrl::SqliteMemory, dir);
    settings.hetzner_api_url = format!("http://127.0.0.1:{}/v1", standin.1);
    let mut c = Client {
        router: server::http::router(server::app_state(settings, db)),
        cookie: None,
    };
    let path = app::wizard::api::CheckHetznerToken::PATH;
    let good = format!("valid{}", "x".repeat(59));
    let (s, v) = c.call(path, serde_json::json!({"token": good})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["valid"], true);
    let (_, v) = c.call(path, serde_json::json!({"token": "w".repeat(64)})).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["failure"], "rejected");
    assert_eq!(v["status"], 401);
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("Read & Write")),
        "{v}"
    );
    assert!(
        !v.to_string().contains(&"w".repeat(64)),
        "the token is never echoed"
    );
    let (_, v) = c.call(path, serde_json::json!({"token": "short"})).await;
    assert_eq!(v["failure"], "too-short");

    // Nothing listening: unreachable.
    let mut c = Client::new().await;
    let (_, v) = c.call(path, serde_json::json!({"token": good})).await;
    assert_eq!(v["failure"], "unreachable", "{v}");
}
