//! The HTTP surface driven in-process through the router (`oneshot`).

use crate::common;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use leptos::server_fn::ServerFn;
use server::db::{Db, DbUrl};

/// A router with a signed-in superadmin; [`send`] adds their session cookie and the console's Origin.
struct App {
    router: Router,
    cookie: String,
}

impl Clone for App {
    fn clone(&self) -> Self {
        App {
            router: self.router.clone(),
            cookie: self.cookie.clone(),
        }
    }
}

on_both_backends!(
    readyz_fails_when_the_database_is_gone,
    settings_round_trip_over_rest_and_are_audited,
);

async fn router() -> App {
    router_on(common::sqlite().await).await
}

/// [`router`] over `db` (for the tests that run on both backends).
async fn router_on(db: Db) -> App {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let state = server::app_state(common::settings_for(DbUrl::SqliteMemory, dir), db);
    let (_, cookie) = common::sign_in(
        &state,
        "admin@example.com",
        Some(app::auth::PlatformRole::Superadmin),
        Some(app::auth::OrgRole::Owner),
    )
    .await;
    App {
        router: server::http::router(state),
        cookie,
    }
}

async fn send(app: &App, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let (status, headers, body) = send_raw(app, req).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// [`send`] with the body as bytes: server functions that answer in postcard (`app::wire`).
async fn send_raw(app: &App, mut req: Request<Body>) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let h = req.headers_mut();
    let cookie = match h.get("cookie").and_then(|v| v.to_str().ok()) {
        Some(existing) => format!("{existing}; {}", app.cookie),
        None => app.cookie.clone(),
    };
    h.insert("cookie", cookie.parse().expect("cookie"));
    if !h.contains_key("origin") {
        h.insert("origin", common::ORIGIN.parse().expect("origin"));
    }
    let (status, headers, body) = common::send(&app.router, req).await;
    (status, headers, body.to_vec())
}

/// A server function's error body, decoded as the browser decodes it (`AppError`'s own encoding).
fn app_error(body: Vec<u8>) -> app::error::AppError {
    use leptos::server_fn::error::FromServerFnError;
    app::error::AppError::de(body.into())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

fn json(method: Method, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[tokio::test]
async fn probes_answer_json_at_the_root() {
    let r = router().await;
    let (s, h, body) = send(&r, get("/healthz")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (s, _, body) = send(&r, get("/readyz")).await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["status"], "ready");
    assert_eq!(v["database"], "sqlite");
}

async fn readyz_fails_when_the_database_is_gone(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let r = App {
        router: server::http::router(server::app_state(
            common::settings_for(DbUrl::SqliteMemory, dir),
            db.clone(),
        )),
        cookie: String::new(),
    };
    db.close().await;
    let (s, _, body) = send(&r, get("/readyz")).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains(r#""error":"not-ready""#), "{body}");
}

#[tokio::test]
async fn home_is_server_rendered_under_the_base_path() {
    let r = router().await;
    let (s, h, body) = send(&r, get("/sovereign")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(
        body.contains("<h1>Launch your Sovereign</h1>"),
        "the heading is in the SSR HTML"
    );
    assert!(
        body.contains("/sovereign/pkg/sovereign.js"),
        "assets load from under the base path"
    );
    assert!(body.contains("/sovereign/pkg/sovereign.css"));
    assert!(body.contains(r#"data-theme="dark""#), "dark is the default theme");
    assert!(
        body.contains("SQLite"),
        "the status card is rendered, not left for the browser"
    );
    assert!(
        h.contains_key("x-request-id"),
        "every response carries a request id"
    );
}

#[tokio::test]
async fn theme_cookie_is_rendered_into_the_document() {
    let r = router().await;
    let req = Request::get("/sovereign")
        .header("cookie", "catalyst_theme=light")
        .body(Body::empty())
        .expect("req");
    let (_, _, body) = send(&r, req).await;
    assert!(body.contains(r#"data-theme="light""#));
}

#[tokio::test]
async fn trailing_slash_and_root_redirect_to_the_console() {
    let r = router().await;
    let (s, h, _) = send(&r, get("/sovereign/")).await;
    assert_eq!(s, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(h["location"], "/sovereign");
    let (s, h, _) = send(&r, get("/")).await;
    assert_eq!(s, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(h["location"], "/sovereign");
    // Signed out, both lead to the login page.
    let anonymous = App {
        cookie: String::new(),
        ..r.clone()
    };
    let (s, h, _) = send(&anonymous, get("/")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/sovereign/login");
}

#[tokio::test]
async fn unknown_pages_are_a_real_404() {
    let r = router().await;
    let (s, _, body) = send(&r, get("/sovereign/no/such/page")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"), "{body}");
}

#[tokio::test]
async fn api_errors_are_json_with_the_right_status() {
    let r = router().await;
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (get("/sovereign/api/v1/nope"), StatusCode::NOT_FOUND, "not-found"),
        (
            json(Method::PUT, "/sovereign/api/v1/settings/a.b", "{not json"),
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            json(Method::PUT, "/sovereign/api/v1/settings/a.b", r#"{"valu": 1}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
        ),
        (
            json(Method::PUT, "/sovereign/api/v1/settings/a.b", r#""text""#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
        ),
        (
            json(Method::PUT, "/sovereign/api/v1/settings/a.b", "[1,2]"),
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            json(
                Method::PUT,
                "/sovereign/api/v1/settings/Bad-Key",
                r#"{"value": 1}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-input",
        ),
        (
            Request::put("/sovereign/api/v1/settings/a.b")
                .body(Body::from(r#"{"value":1}"#))
                .expect("req"),
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            json(Method::PATCH, "/sovereign/api/v1/status", "{}"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
        (
            get("/sovereign/api/v1/settings/missing.key"),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
    ];
    for (req, status, code) in cases {
        let label = format!("{} {}", req.method(), req.uri());
        let (s, h, body) = send(&r, req).await;
        assert_eq!(s, status, "{label}: {body}");
        assert_eq!(h["content-type"], "application/json", "{label}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json body");
        assert_eq!(v["error"], code, "{label}: {body}");
        assert!(
            v["detail"].as_str().is_some_and(|d| d.len() > 10),
            "{label}: detail is a sentence: {body}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_json() {
    let r = router().await;
    let big = format!(r#"{{"value": "{}"}}"#, "x".repeat(3 * 1024 * 1024));
    let (s, _, body) = send(&r, json(Method::PUT, "/sovereign/api/v1/settings/a.b", &big)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains(r#""error":"too-large""#));
}

async fn settings_round_trip_over_rest_and_are_audited(db: Db) {
    let r = router_on(db).await;
    let (s, _, body) = send(
        &r,
        json(
            Method::PUT,
            "/sovereign/api/v1/settings/console.name",
            r#"{"value":"Acme"}"#,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, _, body) = send(&r, get("/sovereign/api/v1/settings/console.name")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, r#"{"key":"console.name","value":"Acme"}"#);
    let (s, _, _) = send(
        &r,
        Request::delete("/sovereign/api/v1/settings/console.name")
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn server_functions_live_under_the_base_path() {
    let path = app::system::CheckSystem::PATH;
    assert!(path.starts_with("/sovereign/api/fn/"), "{path}");
    let r = router().await;
    let req = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::empty())
        .expect("req");
    let (s, _, body) = send_raw(&r, req).await;
    assert_eq!(s, StatusCode::OK, "{body:?}");
    // The shell's server functions answer in postcard (`app::wire`), which the main wasm module decodes.
    let v: app::system::StatusReport = app::wire::decode(&body).expect("postcard");
    assert_eq!(v.database, "sqlite");
    assert!(
        v.schema_version.is_some_and(|m| m > 0),
        "a superadmin sees the schema"
    );
}

#[tokio::test]
async fn malformed_server_function_input_is_a_4xx() {
    let r = router().await;
    let req = Request::post(app::theme::SetTheme::PATH)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from("nonsense=%%%"))
        .expect("req");
    let (s, _, body) = send_raw(&r, req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body:?}");
    let err = app_error(body);
    assert!(err.to_string().contains("theme"), "{err}");
}

#[tokio::test]
async fn server_function_errors_carry_their_status() {
    let r = router().await;
    let req = Request::post(app::theme::SetTheme::PATH)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from("theme=purple"))
        .expect("req");
    let (s, _, body) = send_raw(&r, req).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
    let err = app_error(body);
    assert_eq!(err.field_message("theme"), Some("Choose “dark” or “light”."));
}

/// A site root holding only these files of `sovereign/pkg/` (name, content).
fn site_with_pkg_files(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("tempdir");
    let pkg = site.path().join("sovereign/pkg");
    std::fs::create_dir_all(&pkg).expect("pkg dir");
    for (name, content) in files {
        std::fs::write(pkg.join(name), content).expect("site file");
    }
    site
}

/// A site root holding only wasm-split's manifest (`sovereign/pkg/__wasm_split_manifest.json`).
fn site_with_split_manifest(manifest: &str) -> tempfile::TempDir {
    site_with_pkg_files(&[("__wasm_split_manifest.json", manifest.as_bytes())])
}

/// A lazily loaded page has the browser preload each file of its wasm split module, once per file even when
/// several of the page's parts are in the same module (the wizard's frame and its first step), and adds one
/// modulepreload of the split loader. The files are listed in a module script in the `<head>`, which adds the
/// preload links once the document is parsed: as `<link>`s in the HTML they put the first paint back.
#[tokio::test]
async fn lazy_pages_preload_their_split_module_once() {
    let site = site_with_split_manifest(
        r#"{"signin": ["chunk_3", "split_signin"], "wizard": ["chunk_3", "chunk_7", "split_wizard"]}"#,
    );
    let mut settings = common::memory_settings();
    settings.site_root = site.path().to_path_buf();
    let (router, state) = common::app_over(settings).await;
    let count = |body: &str, needle: &str| body.matches(needle).count();
    // Each file is listed once in the head's preload script, and is no preload link of the HTML.
    let head = |body: &str| body.split("</head>").next().unwrap_or_default().to_string();
    let preload = |file: &str| format!(r#""{file}""#);
    let no_links = |body: &str| {
        assert_eq!(
            count(body, r#"rel="preload" type="application/wasm""#),
            0,
            "{body}"
        );
        assert!(
            head(body).contains(r#" type="module">for(const f of["#),
            "the preload script is in the head: {body}"
        );
        assert!(
            head(body).contains(r#"l.href="/sovereign/pkg/"+f+".wasm""#),
            "{body}"
        );
    };
    let loader = r#"href="/sovereign/pkg/__wasm_split.______________________.js" rel="modulepreload""#;

    let res = common::oneshot(router.clone(), get("/sovereign/login")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8_lossy(&common::to_bytes(res.into_body(), 1 << 24).await.expect("body"))
        .into_owned();
    no_links(&body);
    assert_eq!(count(&head(&body), &preload("split_signin")), 1, "{body}");
    assert_eq!(count(&head(&body), &preload("chunk_3")), 1);
    assert_eq!(
        count(&body, &preload("split_wizard")),
        0,
        "only the page's own module"
    );
    assert_eq!(count(&body, loader), 1);

    let (_, cookie) = common::sign_in(
        &state,
        "editor@example.com",
        None,
        Some(app::auth::OrgRole::Editor),
    )
    .await;
    let mut req = get("/sovereign/wizard/organisation");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    let res = common::oneshot(router, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8_lossy(&common::to_bytes(res.into_body(), 1 << 24).await.expect("body"))
        .into_owned();
    assert!(
        body.contains(r#"id="f-org-name""#),
        "the wizard's first step is rendered"
    );
    no_links(&body);
    for file in ["split_wizard", "chunk_3", "chunk_7"] {
        assert_eq!(count(&head(&body), &preload(file)), 1, "{file} once: {body}");
    }
    assert_eq!(count(&body, loader), 1);
}

/// The frontend starts loading a page's split module before hydrating (`app::split::load_module_of`), by the
/// module `app::split::module_of` names for the path; it must be the module the server has the page preload
/// (the one `in_chunk!` put the page's code in), or the page's preloads go unused and its module loads late.
#[tokio::test]
async fn module_of_names_the_module_each_lazy_page_preloads() {
    // One file per module, named after it.
    let site = site_with_split_manifest(
        r#"{"signin": ["split_signin"], "console": ["split_console"], "wizard": ["split_wizard"], "wizard_steps": ["split_wizard_steps"]}"#,
    );
    let mut settings = common::memory_settings();
    settings.site_root = site.path().to_path_buf();
    let (router, state) = common::app_over(settings).await;
    let (_, cookie) = common::sign_in(
        &state,
        "root@example.com",
        Some(app::auth::PlatformRole::Superadmin),
        None,
    )
    .await;
    let preloaded = |body: &str| -> Vec<String> {
        let head = body.split("</head>").next().unwrap_or_default();
        ["signin", "console", "wizard_steps", "wizard"]
            .into_iter()
            .filter(|m| head.contains(&format!(r#""split_{m}""#)))
            .map(str::to_string)
            .collect()
    };
    for (path, signed_in) in [
        ("/sovereign/login", false),
        ("/sovereign", true),
        ("/sovereign/marketplace", true),
        ("/sovereign/marketplace/product/cilium", true),
        ("/sovereign/deployments", true),
        ("/sovereign/provision/no-such-deployment", true),
        ("/sovereign/provision/no-such-deployment/flow", true),
        ("/sovereign/provision/no-such-deployment/jobs", true),
        ("/sovereign/provision/no-such-deployment/jobs/timeline", true),
        (
            "/sovereign/provision/no-such-deployment/jobs/install-cilium",
            true,
        ),
        ("/sovereign/users", true),
        ("/sovereign/audit", true),
        ("/sovereign/settings/account", true),
        ("/sovereign/settings/tokens", true),
        ("/sovereign/wizard/organisation", true),
    ] {
        let mut req = get(path);
        if signed_in {
            req.headers_mut()
                .insert("cookie", cookie.parse().expect("cookie"));
        }
        let res = common::oneshot(router.clone(), req).await;
        let body = String::from_utf8_lossy(&common::to_bytes(res.into_body(), 1 << 24).await.expect("body"))
            .into_owned();
        let expected: Vec<String> = app::split::module_of(path)
            .map(str::to_string)
            .into_iter()
            .collect();
        assert_eq!(preloaded(&body), expected, "{path}");
    }
}

/// A precompressed copy is sent to a browser that accepts its encoding, the file itself to one that does not,
/// and both answers say that they vary by `Accept-Encoding`, so no cache in between mixes them up.
#[tokio::test]
async fn static_files_pick_their_encoding_and_say_they_vary_by_it() {
    let site = site_with_pkg_files(&[
        ("chunk_2.wasm", b"\0asm\x01\0\0\0"),
        ("chunk_2.wasm.gz", b"gzip copy"),
    ]);
    let mut settings = common::memory_settings();
    settings.site_root = site.path().to_path_buf();
    let (router, _state) = common::app_over(settings).await;

    for (accept, encoding, body) in [
        (Some("gzip, deflate"), Some("gzip"), &b"gzip copy"[..]),
        (None, None, &b"\0asm\x01\0\0\0"[..]),
    ] {
        let mut req = get("/sovereign/pkg/chunk_2.wasm");
        if let Some(accept) = accept {
            req.headers_mut()
                .insert("accept-encoding", accept.parse().expect("header"));
        }
        let res = common::oneshot(router.clone(), req).await;
        assert_eq!(res.status(), StatusCode::OK, "{accept:?}");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap_or_default().to_string())
        };
        assert_eq!(header("content-encoding").as_deref(), encoding, "{accept:?}");
        assert_eq!(header("vary").as_deref(), Some("accept-encoding"), "{accept:?}");
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/wasm"),
            "{accept:?}"
        );
        let got = common::to_bytes(res.into_body(), 1 << 24).await.expect("body");
        assert_eq!(&got[..], body, "{accept:?}");
    }
}

/// Static files are served as files whatever was rendered before on the same thread: after a 404 page, the
/// wasm it asks for must not inherit that page's 404 status (leptos_axum's file handler did exactly that,
/// through a leftover reactive owner). They revalidate (`no-cache`) instead of being cached heuristically,
/// so an upgrade never mixes old wasm with new server functions.
#[tokio::test]
async fn static_files_answer_200_after_a_404_page_and_revalidate() {
    let site = site_with_pkg_files(&[("chunk_1.wasm", b"\0asm\x01\0\0\0")]);
    let mut settings = common::memory_settings();
    settings.site_root = site.path().to_path_buf();
    let (router, state) = common::app_over(settings).await;
    let (_, cookie) = common::sign_in(
        &state,
        "viewer@example.com",
        None,
        Some(app::auth::OrgRole::Viewer),
    )
    .await;

    for round in 0..3 {
        let mut page = get("/sovereign/marketplace/product/nope");
        page.headers_mut()
            .insert("cookie", cookie.parse().expect("cookie"));
        let res = common::oneshot(router.clone(), page).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "round {round}: the page");
        let _ = common::to_bytes(res.into_body(), 1 << 24).await.expect("body");

        let res = common::oneshot(router.clone(), get("/sovereign/pkg/chunk_1.wasm")).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "round {round}: the file after a 404 page"
        );
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap_or_default()),
            Some("no-cache")
        );
        let modified = res
            .headers()
            .get("last-modified")
            .cloned()
            .expect("last-modified");
        let body = common::to_bytes(res.into_body(), 1 << 24).await.expect("body");
        assert_eq!(&body[..], b"\0asm\x01\0\0\0");

        let mut again = get("/sovereign/pkg/chunk_1.wasm");
        again.headers_mut().insert("if-modified-since", modified);
        let res = common::oneshot(router.clone(), again).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_MODIFIED,
            "round {round}: revalidation"
        );
    }

    for path in ["/sovereign/pkg/missing.wasm", "/sovereign/pkg", "/sovereign/pkg/"] {
        let mut req = get(path);
        req.headers_mut()
            .insert("cookie", cookie.parse().expect("cookie"));
        let res = common::oneshot(router.clone(), req).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "{path}: no file, no listing, no redirect"
        );
    }
}

/// Building a router while another thread renders pages leaves the renders alone. (Leptos holds resources back
/// with a process-wide flag while it lists an app's routes: a page whose resource was created meanwhile on
/// another thread never finished rendering, and the parallel tests, which each build a router, hung now and
/// then. The route list is now built once per process.)
#[tokio::test]
async fn a_router_built_during_a_render_does_not_stall_it() {
    let app = router().await;
    let settings = common::memory_settings();
    let building = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let builder = std::thread::spawn({
        let building = building.clone();
        move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let state = rt.block_on(async { server::app_state(settings, common::sqlite().await) });
            // Inside the runtime, as a server builds its router: listing the routes renders the app.
            let _runtime = rt.enter();
            let mut built = 0;
            while building.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = server::http::router(state.clone());
                built += 1;
            }
            built
        }
    });
    // Pages whose views create resources: the overview, the marketplace (catalog) and the account page.
    for round in 0..15 {
        for path in [
            "/sovereign",
            "/sovereign/marketplace",
            "/sovereign/settings/account",
        ] {
            let (status, _, body) = send(&app, get(path)).await;
            assert_eq!(status, StatusCode::OK, "round {round}, {path}: {body}");
        }
    }
    building.store(false, std::sync::atomic::Ordering::Relaxed);
    let built = builder.join().expect("the router builder");
    assert!(built > 0, "routers were built while the pages rendered");
}
