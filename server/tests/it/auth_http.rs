//! Accounts and access over HTTP, in-process: the route walk (nothing but the public list answers without a
//! session), CSRF, sign-in and its failures, session expiry, permissions, API tokens, setup and sign-up.

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use app::auth::{OrgRole, PlatformRole};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Method, Request, StatusCode};
use leptos::server_fn::ServerFn;
use server::auth::public;
use server::config::Settings;
use server::db::Db;
use server::state::AppState;

/// The real router over a fresh database, and a way to call it as a browser does. Other accounts-and-access
/// test modules (`sso`) use it too.
pub(crate) struct H {
    pub(crate) router: Router,
    pub(crate) state: AppState,
}

on_both_backends!(
    no_route_outside_the_public_list_answers_without_a_session,
    the_public_list_answers_without_a_session,
    cookie_authorised_state_changes_need_the_consoles_origin,
    bearer_tokens_need_no_origin_and_act_with_their_owners_roles,
    wrong_password_and_unknown_user_get_the_same_answer,
    forms_without_javascript_sign_in_and_out_with_redirects,
    an_expired_session_redirects_pages_and_is_a_401_for_the_api,
    an_active_session_survives_its_idle_timeout_but_not_its_max_age,
    repeated_failures_lock_the_account_and_name_the_wait,
    one_address_is_limited_across_accounts,
    forbidden_actions_are_403s_naming_the_permission,
    role_changes_follow_the_policy_and_are_audited,
    first_run_offers_a_token_guarded_setup_page_once,
    invite_only_sign_up_needs_a_link_that_works_once,
    open_sign_up_gives_newcomers_their_own_organisation,
    changing_the_password_signs_out_other_sessions,
    a_change_made_by_another_replica_applies_within_the_cache_lifetime,
    versions_are_shown_to_superadmins_only,
);

pub(crate) fn settings() -> Settings {
    common::memory_settings()
}

async fn harness_with(db: Db, settings: Settings) -> H {
    harness_on(settings, db)
}

/// A harness over `db` (for tests that run on both backends).
pub(crate) fn harness_on(settings: Settings, db: server::db::Db) -> H {
    let state = server::app_state(settings, db);
    H {
        router: server::http::router(state.clone()),
        state,
    }
}

async fn harness(db: Db) -> H {
    harness_with(db, settings()).await
}

pub(crate) struct Res {
    pub(crate) status: StatusCode,
    pub(crate) headers: http::HeaderMap,
    /// The body as text (lossy: postcard answers are binary), for JSON bodies and assertion messages.
    pub(crate) body: String,
    pub(crate) bytes: Vec<u8>,
}

impl Res {
    /// A server function's error, decoded as the browser decodes it (`AppError`'s own encoding).
    pub(crate) fn app_error(&self) -> app::error::AppError {
        use leptos::server_fn::error::FromServerFnError;
        app::error::AppError::de(self.bytes.clone().into())
    }
    /// A shell server function's postcard answer (`app::wire`).
    pub(crate) fn wire<T: serde::de::DeserializeOwned>(&self) -> T {
        app::wire::decode(&self.bytes)
            .unwrap_or_else(|e| panic!("not the wire encoding ({e}): {:?}", self.bytes))
    }
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    /// The `name=value` of the session cookie this response sets.
    pub(crate) fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("catalyst_session=") && !c.starts_with("catalyst_session=;"))
            .map(|c| c.split(';').next().unwrap_or_default().to_string())
    }
}

impl H {
    pub(crate) async fn send(&self, mut req: Request<Body>) -> Res {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40000))));
        }
        let (status, headers, body) = common::send(&self.router, req).await;
        Res {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body.to_vec(),
        }
    }

    /// Calls a server function like the hydrated app does (form-encoded in, JSON out) with the console's Origin.
    pub(crate) async fn call(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Res {
        let mut req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("origin", common::ORIGIN);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        self.send(req.body(Body::from(encode(form))).expect("request"))
            .await
    }

    pub(crate) async fn user(
        &self,
        email: &str,
        platform: Option<PlatformRole>,
        role: Option<OrgRole>,
    ) -> (String, String) {
        common::sign_in(&self.state, email, platform, role).await
    }
}

fn encode(form: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

pub(crate) fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

pub(crate) fn with_cookie(mut req: Request<Body>, cookie: &str) -> Request<Body> {
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    req
}

pub(crate) const PASSWORD: &str = "correct horse battery staple";

// ---- the route walk -------------------------------------------------------------------------------------

/// Every route the router serves: the app's pages, every registered server function, the REST API, the
/// single sign-on redirects, the root redirects. Route parameters get sample values.
pub(crate) fn every_route() -> Vec<(Method, String)> {
    let mut routes = Vec::new();
    // The process-wide listing the routers use: generating another one here would hold back the resources of
    // pages other tests render meanwhile (see `server::http::routes`).
    for listing in server::http::routes() {
        let path: String = listing
            .path()
            .split('/')
            .map(|seg| match seg.chars().next() {
                Some(':') => "sample-id".to_string(),
                Some('*') => "a/b".to_string(),
                _ => seg.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
        for m in listing.methods() {
            let method = match m {
                leptos_router::Method::Get => Method::GET,
                leptos_router::Method::Post => Method::POST,
                leptos_router::Method::Put => Method::PUT,
                leptos_router::Method::Delete => Method::DELETE,
                leptos_router::Method::Patch => Method::PATCH,
            };
            routes.push((method, path.clone()));
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.push((method, path.to_string()));
    }
    // The REST API (`server/src/http/api.rs` joins each capability's `http::router`). Add new endpoints here; the
    // middleware denies unknown ones anyway, which the catch-all samples below check.
    for (m, p) in [
        (Method::GET, "/sovereign/api/v1/status"),
        (Method::GET, "/sovereign/api/v1/settings"),
        (Method::GET, "/sovereign/api/v1/settings/console.name"),
        (Method::PUT, "/sovereign/api/v1/settings/console.name"),
        (Method::DELETE, "/sovereign/api/v1/settings/console.name"),
        (Method::GET, "/sovereign/api/v1/catalog"),
        // The wizard's steps posted as plain forms (no JavaScript).
        (Method::POST, "/sovereign/wizard/organisation"),
        (Method::GET, "/sovereign/api/v1/deployments"),
        (Method::POST, "/sovereign/api/v1/deployments"),
        (Method::GET, "/sovereign/api/v1/deployments/sample-id"),
        (Method::DELETE, "/sovereign/api/v1/deployments/sample-id"),
        (Method::GET, "/sovereign/api/v1/deployments/sample-id/events"),
        (Method::GET, "/sovereign/api/v1/deployments/sample-id/stream"),
        (Method::POST, "/sovereign/api/v1/deployments/sample-id/retry"),
        (Method::POST, "/sovereign/api/v1/deployments/sample-id/cancel"),
        (Method::POST, "/sovereign/api/v1/deployments/sample-id/wipe"),
        (Method::GET, "/sovereign/api/v1/deployments/sample-id/kubeconfig"),
        (Method::GET, "/sovereign/api/v1/domain-holds"),
        (Method::POST, "/sovereign/api/v1/domain-holds/sample-id/release"),
        (Method::GET, "/sovereign/api/v1/deployments/sample-id/jobs"),
        (
            Method::GET,
            "/sovereign/api/v1/deployments/sample-id/jobs/sample-job",
        ),
        (
            Method::GET,
            "/sovereign/api/v1/deployments/sample-id/executions/sample-id/lines",
        ),
        // Public, with its own per-deployment bearer (`auth::public`): skipped by the walk, checked below.
        (Method::PUT, "/sovereign/api/v1/deployments/sample-id/kubeconfig"),
        (Method::GET, "/sovereign/api/v1/vouchers"),
        (Method::POST, "/sovereign/api/v1/vouchers"),
        (Method::GET, "/sovereign/api/v1/vouchers/sample-id"),
        (Method::PATCH, "/sovereign/api/v1/vouchers/sample-id"),
        (Method::DELETE, "/sovereign/api/v1/vouchers/sample-id"),
        (Method::POST, "/sovereign/api/v1/orgs/sample-id/vouchers/redeem"),
        (Method::GET, "/sovereign/api/v1/orgs/sample-id/billing"),
        // Public (`auth::public`): the voucher landing page outside /sovereign and its preview API.
        (Method::GET, "/redeem"),
        (Method::POST, "/sovereign/api/v1/vouchers/redeem-preview"),
        (Method::GET, "/sovereign/api/v1/no-such-endpoint"),
        (Method::DELETE, "/sovereign/api/v1/anything/at/all"),
        (Method::GET, "/"),
        (Method::GET, "/sovereign/"),
        (Method::GET, "/sovereign/no/such/page"),
        (Method::GET, public::OIDC_START),
        (Method::GET, public::OIDC_CALLBACK),
        (Method::GET, "/healthz"),
        (Method::GET, "/readyz"),
        (Method::GET, "/sovereign/favicon.svg"),
    ] {
        routes.push((m, p.to_string()));
    }
    routes.sort();
    routes.dedup();
    routes
}

async fn no_route_outside_the_public_list_answers_without_a_session(db: Db) {
    let h = harness(db).await;
    // An account exists (otherwise pages lead to the setup page instead of the login page).
    h.user(
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let routes = every_route();
    assert!(routes.len() >= 30, "the walk sees the whole router: {routes:?}");
    let mut checked = 0;
    for (method, path) in &routes {
        if public::is_public(method, path) {
            continue;
        }
        for credential in ["", "catalyst_session=forged-or-expired", "bearer"] {
            let mut req = Request::builder()
                .method(method.clone())
                .uri(path)
                .header("origin", common::ORIGIN)
                .header("content-type", "application/x-www-form-urlencoded");
            match credential {
                "" => {}
                "bearer" => req = req.header("authorization", "Bearer cat_not-a-real-token"),
                c => req = req.header("cookie", c),
            }
            let res = h.send(req.body(Body::empty()).expect("request")).await;
            let label = format!("{method} {path} [{credential}]");
            assert!(
                !res.status.is_success() && !res.status.is_server_error(),
                "{label} answered {} without a session: {}",
                res.status,
                res.body.chars().take(200).collect::<String>()
            );
            let is_page = (*method == Method::GET) && !path.starts_with("/sovereign/api/");
            if is_page && credential != "bearer" {
                assert_eq!(res.status, StatusCode::SEE_OTHER, "{label}");
                assert!(
                    res.location().starts_with("/sovereign/login"),
                    "{label} → {}",
                    res.location()
                );
            } else {
                assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{label}: {}", res.body);
                if path.starts_with(app::routes::SERVER_FN_PREFIX) {
                    // Server functions get their own error encoding, which their client decodes.
                    assert_eq!(res.headers["content-type"], "application/x-postcard", "{label}");
                    assert_eq!(res.app_error(), app::error::AppError::Unauthenticated, "{label}");
                } else {
                    assert_eq!(res.headers["content-type"], "application/json", "{label}");
                }
            }
            if credential.starts_with("catalyst_session") {
                let cleared = res.headers.get_all("set-cookie").iter().any(|v| {
                    v.to_str()
                        .is_ok_and(|c| c.starts_with("catalyst_session=;") && c.contains("Max-Age=0"))
                });
                assert!(cleared, "{label}: a dead session cookie is removed");
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked}");
}

async fn the_public_list_answers_without_a_session(db: Db) {
    let h = harness(db).await;
    h.user(
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    for path in [
        "/healthz",
        "/readyz",
        "/sovereign/login",
        "/sovereign/signup",
        "/sovereign/setup",
        "/redeem",
        "/redeem?code=NO-SUCH-VOUCHER",
    ] {
        let res = h.send(get(path)).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
    let res = h.send(get("/redeem?code=NO-SUCH-VOUCHER")).await;
    assert!(
        res.body.contains("data-testid=\"redeem-not-valid\""),
        "the voucher page is server-rendered outside /sovereign: {}",
        res.body.chars().take(400).collect::<String>()
    );
    let preview = Request::post("/sovereign/api/v1/vouchers/redeem-preview")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"code":"NO-SUCH-VOUCHER"}"#))
        .expect("request");
    let res = h.send(preview).await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "the preview answers signed out: {}",
        res.body
    );
    let res = h.send(get("/sovereign/login")).await;
    assert!(
        res.body.contains("Sign in to Catalyst"),
        "the login page is server-rendered"
    );
    assert!(
        !res.body.contains("data-testid=\"user-menu\""),
        "no user menu when signed out"
    );
    // Public server functions answer, protected ones do not.
    let info = h.call(app::auth::api::AuthInfoFn::PATH, &[], None).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert_eq!(info.json()["signup"], "invite-only");
    let users = h.call(app::auth::api::ListUsers::PATH, &[], None).await;
    assert_eq!(users.status, StatusCode::UNAUTHORIZED);
    // A new cluster's kubeconfig PUT-back reaches its handler without a session (it has its own bearer):
    // an unknown deployment is the handler's 404, not the middleware's 401.
    let put = Request::put("/sovereign/api/v1/deployments/sample-id/kubeconfig")
        .header("authorization", "Bearer not-the-deployments-bearer")
        .body(Body::from("apiVersion: v1\nkind: Config\n"))
        .expect("request");
    let res = h.send(put).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert!(res.body.contains("\"not-found\""), "{}", res.body);
    let err = users.app_error();
    assert_eq!(err, app::error::AppError::Unauthenticated);
}

// ---- CSRF ---------------------------------------------------------------------------------------------

async fn cookie_authorised_state_changes_need_the_consoles_origin(db: Db) {
    let h = harness(db).await;
    let (_, cookie) = h
        .user(
            "admin@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let path = app::auth::api::CreateToken::PATH;
    let post = |headers: &[(&str, &str)]| {
        let mut req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("cookie", &cookie);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(Body::from("name=ci")).expect("request")
    };
    // Rejected: no Origin at all, another site's Origin, a cross-site fetch, an opaque origin.
    for headers in [
        vec![],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "http://127.0.0.1:1")],
    ] {
        let res = h.send(post(&headers)).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{headers:?}: {}", res.body);
        let err = res.app_error();
        assert!(err.to_string().contains("refused"), "{err}");
    }
    // Accepted: the console's own Origin, or a same-origin fetch without Origin.
    for headers in [
        vec![("origin", common::ORIGIN)],
        vec![("sec-fetch-site", "same-origin")],
    ] {
        let res = h.send(post(&headers)).await;
        assert_eq!(res.status, StatusCode::OK, "{headers:?}: {}", res.body);
    }
    // The REST API follows the same rule.
    let put = |origin: Option<&str>| {
        let mut req = Request::put("/sovereign/api/v1/settings/console.name")
            .header("content-type", "application/json")
            .header("cookie", &cookie);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.body(Body::from(r#"{"value":"Acme"}"#)).expect("request")
    };
    let res = h.send(put(None)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["error"], "cross-site-request");
    let res = h.send(put(Some("https://evil.example"))).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(
        res.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("https://evil.example"))
    );
    assert_eq!(h.send(put(Some(common::ORIGIN))).await.status, StatusCode::OK);
    // Reads are not state changes.
    let res = h
        .send(with_cookie(get("/sovereign/api/v1/settings"), &cookie))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    // A forged sign-in from another site is refused too (login CSRF).
    let res = h
        .send(
            Request::post(app::auth::api::Login::PATH)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", "https://evil.example")
                .body(Body::from(encode(&[
                    ("email", "admin@example.com"),
                    ("password", PASSWORD),
                ])))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.session_cookie().is_none());
}

async fn bearer_tokens_need_no_origin_and_act_with_their_owners_roles(db: Db) {
    let h = harness(db).await;
    let (_, admin) = h
        .user(
            "admin@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let (_, viewer) = h.user("viewer@example.com", None, Some(OrgRole::Viewer)).await;
    let token = |cookie: String| {
        let h = &h;
        async move {
            let res = h
                .call(
                    app::auth::api::CreateToken::PATH,
                    &[("name", "CI pipeline"), ("expires_in_days", "30")],
                    Some(&cookie),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            let created = res.json();
            let secret = created["secret"].as_str().expect("secret").to_string();
            assert!(secret.starts_with("cat_") && secret.len() > 40, "{secret}");
            assert_eq!(created["info"]["prefix"].as_str(), Some(&secret[..8]));
            (created["info"]["id"].as_str().expect("id").to_string(), secret)
        }
    };
    let (admin_token_id, admin_token) = token(admin.clone()).await;
    let (_, viewer_token) = token(viewer.clone()).await;
    // The token works without a cookie or Origin, on REST and state changes alike.
    let put = |t: &str| {
        Request::put("/sovereign/api/v1/settings/console.name")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {t}"))
            .body(Body::from(r#"{"value":"Acme"}"#))
            .expect("request")
    };
    assert_eq!(h.send(put(&admin_token)).await.status, StatusCode::OK);
    // A viewer's token has a viewer's rights: the 403 names the permission.
    let res = h.send(put(&viewer_token)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["error"], "forbidden");
    assert!(
        res.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("settings.manage")),
        "{}",
        res.body
    );
    let status = h
        .send(
            Request::get("/sovereign/api/v1/status")
                .header("authorization", format!("Bearer {viewer_token}"))
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(
        status.status,
        StatusCode::OK,
        "any signed-in caller reads the status"
    );
    let backend = match h.state.db {
        Db::Sqlite(_) => "sqlite",
        Db::Postgres(_) => "postgres",
    };
    assert_eq!(status.json()["database"], backend);
    for field in ["version", "databaseVersion", "schemaVersion"] {
        assert!(
            status.json()[field].is_null(),
            "{field} is for superadmins only: {}",
            status.body
        );
    }
    // Listing shows the prefix, never the secret.
    let list = h.call(app::auth::api::ListTokens::PATH, &[], Some(&admin)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        !list.body.contains(&admin_token),
        "the secret is never shown again"
    );
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));
    // A token cannot mint tokens.
    let res = h
        .send(
            Request::post(app::auth::api::CreateToken::PATH)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("authorization", format!("Bearer {admin_token}"))
                .body(Body::from("name=again"))
                .expect("r"),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    // Revoked: 401 with a sentence saying why.
    let res = h
        .call(
            app::auth::api::RevokeToken::PATH,
            &[("id", &admin_token_id)],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = h.send(put(&admin_token)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        res.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("revoked")),
        "{}",
        res.body
    );
    // Audit: created and revoked, without the secret.
    let entries = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("tokens.".into()),
            actor_id: None,
        },
        Default::default(),
    )
    .await
    .expect("audit");
    let actions: Vec<_> = entries.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["tokens.revoked", "tokens.created", "tokens.created"]);
    assert!(
        entries
            .items
            .iter()
            .all(|e| !e.detail.contains(&admin_token) && !e.detail.contains(&viewer_token))
    );
}

// ---- signing in -----------------------------------------------------------------------------------------

async fn wrong_password_and_unknown_user_get_the_same_answer(db: Db) {
    let h = harness(db).await;
    h.user("ada@example.com", None, Some(OrgRole::Editor)).await;
    let login = |email: &'static str, password: &'static str| {
        let h = &h;
        async move {
            h.call(
                app::auth::api::Login::PATH,
                &[("email", email), ("password", password)],
                None,
            )
            .await
        }
    };
    let wrong = login("ada@example.com", "not the password").await;
    let unknown = login("nobody@example.com", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (wrong.status, &wrong.body),
        (unknown.status, &unknown.body),
        "indistinguishable"
    );
    let err = wrong.app_error();
    assert_eq!(
        err.field_message("password"),
        Some(server::auth::signin::BAD_CREDENTIALS)
    );
    assert!(wrong.session_cookie().is_none());
    // Both were recorded, with the address they came from.
    let failed = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("auth.login_failed".into()),
            actor_id: None,
        },
        Default::default(),
    )
    .await
    .expect("audit");
    assert_eq!(failed.total, 2);
    assert!(failed.items.iter().all(|e| e.ip == "192.0.2.1"));

    // The right password: a session cookie with the safe attributes, returning to `next`.
    let ok = h
        .call(
            app::auth::api::Login::PATH,
            &[
                ("email", " ADA@example.com "),
                ("password", PASSWORD),
                ("next", "/sovereign/audit?page=2"),
            ],
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json(), serde_json::json!("/sovereign/audit?page=2"));
    let set = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("catalyst_session="))
        .expect("cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/sovereign", "Max-Age=43200"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http console: no Secure flag");
    let cookie = ok.session_cookie().expect("cookie");
    let home = h.send(with_cookie(get("/sovereign"), &cookie)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("ada@example.com"),
        "the header shows who is signed in"
    );
    // `next` never leaves the console.
    let res = h
        .call(
            app::auth::api::Login::PATH,
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
            None,
        )
        .await;
    assert_eq!(res.json(), serde_json::json!("/sovereign"));
}

async fn forms_without_javascript_sign_in_and_out_with_redirects(db: Db) {
    let h = harness(db).await;
    h.user("ada@example.com", None, Some(OrgRole::Editor)).await;
    let form = |path: &str, body: String, cookie: Option<&str>, referer: &str| {
        let mut req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("origin", common::ORIGIN)
            .header("referer", referer);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.body(Body::from(body)).expect("request")
    };
    let res = h
        .send(form(
            app::auth::api::Login::PATH,
            encode(&[
                ("email", "ada@example.com"),
                ("password", "wrong one here"),
                ("next", "/sovereign/users"),
            ]),
            None,
            "http://127.0.0.1:0/sovereign/login?next=%2Fsovereign%2Fusers",
        ))
        .await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert!(
        res.location().contains("__err="),
        "the error travels back to the form: {}",
        res.location()
    );
    let res = h
        .send(form(
            app::auth::api::Login::PATH,
            encode(&[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("next", "/sovereign/users"),
            ]),
            None,
            "http://127.0.0.1:0/sovereign/login",
        ))
        .await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), "/sovereign/users");
    let cookie = res.session_cookie().expect("session");
    // Signed in, the login page sends people on.
    let res = h
        .send(with_cookie(
            get("/sovereign/login?next=%2Fsovereign%2Faudit"),
            &cookie,
        ))
        .await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/sovereign/audit")
    );
    // Sign out: back to the login page, and the session is over.
    let res = h
        .send(form(
            app::auth::api::Logout::PATH,
            String::new(),
            Some(&cookie),
            "http://127.0.0.1:0/sovereign",
        ))
        .await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::FOUND, "/sovereign/login")
    );
    let res = h.send(with_cookie(get("/sovereign"), &cookie)).await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/sovereign/login")
    );
}

async fn an_expired_session_redirects_pages_and_is_a_401_for_the_api(db: Db) {
    let mut s = settings();
    s.auth.idle_timeout = Duration::from_secs(1);
    let h = harness_with(db, s).await;
    let (_, cookie) = h
        .user(
            "ada@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    assert_eq!(
        h.send(with_cookie(get("/sovereign/audit?page=2"), &cookie))
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let page = h.send(with_cookie(get("/sovereign/audit?page=2"), &cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/sovereign/login?next=%2Fsovereign%2Faudit%3Fpage%3D2",
        "returns to the page after"
    );
    assert!(
        page.body.contains("<h1>Catalyst</h1>")
            && page
                .body
                .contains("href=\"/sovereign/login?next=%2Fsovereign%2Faudit%3Fpage%3D2\""),
        "a client that does not follow redirects still sees where to go: {}",
        page.body
    );
    let api = h
        .send(with_cookie(get("/sovereign/api/v1/status"), &cookie))
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.json()["error"], "unauthenticated");
    let sf = h.call(app::system::CheckSystem::PATH, &[], Some(&cookie)).await;
    assert_eq!(sf.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sf.app_error(), app::error::AppError::Unauthenticated);
}

async fn an_active_session_survives_its_idle_timeout_but_not_its_max_age(db: Db) {
    let mut s = settings();
    s.auth.idle_timeout = Duration::from_secs(2);
    s.auth.max_age = Duration::from_secs(4);
    let h = harness_with(db, s).await;
    let (_, cookie) = h.user("ada@example.com", None, Some(OrgRole::Viewer)).await;
    let signed_in = std::time::Instant::now();
    // A request every 0.7 s keeps it alive well past the 2 s idle timeout …
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            h.send(with_cookie(get("/sovereign"), &cookie)).await.status,
            StatusCode::OK
        );
    }
    assert!(signed_in.elapsed() > Duration::from_secs(2));
    // … until the absolute limit of 4 s.
    tokio::time::sleep(Duration::from_millis(4_300).saturating_sub(signed_in.elapsed())).await;
    assert_eq!(
        h.send(with_cookie(get("/sovereign"), &cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn repeated_failures_lock_the_account_and_name_the_wait(db: Db) {
    let h = harness(db).await;
    h.user("ada@example.com", None, Some(OrgRole::Editor)).await;
    for email in ["ada@example.com", "ghost@example.com"] {
        for _ in 0..4 {
            let res = h
                .call(
                    app::auth::api::Login::PATH,
                    &[("email", email), ("password", "wrong password!")],
                    None,
                )
                .await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let fifth = h
            .call(
                app::auth::api::Login::PATH,
                &[("email", email), ("password", "wrong password!")],
                None,
            )
            .await;
        assert_eq!(
            fifth.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{email}: {}",
            fifth.body
        );
        // Locked: even the right password waits, and the message says how long.
        let res = h
            .call(
                app::auth::api::Login::PATH,
                &[("email", email), ("password", PASSWORD)],
                None,
            )
            .await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        let err = res.app_error();
        match err {
            app::error::AppError::RateLimited {
                detail,
                retry_after_secs,
            } => {
                assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}");
                assert!(
                    detail.contains(&format!("Try again in {retry_after_secs} s")),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(res.session_cookie().is_none());
    }
    let locked = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("auth.locked".into()),
            actor_id: None,
        },
        Default::default(),
    )
    .await
    .expect("audit");
    assert_eq!(locked.total, 2, "a known and an unknown address lock alike");
}

async fn one_address_is_limited_across_accounts(db: Db) {
    let h = harness(db).await;
    let from = |ip: [u8; 4]| ConnectInfo(SocketAddr::from((ip, 5000)));
    let mut limited = None;
    for i in 0..40 {
        let email = format!("user{i}@example.com");
        let mut req = Request::post(app::auth::api::Login::PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Body::from(encode(&[
                ("email", &email),
                ("password", "whatever it is"),
            ])))
            .expect("request");
        req.extensions_mut().insert(from([198, 51, 100, 7]));
        let res = h.send(req).await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, res));
            break;
        }
    }
    let (i, res) = limited.expect("the address is limited");
    // A burst of 20, then one every 3 s: exactly 20 on a quick machine, a refill or two more on a slow one.
    assert!((20..30).contains(&i), "limited after {i} attempts");
    assert!(
        res.headers.contains_key("retry-after") || res.body.contains("Try again in"),
        "{}",
        res.body
    );
    assert!(res.body.contains("from your address"), "{}", res.body);
    // Another address is not affected.
    let mut req = Request::post(app::auth::api::Login::PATH)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from(encode(&[
            ("email", "x@example.com"),
            ("password", "whatever it is"),
        ])))
        .expect("request");
    req.extensions_mut().insert(from([198, 51, 100, 8]));
    assert_eq!(h.send(req).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

// ---- permissions ---------------------------------------------------------------------------------------

async fn forbidden_actions_are_403s_naming_the_permission(db: Db) {
    let h = harness(db).await;
    h.user(
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let (_, viewer) = h.user("viewer@example.com", None, Some(OrgRole::Viewer)).await;
    let res = h.call(app::auth::api::ListUsers::PATH, &[], Some(&viewer)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let err = res.app_error();
    assert_eq!(err, app::error::AppError::Forbidden("org.members.manage".into()));
    let res = h.call(app::auth::api::AuditPage::PATH, &[], Some(&viewer)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = h
        .send(with_cookie(get("/sovereign/api/v1/settings"), &viewer))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        res.json()["detail"],
        "You do not have the permission “settings.manage”."
    );
    // The users page itself: 403, and the frame offers no link to it.
    let page = h.send(with_cookie(get("/sovereign/users"), &viewer)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("org.members.manage"));
    let home = h.send(with_cookie(get("/sovereign"), &viewer)).await;
    assert!(
        !home.body.contains("href=\"/sovereign/users\""),
        "no Users link for a viewer"
    );
}

async fn role_changes_follow_the_policy_and_are_audited(db: Db) {
    let h = harness(db).await;
    let (_, admin) = h
        .user(
            "admin@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let (_, org_admin) = h.user("orgadmin@example.com", None, Some(OrgRole::Admin)).await;
    let (target, _) = h.user("dev@example.com", None, Some(OrgRole::Viewer)).await;
    let org = server::db::orgs::list(&h.state.db).await.expect("orgs").remove(0);
    let set = |cookie: String, role: &'static str| {
        let (h, target, org) = (&h, target.clone(), org.id.clone());
        async move {
            h.call(
                app::auth::api::SetMemberRole::PATH,
                &[("user_id", &target), ("org_id", &org), ("role", role)],
                Some(&cookie),
            )
            .await
        }
    };
    // An organisation admin may make someone an editor, not an owner.
    assert_eq!(set(org_admin.clone(), "editor").await.status, StatusCode::OK);
    let res = set(org_admin.clone(), "owner").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        res.app_error(),
        app::error::AppError::Forbidden("org.owners.manage".into())
    );
    // The superadmin may.
    assert_eq!(set(admin.clone(), "admin").await.status, StatusCode::OK);
    assert_eq!(
        server::db::orgs::role_of(&h.state.db, &org.id, &target)
            .await
            .expect("role"),
        Some(OrgRole::Admin)
    );
    // The only owner cannot be demoted, even by another superadmin.
    let owner_id = server::db::users::by_email(&h.state.db, "admin@example.com")
        .await
        .expect("get")
        .expect("admin")
        .id;
    let (_, other_root) = h
        .user("root2@example.com", Some(PlatformRole::Superadmin), None)
        .await;
    let res = h
        .call(
            app::auth::api::SetMemberRole::PATH,
            &[("user_id", &owner_id), ("org_id", &org.id), ("role", "viewer")],
            Some(&other_root),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("only owner"), "{}", res.body);
    // Nobody changes their own platform role (so the last superadmin stays one), nor disables themselves.
    let res = h
        .call(
            app::auth::api::SetPlatformRole::PATH,
            &[("user_id", &owner_id), ("role", "none")],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    let res = h
        .call(
            app::auth::api::SetUserDisabled::PATH,
            &[("user_id", &owner_id), ("disabled", "true")],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    // Platform roles are a superadmin's.
    let res = h
        .call(
            app::auth::api::SetPlatformRole::PATH,
            &[("user_id", &target), ("role", "sovereign-admin")],
            Some(&org_admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // The audit log says who changed what, from where.
    let entries = server::db::audit::list(
        &h.state.db,
        &server::db::audit::AuditFilter {
            action_prefix: Some("users.role_changed".into()),
            actor_id: None,
        },
        Default::default(),
    )
    .await
    .expect("audit");
    let details: Vec<_> = entries
        .items
        .iter()
        .map(|e| (e.actor.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            (
                "admin@example.com",
                "Changed dev@example.com's role in Default from editor to admin."
            ),
            (
                "orgadmin@example.com",
                "Changed dev@example.com's role in Default from viewer to editor."
            ),
        ]
    );
    assert!(
        entries
            .items
            .iter()
            .all(|e| e.ip == "192.0.2.1" && !e.request_id.is_empty())
    );
    // Disabling an account ends its sessions at once.
    let (victim, victim_cookie) = h.user("leaver@example.com", None, Some(OrgRole::Editor)).await;
    assert_eq!(
        h.send(with_cookie(get("/sovereign"), &victim_cookie))
            .await
            .status,
        StatusCode::OK
    );
    let res = h
        .call(
            app::auth::api::SetUserDisabled::PATH,
            &[("user_id", &victim), ("disabled", "true")],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        h.send(with_cookie(get("/sovereign"), &victim_cookie))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let login = h
        .call(
            app::auth::api::Login::PATH,
            &[("email", "leaver@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(login.body.contains("disabled"), "{}", login.body);
}

// ---- first run and sign-up ----------------------------------------------------------------------------

async fn first_run_offers_a_token_guarded_setup_page_once(db: Db) {
    let h = harness(db).await;
    let token = h
        .state
        .auth
        .prepare()
        .await
        .expect("prepare")
        .expect("a token while there is no account");
    let res = h.send(get("/sovereign")).await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/sovereign/setup")
    );
    let setup = |token: &str, email: &'static str| {
        let (h, token) = (&h, token.to_string());
        async move {
            h.call(
                app::auth::api::Setup::PATH,
                &[
                    ("token", &token),
                    ("email", email),
                    ("password", PASSWORD),
                    ("org_name", "Acme Cloud"),
                ],
                None,
            )
            .await
        }
    };
    let res = setup("wrong-token", "root@example.com").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.app_error().field_message("token").is_some());
    let res = setup(&token, "root@example.com").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let cookie = res.session_cookie().expect("signed in");
    let users = h.call(app::auth::api::ListUsers::PATH, &[], Some(&cookie)).await;
    assert_eq!(users.status, StatusCode::OK);
    let v = users.json();
    assert_eq!(v["users"][0]["platformRole"], "superadmin");
    assert_eq!(v["orgs"][0]["slug"], "acme-cloud");
    assert_eq!(v["users"][0]["memberships"][0]["role"], "owner");
    // Once: the same token (or any) does nothing now.
    let res = setup(&token, "second@example.com").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(h.send(get("/sovereign")).await.location(), "/sovereign/login");
    assert!(
        h.state.auth.prepare().await.expect("prepare").is_none(),
        "no new token once an account exists"
    );
}

async fn invite_only_sign_up_needs_a_link_that_works_once(db: Db) {
    let h = harness(db).await;
    let (_, admin) = h
        .user(
            "admin@example.com",
            Some(PlatformRole::Superadmin),
            Some(OrgRole::Owner),
        )
        .await;
    let signup = |email: &'static str, invite: Option<String>| {
        let h = &h;
        async move {
            let mut form = vec![("email", email.to_string()), ("password", PASSWORD.to_string())];
            if let Some(i) = invite {
                form.push(("invite", i));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            h.call(app::auth::api::Signup::PATH, &form, None).await
        }
    };
    let res = signup("new@example.com", None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.app_error().field_message("invite").is_some());
    let org = server::db::orgs::list(&h.state.db).await.expect("orgs").remove(0);
    let res = h
        .call(
            app::auth::api::InviteUser::PATH,
            &[
                ("email", "New@Example.com"),
                ("org_id", &org.id),
                ("role", "editor"),
            ],
            Some(&admin),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let url = res.json()["Link"]["url"].as_str().expect("a link").to_string();
    assert!(
        url.starts_with("http://127.0.0.1:0/sovereign/signup?invite="),
        "{url}"
    );
    let token = url.split("invite=").nth(1).expect("token").to_string();
    let preview = h
        .call(app::auth::api::PreviewInvite::PATH, &[("token", &token)], None)
        .await;
    assert_eq!(preview.json()["email"], "new@example.com");
    assert_eq!(
        signup("someone@example.com", Some(token.clone())).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the invitation names its e-mail"
    );
    let res = signup("new@example.com", Some(token.clone())).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let user = server::db::users::by_email(&h.state.db, "new@example.com")
        .await
        .expect("get")
        .expect("created");
    assert_eq!(
        server::db::orgs::role_of(&h.state.db, &org.id, &user.id)
            .await
            .expect("role"),
        Some(OrgRole::Editor)
    );
    assert_eq!(
        signup("new@example.com", Some(token)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link works once"
    );
}

async fn open_sign_up_gives_newcomers_their_own_organisation(db: Db) {
    let mut s = settings();
    s.auth.signup = app::auth::SignupPolicy::Open;
    let h = harness_with(db, s).await;
    h.user(
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let res = h
        .call(
            app::auth::api::Signup::PATH,
            &[("email", "eve@example.com"), ("password", "short")],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.app_error().to_string().contains("at least 12"),
        "{:?}",
        res.app_error()
    );
    let res = h
        .call(
            app::auth::api::Signup::PATH,
            &[
                ("email", "eve@example.com"),
                ("password", PASSWORD),
                ("display_name", "Eve"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let cookie = res.session_cookie().expect("signed in");
    let me: app::auth::Me = h
        .call(app::auth::api::CurrentUser::PATH, &[], Some(&cookie))
        .await
        .wire::<Option<app::auth::Me>>()
        .expect("signed in");
    assert_eq!(me.principal.memberships[0].role, app::auth::OrgRole::Owner);
    assert_eq!(me.principal.memberships[0].org_name, "eve's organisation");
    assert!(me.can_manage_users, "owners manage their organisation's members");
    assert!(!me.can_read_audit);
    let res = h
        .call(
            app::auth::api::Signup::PATH,
            &[("email", "eve@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "e-mail taken");
}

async fn changing_the_password_signs_out_other_sessions(db: Db) {
    let h = harness(db).await;
    h.user("ada@example.com", None, Some(OrgRole::Editor)).await;
    let login = || async {
        h.call(
            app::auth::api::Login::PATH,
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            None,
        )
        .await
        .session_cookie()
        .expect("cookie")
    };
    let (laptop, phone) = (login().await, login().await);
    let res = h
        .call(
            app::auth::api::ChangePassword::PATH,
            &[("current", "wrong password"), ("new", "a brand new passphrase")],
            Some(&laptop),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.app_error().field_message("current").is_some(),
        "{:?}",
        res.app_error()
    );
    let res = h
        .call(
            app::auth::api::ChangePassword::PATH,
            &[("current", PASSWORD), ("new", "a brand new passphrase")],
            Some(&laptop),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        h.send(with_cookie(get("/sovereign"), &laptop)).await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        h.send(with_cookie(get("/sovereign"), &phone)).await.status,
        StatusCode::SEE_OTHER,
        "the others end"
    );
    let old = h
        .call(
            app::auth::api::Login::PATH,
            &[("email", "ada@example.com"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    let new = h
        .call(
            app::auth::api::Login::PATH,
            &[
                ("email", "ada@example.com"),
                ("password", "a brand new passphrase"),
            ],
            None,
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
}

async fn a_change_made_by_another_replica_applies_within_the_cache_lifetime(db: Db) {
    let h = harness(db).await;
    let (id, cookie) = h.user("ada@example.com", None, Some(OrgRole::Editor)).await;
    assert_eq!(
        h.send(with_cookie(get("/sovereign"), &cookie)).await.status,
        StatusCode::OK
    );
    // Another replica disables the account: it writes the database, this replica's cache does not hear of it.
    server::db::users::set_disabled(&h.state.db, &id, true)
        .await
        .expect("disable");
    tokio::time::sleep(server::auth::callers::PRINCIPAL_CACHE_TTL + Duration::from_millis(200)).await;
    let res = h.send(with_cookie(get("/sovereign"), &cookie)).await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "refused once the cached caller is older than the TTL"
    );
}

/// Software versions (Catalyst's, the database server's, the schema) are shown to superadmins only, in the
/// REST status and in the server function the home page calls; the readiness probe shows none (issue 18.8).
async fn versions_are_shown_to_superadmins_only(db: Db) {
    let h = harness(db).await;
    let (_, root) = h
        .user("root@example.com", Some(PlatformRole::Superadmin), None)
        .await;
    let (_, sov) = h
        .user(
            "sov@example.com",
            Some(PlatformRole::SovereignAdmin),
            Some(OrgRole::Owner),
        )
        .await;
    let status = |cookie: String| {
        let h = &h;
        async move {
            h.send(with_cookie(get("/sovereign/api/v1/status"), &cookie))
                .await
        }
    };
    let theirs = status(root.clone()).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(theirs.json()["version"], env!("CARGO_PKG_VERSION"));
    assert!(theirs.json()["databaseVersion"].is_string(), "{}", theirs.body);
    assert!(theirs.json()["schemaVersion"].is_i64(), "{}", theirs.body);
    let others = status(sov.clone()).await;
    assert_eq!(others.status, StatusCode::OK);
    for field in ["version", "databaseVersion", "schemaVersion"] {
        assert!(others.json()[field].is_null(), "{field}: {}", others.body);
    }
    // The home page's check (a server function, postcard answer) carries the same report.
    let sf = h.call(app::system::CheckSystem::PATH, &[], Some(&sov)).await;
    assert_eq!(sf.status, StatusCode::OK);
    assert!(
        !sf.body.contains(env!("CARGO_PKG_VERSION")),
        "no version in the answer"
    );
    let sf = h.call(app::system::CheckSystem::PATH, &[], Some(&root)).await;
    assert!(
        sf.body.contains(env!("CARGO_PKG_VERSION")),
        "the superadmin sees it"
    );
    let ready = h.send(get("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.json().get("schema").is_none(), "{}", ready.body);
}
