//! The deployments REST API through the router: create/validation, the kubeconfig PUT-back rules, delete,
//! the SSE stream's reconnect, and a scan of every event, API response and log line for secrets.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use app::auth::{OrgRole, PlatformRole};
use axum::Router;
use axum::body::Body;
use common::engine::{
    GitRepo, KubeStandin, TOKEN, eventually, helm_releases, module_dir, request, standin_tofu,
};
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use server::crypto::SecretBox;
use server::db::{Db, DbUrl};

/// Everything the server logs in this test binary (the secret scan reads it).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=warn,hyper=warn,kube=info,tower=info,h2=warn,rustls=warn")
            .with_writer(move || Capture(writer.clone()))
            .try_init();
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone)]
struct Api {
    router: Router,
    engine: server::deployments::Engine,
    state: server::state::AppState,
    work_root: std::path::PathBuf,
    /// The session cookie requests carry (`None`: anonymous).
    cookie: Option<String>,
    _git: Arc<GitRepo>,
}

on_both_backends!(
    create_answers_201_and_names_every_invalid_field,
    kubeconfig_put_follows_the_bearer_rules,
    a_kubeconfig_before_the_api_address_is_known_is_asked_to_come_back,
    delete_is_refused_in_flight_and_removes_a_settled_record,
    sse_reconnect_with_last_event_id_loses_and_repeats_nothing,
    a_subscriber_that_falls_behind_the_live_buffer_still_gets_every_event_once,
    no_secret_appears_in_events_api_responses_or_logs,
    every_deployment_operation_needs_a_session_the_role_and_the_organisation,
);

/// The router over a fresh database, provisioning through the `tofu` stand-in with `tofu_env` switches;
/// requests are signed in as an owner of the console's organisation.
async fn api_with(db: Db, tofu_env: &[(&str, &str)], tofu_bin: Option<std::path::PathBuf>) -> Api {
    logs();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let git = GitRepo::new();
    let mut settings = common::settings_for(DbUrl::SqliteMemory, dir.clone());
    settings.engine.tofu_bin = tofu_bin.unwrap_or_else(standin_tofu);
    settings.engine.tofu_module_dir = module_dir();
    settings.gitops = git.settings();
    let mut cfg = server::engine_config(&settings);
    cfg.tofu_env = tofu_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // What each new control plane's user data carries (the tenant can read it on its server).
    cfg.tofu_env.push((
        "TOFU_STANDIN_USERDATA".into(),
        dir.join("userdata").display().to_string(),
    ));
    let state = server::app_state_with_engine(settings, db, SecretBox::generate(), cfg);
    let (_, cookie) = common::sign_in(&state, "owner@acme.example", None, Some(OrgRole::Owner)).await;
    Api {
        engine: state.engine.clone(),
        router: server::http::router(state.clone()),
        state,
        work_root: dir.join("deployments"),
        cookie: Some(cookie),
        _git: Arc::new(git),
    }
}

async fn api(db: Db) -> Api {
    api_with(db, &[], None).await
}

impl Api {
    /// The same console, as another person: a new account with `platform` and (in the console's first
    /// organisation) `org_role`.
    async fn as_new_user(
        &self,
        email: &str,
        platform: Option<PlatformRole>,
        org_role: Option<OrgRole>,
    ) -> Api {
        let (_, cookie) = common::sign_in(&self.state, email, platform, org_role).await;
        Api {
            cookie: Some(cookie),
            ..self.clone()
        }
    }

    /// The same console without a session.
    fn anonymous(&self) -> Api {
        Api {
            cookie: None,
            ..self.clone()
        }
    }

    /// Adds the session cookie and, on state changes, the `Origin` the CSRF check wants.
    fn sign(&self, mut req: Request<Body>) -> Request<Body> {
        if let Some(cookie) = &self.cookie {
            req.headers_mut()
                .insert(http::header::COOKIE, cookie.parse().expect("cookie header"));
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            req.headers_mut()
                .insert(http::header::ORIGIN, common::ORIGIN.parse().expect("origin"));
        }
        req
    }

    /// A streaming request (SSE) as this caller.
    async fn open(&self, req: Request<Body>) -> http::Response<Body> {
        common::oneshot(self.router.clone(), self.sign(req)).await
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
        self.send_raw(self.sign(req)).await
    }

    /// Sends as is: no cookie, no origin (what cloud-init sends).
    async fn send_raw(&self, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
        let (status, headers, body) = common::send(&self.router, req).await;
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn json(&self, method: Method, uri: &str, body: &str) -> (StatusCode, serde_json::Value, String) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let (s, _, text) = self.send(req).await;
        (
            s,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            text,
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, serde_json::Value, String) {
        let (s, _, text) = self
            .send(Request::get(uri).body(Body::empty()).expect("request"))
            .await;
        (
            s,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            text,
        )
    }

    async fn create(&self, fqdn: &str) -> String {
        let body = serde_json::to_string(&request(fqdn)).expect("json");
        let (s, v, text) = self
            .json(Method::POST, "/sovereign/api/v1/deployments", &body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{text}");
        v["id"].as_str().expect("id").to_string()
    }

    async fn status(&self, id: &str) -> String {
        let (_, v, _) = self.get(&format!("/sovereign/api/v1/deployments/{id}")).await;
        v["status"].as_str().unwrap_or_default().to_string()
    }

    async fn wait_for(&self, id: &str, want: &str, secs: u64) {
        eventually(secs, want, || async {
            (self.status(id).await == want).then_some(())
        })
        .await
    }

    /// The bearer in the user data of the primary region's newest control plane.
    fn bearer(&self, id: &str) -> String {
        let userdata = self.work_root.parent().expect("data dir").join("userdata");
        common::engine::userdata_bearer(&userdata, id, "fsn1").expect("a control plane was created")
    }

    async fn put_kubeconfig(
        &self,
        id: &str,
        auth: Option<&str>,
        query: &str,
        body: Vec<u8>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = Request::put(format!("/sovereign/api/v1/deployments/{id}/kubeconfig{query}"))
            .header("content-type", "application/x-yaml");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let (s, _, text) = self.send_raw(req.body(Body::from(body)).expect("request")).await;
        (s, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }
}

async fn create_answers_201_and_names_every_invalid_field(db: Db) {
    let api = api(db).await;
    let body = serde_json::to_string(&request("created.example.com")).expect("json");
    let req = Request::post("/sovereign/api/v1/deployments")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let (s, headers, text) = api.send(req).await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let id = v["id"].as_str().expect("id");
    assert_eq!(id.len(), 20);
    assert_eq!(v["status"], "pending");
    assert_eq!(
        v["streamUrl"],
        format!("/sovereign/api/v1/deployments/{id}/stream")
    );
    assert_eq!(headers["location"], format!("/sovereign/api/v1/deployments/{id}"));

    let mut bad = request("bad.example.com");
    bad.request.org.name = " ".into();
    bad.secrets.hetzner_token = app::deployments::Secret::new("");
    let (s, v, _) = api
        .json(
            Method::POST,
            "/sovereign/api/v1/deployments",
            &serde_json::to_string(&bad).expect("json"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"org.name") && fields.contains(&"secrets.hetznerToken"),
        "{fields:?}"
    );

    // The selection is checked against the catalog: unknown ids, and what is always installed.
    let mut bad = request("bad-components.example.com");
    bad.request.components = vec!["no-such-component".into()];
    let (s, v, _) = api
        .json(
            Method::POST,
            "/sovereign/api/v1/deployments",
            &serde_json::to_string(&bad).expect("json"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = v["fields"].as_array().expect("fields");
    assert!(
        fields.iter().any(|f| f["field"] == "components[0]"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("no-such-component"))),
        "{v}"
    );
    assert!(
        fields.iter().any(|f| f["field"] == "components"
            && f["message"]
                .as_str()
                .is_some_and(|m| m.contains("always installed"))),
        "{v}"
    );

    // The same domain cannot be deployed twice while the first deployment lives.
    let (s, v, _) = api
        .json(
            Method::POST,
            "/sovereign/api/v1/deployments",
            &serde_json::to_string(&request("created.example.com")).expect("json"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(v["detail"].as_str().expect("detail").contains(id), "{v}");

    let (s, v, _) = api.get("/sovereign/api/v1/deployments?status=nonsense").await;
    assert_eq!(
        (s, v["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("status"))
    );
    let (s, v, _) = api.get("/sovereign/api/v1/deployments?sort=fqdn&dir=asc").await;
    assert_eq!((s, v["total"].as_i64()), (StatusCode::OK, Some(1)));
    let (s, _, _) = api.get("/sovereign/api/v1/deployments/doesnotexist").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn kubeconfig_put_follows_the_bearer_rules(db: Db) {
    let kube = KubeStandin::start();
    let (k, v) = kube.tofu_env();
    let api = api_with(db, &[(k, &v)], None).await;
    let id = api.create("kubeconfig.example.com").await;
    api.wait_for(&id, "waiting-for-cluster", 60).await;
    let bearer = api.bearer(&id);
    let good = kube.kubeconfig().into_bytes();
    let auth = format!("Bearer {bearer}");

    let (s, v) = api
        .put_kubeconfig("nosuchdeployment", Some(&auth), "", good.clone())
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not-found"))
    );
    let (s, v) = api.put_kubeconfig(&id, None, "", good.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing-bearer"))
    );
    let (s, v) = api
        .put_kubeconfig(&id, Some(&format!("Basic {bearer}")), "", good.clone())
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing-bearer"))
    );
    let (s, v) = api
        .put_kubeconfig(&id, Some("Bearer not-the-right-one"), "", good.clone())
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("invalid-bearer"))
    );
    let (s, v) = api.put_kubeconfig(&id, Some(&auth), "", Vec::new()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("empty-body"))
    );
    let (s, v) = api
        .put_kubeconfig(&id, Some(&auth), "", vec![b'a'; 1024 * 1024 + 1])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body-too-large"))
    );
    let (s, v) = api
        .put_kubeconfig(&id, Some(&auth), "", b"hello: world\n".to_vec())
        .await;
    assert_eq!(
        (s, v["error"].as_str(), v["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("refused-field"),
            Some("hello")
        )
    );
    // A command to run is refused with the field named (and the bearer is not used up by a refusal).
    let exec = kube.kubeconfig().replace(
        "  user:\n",
        "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'id > /tmp/catalyst-exec-marker']\n",
    );
    let (s, v) = api.put_kubeconfig(&id, Some(&auth), "", exec.into_bytes()).await;
    assert_eq!(
        (s, v["error"].as_str(), v["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("refused-field"),
            Some("users[0].user.exec")
        ),
        "{v}"
    );
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("never runs commands")),
        "{v}"
    );
    let (s, v) = api
        .put_kubeconfig(&id, Some(&auth), "?region=mars1", good.clone())
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown-region"))
    );
    // The bearer of another deployment is not this one's.
    let other = api.create("kubeconfig-other.example.com").await;
    api.wait_for(&other, "waiting-for-cluster", 60).await;
    let (s, _) = api
        .put_kubeconfig(
            &id,
            Some(&format!("Bearer {}", api.bearer(&other))),
            "",
            good.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, _) = api
        .put_kubeconfig(&id, Some(&auth), "?region=fsn1", good.clone())
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api.put_kubeconfig(&id, Some(&auth), "", good.clone()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::CONFLICT, Some("already-set")),
        "single use"
    );

    let (s, headers, yaml) = api
        .send(
            Request::get(format!("/sovereign/api/v1/deployments/{id}/kubeconfig"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/yaml");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"kubeconfig.example.com-kubeconfig.yaml\""
    );
    // What is stored and handed out is the reduced form: our names, the accepted fields only.
    assert!(yaml.contains(&format!("server: {}", kube.url)), "{yaml}");
    assert!(yaml.contains("certificate-authority-data: "), "{yaml}");
    assert!(yaml.contains("token: kube-admin-token-123456"), "{yaml}");
    assert!(
        yaml.contains("current-context: kubeconfig.example.com-fsn1"),
        "{yaml}"
    );
    assert!(!yaml.contains("sovereign") && !yaml.contains("admin\n"), "{yaml}");
    let (s, _, _) = api
        .get(&format!("/sovereign/api/v1/deployments/{other}/kubeconfig"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not delivered yet");
}

async fn a_kubeconfig_before_the_api_address_is_known_is_asked_to_come_back(db: Db) {
    // Apply is done (the control plane booted with its bearer), `tofu output` has not answered yet.
    let kube = KubeStandin::start();
    let (k, v) = kube.tofu_env();
    let api = api_with(db, &[(k, &v), ("TOFU_STANDIN_HANG_AT", "output")], None).await;
    let id = api.create("early.example.com").await;
    let userdata = api.work_root.parent().expect("data dir").join("userdata");
    let bearer = eventually(60, "the control plane's user data", || async {
        common::engine::userdata_bearer(&userdata, &id, "fsn1")
    })
    .await;
    assert_eq!(api.status(&id).await, "provisioning");
    let (s, headers, text) = api
        .send_raw(
            Request::put(format!("/sovereign/api/v1/deployments/{id}/kubeconfig"))
                .header("authorization", format!("Bearer {bearer}"))
                .body(Body::from(kube.kubeconfig()))
                .expect("request"),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert_eq!(headers["retry-after"], "10");
    assert!(text.contains("api-address-unknown"), "{text}");
    let (s, _, _) = api
        .json(
            Method::POST,
            &format!("/sovereign/api/v1/deployments/{id}/cancel"),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    api.wait_for(&id, "failed", 60).await;
    // The run ended: the bearer no longer works.
    let (s, v) = api
        .put_kubeconfig(
            &id,
            Some(&format!("Bearer {bearer}")),
            "",
            kube.kubeconfig().into_bytes(),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::GONE, Some("bearer-expired")),
        "{v}"
    );
}

async fn delete_is_refused_in_flight_and_removes_a_settled_record(db: Db) {
    let api = api_with(db, &[("TOFU_STANDIN_DELAY", "0.5")], None).await;
    let id = api.create("slow-delete.example.com").await;
    eventually(30, "provisioning", || async {
        (api.status(&id).await == "provisioning").then_some(())
    })
    .await;
    let req = |id: &str| {
        Request::delete(format!("/sovereign/api/v1/deployments/{id}"))
            .body(Body::empty())
            .expect("req")
    };
    let (s, _, text) = api.send(req(&id)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{text}");
    assert!(text.contains("cancel"), "{text}");
    let (s, v, _) = api
        .json(
            Method::POST,
            &format!("/sovereign/api/v1/deployments/{id}/cancel"),
            "",
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("failed")));
    let (s, _, _) = api.send(req(&id)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = api.send(req(&id)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a second delete is not found");
    assert!(!api.work_root.join(&id).exists());
}

/// Reads SSE messages from a streaming body until `stop` says so.
async fn read_sse(
    body: &mut Body,
    mut stop: impl FnMut(&[(Option<String>, Option<String>, String)]) -> bool,
) -> Vec<(Option<String>, Option<String>, String)> {
    let mut buf = String::new();
    let mut out = Vec::new();
    // Heartbeats keep a stream alive: give up on a condition that never comes.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the SSE condition was not met within 60 s; got {out:?}"
        );
        let frame = tokio::time::timeout(Duration::from_secs(30), body.frame())
            .await
            .expect("SSE frame in time");
        let Some(frame) = frame else { break };
        let frame = frame.expect("frame");
        if let Some(data) = frame.data_ref() {
            buf.push_str(&String::from_utf8_lossy(data));
        }
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, None, String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if id.is_some() || event.is_some() || !data.is_empty() {
                out.push((id, event, data));
            }
        }
        if stop(&out) {
            break;
        }
    }
    out
}

async fn sse_reconnect_with_last_event_id_loses_and_repeats_nothing(db: Db) {
    let api = api_with(
        db,
        &[
            ("TOFU_STANDIN_DELAY", "0.05"),
            ("TOFU_STANDIN_FAIL_RESOURCE", "hcloud_server.worker"),
        ],
        None,
    )
    .await;
    let id = api.create("sse.example.com").await;
    let uri = format!("/sovereign/api/v1/deployments/{id}/stream");
    let res = api
        .open(Request::get(&uri).body(Body::empty()).expect("req"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    let first = read_sse(&mut body, |msgs| {
        msgs.iter().filter(|m| m.0.is_some()).count() >= 25
    })
    .await;
    drop(body);
    let last_id = first.iter().rev().find_map(|m| m.0.clone()).expect("an id");

    let res = api
        .open(
            Request::get(&uri)
                .header("last-event-id", &last_id)
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    let mut body = res.into_body();
    let second = read_sse(&mut body, |msgs| {
        msgs.iter().any(|m| m.1.as_deref() == Some("done"))
    })
    .await;
    let done = second
        .iter()
        .find(|m| m.1.as_deref() == Some("done"))
        .expect("done event");
    let state: serde_json::Value = serde_json::from_str(&done.2).expect("done data is the deployment");
    assert_eq!(state["status"], "failed");
    assert_eq!(state["error"]["phase"], "tofu-apply");

    let seqs: Vec<i64> = first
        .iter()
        .chain(second.iter())
        .filter_map(|m| m.0.as_deref().and_then(|i| i.parse().ok()))
        .collect();
    let last_seq = state["lastSeq"].as_i64().expect("lastSeq");
    assert_eq!(
        seqs,
        (1..=last_seq).collect::<Vec<_>>(),
        "every event exactly once, in order"
    );
    for m in first.iter().chain(second.iter()).filter(|m| m.0.is_some()) {
        let e: serde_json::Value = serde_json::from_str(&m.2).expect("event json");
        assert_eq!(e["seq"].to_string(), *m.0.as_ref().expect("id"), "id: is the seq");
    }
    // `?after=` works the same for clients that cannot set headers; a settled stream ends at once.
    let res = api
        .open(
            Request::get(format!("{uri}?after={last_seq}"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    let mut body = res.into_body();
    let tail = read_sse(&mut body, |msgs| {
        msgs.iter().any(|m| m.1.as_deref() == Some("done"))
    })
    .await;
    assert_eq!(tail.len(), 1, "only the done event: {tail:?}");
}

async fn a_subscriber_that_falls_behind_the_live_buffer_still_gets_every_event_once(db: Db) {
    use server::db::deployment_events::NewEvent;
    // The run hangs in `tofu init`, so the deployment stays in flight while events are appended by hand.
    let api = api_with(db, &[("TOFU_STANDIN_HANG_AT", "init")], None).await;
    let id = api.create("lagging.example.com").await;
    let uri = format!("/sovereign/api/v1/deployments/{id}/stream");
    let res = api
        .open(Request::get(&uri).body(Body::empty()).expect("req"))
        .await;
    let mut body = res.into_body();
    // Subscribed and replayed: the stream has reached the live part.
    let mut got = read_sse(&mut body, |msgs| {
        msgs.iter()
            .any(|m| m.2.contains("Initialising the OpenTofu working directory"))
    })
    .await;
    // Far more than the broadcast buffer holds while this subscriber reads nothing.
    let burst = (server::deployments::hub::BROADCAST_CAPACITY * 3).div_ceil(100) * 100;
    for chunk in 0..burst / 100 {
        let events: Vec<NewEvent> = (0..100)
            .map(|i| NewEvent::info(app::deployments::Phase::TofuInit, format!("burst {chunk}-{i}")))
            .collect();
        api.engine.append(&id, &events, &[]).await.expect("append");
    }
    let (s, _, text) = api
        .json(
            Method::POST,
            &format!("/sovereign/api/v1/deployments/{id}/cancel"),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    got.extend(
        read_sse(&mut body, |msgs| {
            msgs.iter().any(|m| m.1.as_deref() == Some("done"))
        })
        .await,
    );
    let (_, d, _) = api.get(&format!("/sovereign/api/v1/deployments/{id}")).await;
    let last_seq = d["lastSeq"].as_i64().expect("lastSeq");
    let seqs: Vec<i64> = got
        .iter()
        .filter_map(|m| m.0.as_deref().and_then(|i| i.parse().ok()))
        .collect();
    assert!(last_seq > burst as i64, "{last_seq}");
    assert_eq!(
        seqs,
        (1..=last_seq).collect::<Vec<_>>(),
        "every event exactly once, in order, across the lag"
    );
}

async fn no_secret_appears_in_events_api_responses_or_logs(db: Db) {
    // A misbehaving provider: echoes the variables file, token and bearer included, on stderr.
    let wrapper_dir = tempfile::tempdir().expect("tempdir");
    let wrapper = wrapper_dir.path().join("tofu");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n[ -f tofu.auto.tfvars.json ] && echo \"provider debug: $(tr -d '\\n' < tofu.auto.tfvars.json) token=$TF_VAR_hcloud_token bearers=$TF_VAR_kubeconfig_bearer_tokens\" >&2\nexec {} \"$@\"\n",
            standin_tofu().display()
        ),
    )
    .expect("wrapper");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let kube = KubeStandin::start();
    let (k, v) = kube.tofu_env();
    let api = api_with(
        db,
        &[
            ("TOFU_STANDIN_FAIL_RESOURCE", "hcloud_load_balancer.region"),
            ("TOFU_STANDIN_FAIL_TIMES", "1"),
            (k, &v),
        ],
        Some(wrapper),
    )
    .await;
    let id = api.create("secrets.example.com").await;
    api.wait_for(&id, "failed", 60).await;
    let (s, _, _) = api
        .json(
            Method::POST,
            &format!("/sovereign/api/v1/deployments/{id}/retry"),
            "",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    api.wait_for(&id, "waiting-for-cluster", 60).await;
    let bearer = api.bearer(&id);
    let kubeconfig = kube.kubeconfig();
    let (s, _) = api
        .put_kubeconfig(
            &id,
            Some(&format!("Bearer {bearer}")),
            "",
            kubeconfig.into_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for c in helm_releases(&request("secrets.example.com").request.components) {
        kube.set(&format!("bp-{c}"), Some(("True", "InstallSucceeded", "ok")))
            .await;
    }
    api.wait_for(&id, "ready", 20).await;

    let mut seen = Vec::new();
    for uri in [
        format!("/sovereign/api/v1/deployments/{id}"),
        "/sovereign/api/v1/deployments".to_string(),
        format!("/sovereign/api/v1/deployments/{id}/events?limit=1000"),
        format!("/sovereign/api/v1/deployments/{id}/stream"),
    ] {
        let (s, _, text) = api
            .send(Request::get(&uri).body(Body::empty()).expect("req"))
            .await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        seen.push((uri, text));
    }
    let events = &seen[2].1;
    assert!(
        events.contains("provider debug: {")
            && events.contains("token=[redacted] bearers={\\\"fsn1\\\":\\\"[redacted]\\\"}"),
        "the echoed token and bearer were masked"
    );
    seen.push((
        "logs".into(),
        String::from_utf8_lossy(&logs().lock().unwrap_or_else(|e| e.into_inner())).into_owned(),
    ));
    assert!(
        seen.last().is_some_and(|(_, l)| l.contains("deployment created")),
        "logs were captured"
    );
    for (what, text) in &seen {
        for secret in [TOKEN, bearer.as_str(), "kube-admin-token-123456"] {
            assert!(
                !text.contains(secret),
                "{what} contains a secret ({}…)",
                &secret[..8]
            );
        }
    }
}

/// `(status, body)` of `method uri` (JSON `body` for POSTs) as `api`'s caller.
async fn call(api: &Api, method: Method, uri: &str, body: &str) -> (StatusCode, String) {
    let (s, _, text) = api.json(method, uri, body).await;
    (s, text)
}

async fn every_deployment_operation_needs_a_session_the_role_and_the_organisation(db: Db) {
    // Runs fail at `tofu init` at once, so deployments settle (failed) and every operation applies.
    let owner = api_with(db, &[("TOFU_STANDIN_FAIL_AT", "init")], None).await;
    let id = owner.create("gated.example.com").await;
    owner.wait_for(&id, "failed", 30).await;
    let d = format!("/sovereign/api/v1/deployments/{id}");
    let create_body = |fqdn: &str| serde_json::to_string(&request(fqdn)).expect("json");
    let wipe_body = r#"{"confirm": "gated.example.com"}"#;

    // Anonymous: 401 everywhere but the kubeconfig PUT-back (its own bearer).
    let anon = owner.anonymous();
    for (m, uri, body) in [
        (
            Method::GET,
            "/sovereign/api/v1/deployments".to_string(),
            String::new(),
        ),
        (
            Method::POST,
            "/sovereign/api/v1/deployments".to_string(),
            create_body("anon.example.com"),
        ),
        (Method::GET, d.clone(), String::new()),
        (Method::GET, format!("{d}/events"), String::new()),
        (Method::GET, format!("{d}/stream"), String::new()),
        (Method::GET, format!("{d}/kubeconfig"), String::new()),
        (Method::POST, format!("{d}/retry"), String::new()),
        (Method::POST, format!("{d}/cancel"), String::new()),
        (Method::POST, format!("{d}/wipe"), wipe_body.to_string()),
        (Method::DELETE, d.clone(), String::new()),
    ] {
        let (s, text) = call(&anon, m.clone(), &uri, &body).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {uri}: {text}");
    }
    let (s, v) = anon
        .put_kubeconfig(&id, Some("Bearer wrong"), "", b"apiVersion: v1".to_vec())
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the PUT-back answers by its own bearer rules: {v}"
    );

    // A viewer of the organisation: reads, nothing else; each 403 names the permission.
    let viewer = owner
        .as_new_user("viewer@acme.example", None, Some(OrgRole::Viewer))
        .await;
    let (s, v, _) = viewer.get("/sovereign/api/v1/deployments").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 1, "{v}");
    let (s, v, _) = viewer.get(&d).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["can"],
        serde_json::json!({"retry": false, "cancel": false, "delete": false, "wipe": false, "kubeconfig": false}),
        "the page offers a viewer no actions"
    );
    let (_, v, _) = owner.get(&d).await;
    assert_eq!(
        v["can"],
        serde_json::json!({"retry": true, "cancel": true, "delete": true, "wipe": true, "kubeconfig": true})
    );
    assert_eq!(viewer.get(&format!("{d}/events")).await.0, StatusCode::OK);
    let res = viewer
        .open(
            Request::get(format!("{d}/stream"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    drop(res);
    for (m, uri, body, permission) in [
        (
            Method::POST,
            "/sovereign/api/v1/deployments".to_string(),
            create_body("viewer.example.com"),
            "deployments.create",
        ),
        (Method::DELETE, d.clone(), String::new(), "deployments.delete"),
        (
            Method::GET,
            format!("{d}/kubeconfig"),
            String::new(),
            "deployments.kubeconfig.download",
        ),
        (
            Method::POST,
            format!("{d}/wipe"),
            wipe_body.to_string(),
            "deployments.wipe",
        ),
        (
            Method::POST,
            format!("{d}/retry"),
            String::new(),
            "deployments.retry",
        ),
        (
            Method::POST,
            format!("{d}/cancel"),
            String::new(),
            "deployments.cancel",
        ),
    ] {
        let (s, text) = call(&viewer, m.clone(), &uri, &body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {uri}: {text}");
        assert!(text.contains(permission), "{m} {uri} names {permission}: {text}");
    }

    // An editor: creates and retries, but neither deletes nor wipes.
    let editor = owner
        .as_new_user("editor@acme.example", None, Some(OrgRole::Editor))
        .await;
    let (s, text) = call(&editor, Method::POST, &format!("{d}/retry"), "").await;
    assert_eq!(s, StatusCode::OK, "{text}");
    owner.wait_for(&id, "failed", 30).await;
    let (s, text) = call(&editor, Method::DELETE, &d, "").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{text}");
    let edited = editor.create("edited.example.com").await;

    // A member of another organisation: the deployment does not exist for them; what they create is
    // their organisation's, and invisible to the first.
    let zeta = server::db::orgs::create(&owner.state.db, "zeta", "Zeta")
        .await
        .expect("org")
        .expect("created");
    let (stranger_id, cookie) = common::sign_in(&owner.state, "owner@zeta.example", None, None).await;
    server::db::orgs::set_member(&owner.state.db, &zeta.id, &stranger_id, OrgRole::Owner)
        .await
        .expect("member");
    let stranger = Api {
        cookie: Some(cookie),
        ..owner.clone()
    };
    for (m, uri, body) in [
        (Method::GET, d.clone(), String::new()),
        (Method::GET, format!("{d}/events"), String::new()),
        (Method::GET, format!("{d}/stream"), String::new()),
        (Method::GET, format!("{d}/kubeconfig"), String::new()),
        (Method::POST, format!("{d}/retry"), String::new()),
        (Method::POST, format!("{d}/wipe"), wipe_body.to_string()),
        (Method::DELETE, d.clone(), String::new()),
    ] {
        let (s, text) = call(&stranger, m.clone(), &uri, &body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {uri}: {text}");
    }
    let (_, v, _) = stranger.get("/sovereign/api/v1/deployments").await;
    assert_eq!(v["total"], 0, "{v}");
    // Their attempt at the first organisation's domain is refused without naming that deployment (18.8).
    let (s, v, text) = stranger
        .json(
            Method::POST,
            "/sovereign/api/v1/deployments",
            &create_body("gated.example.com"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{text}");
    let detail = v["detail"].as_str().expect("detail");
    assert!(
        detail.contains("another organisation") && !detail.contains(&id) && !text.contains(&id),
        "names neither the deployment nor its state: {text}"
    );
    let theirs = stranger.create("zeta.example.com").await;
    let (_, v, _) = stranger
        .get(&format!("/sovereign/api/v1/deployments/{theirs}"))
        .await;
    assert_eq!(v["orgId"], zeta.id.as_str(), "their only organisation");
    assert_eq!(v["createdByName"], "owner@zeta.example");
    let (s, _, _) = owner
        .get(&format!("/sovereign/api/v1/deployments/{theirs}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, v, _) = owner.get("/sovereign/api/v1/deployments").await;
    let listed: Vec<&str> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    let mut want = vec![id.as_str(), edited.as_str()];
    let mut got = listed.clone();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want, "only the first organisation's deployments");

    // A superadmin sees every organisation's deployments and says where a new one goes.
    let admin = owner
        .as_new_user("root@acme.example", Some(PlatformRole::Superadmin), None)
        .await;
    let (_, v, _) = admin.get("/sovereign/api/v1/deployments").await;
    assert_eq!(v["total"], 3, "{v}");
    let (_, v, _) = admin
        .get(&format!("/sovereign/api/v1/deployments?orgId={}", zeta.id))
        .await;
    assert_eq!(v["total"], 1, "{v}");
    let (s, v, text) = admin
        .json(
            Method::POST,
            "/sovereign/api/v1/deployments",
            &create_body("root.example.com"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert_eq!(v["fields"][0]["field"], "orgId", "{v}");
    let mut body = request("root.example.com");
    body.org_id = Some(zeta.id.clone());
    let (s, v, text) = admin
        .json(
            Method::POST,
            "/sovereign/api/v1/deployments",
            &serde_json::to_string(&body).expect("json"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    let rooted = v["id"].as_str().expect("id").to_string();

    // The audit log names the real people and where they came from.
    let entries = server::db::audit::list(
        &owner.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("deployments.".into()),
            actor_id: None,
        },
        app::paging::PageRequest::new(Some(1), Some(100)),
    )
    .await
    .expect("audit");
    let created: Vec<(String, String)> = entries
        .items
        .iter()
        .filter(|e| e.action == "deployments.create")
        .map(|e| (e.actor.clone(), e.target.clone()))
        .collect();
    for (who, target) in [
        ("owner@acme.example", &id),
        ("editor@acme.example", &edited),
        ("owner@zeta.example", &theirs),
        ("root@acme.example", &rooted),
    ] {
        assert!(
            created.contains(&(who.to_string(), format!("deployment:{target}"))),
            "{who} created {target}: {created:?}"
        );
    }
    assert!(
        entries
            .items
            .iter()
            .any(|e| e.action == "deployments.retry" && e.actor == "editor@acme.example"),
        "the retry is audited"
    );
}
