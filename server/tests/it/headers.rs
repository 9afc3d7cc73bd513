//! Browser hardening (issue 18.6): the security headers on every answer of every route, the page policy's
//! nonce on every inline script, `__Secure-` and `Secure` on every cookie under https (planted unprefixed
//! cookies ignored), and the start-up check of the console's site against the pool domains.

use crate::auth_http::every_route;
use crate::common;
use server::db::Db;

use std::net::SocketAddr;

use app::auth::{OrgRole, PlatformRole};
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{HeaderMap, Method, Request, StatusCode};
use leptos::server_fn::ServerFn;

const PASSWORD: &str = "correct horse battery staple";

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The nonce of a page policy (`'nonce-…'` in `script-src`).
fn nonce_of(policy: &str) -> Option<&str> {
    policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))?
        .split_whitespace()
        .find_map(|s| s.strip_prefix("'nonce-")?.strip_suffix('\''))
}

/// Every `<script …>` start tag of an HTML document.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .map(|(i, _)| &html[i..i + html[i..].find('>').map_or(html.len() - i, |e| e + 1)])
        .collect()
}

fn checks(method: &Method, path: &str, status: StatusCode, h: &HeaderMap, body: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let what = format!("{method} {path} ({status})");
    for (name, want) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        if header(h, name) != want {
            problems.push(format!("{what}: {name} is “{}”", header(h, name)));
        }
    }
    let policy = header(h, "content-security-policy");
    if !policy.contains("frame-ancestors 'none'") {
        problems.push(format!("{what}: CSP without frame-ancestors 'none': “{policy}”"));
    }
    if header(h, "content-type").starts_with("text/html") && status != StatusCode::SEE_OTHER {
        let html = String::from_utf8_lossy(body);
        let Some(nonce) = nonce_of(policy) else {
            problems.push(format!("{what}: a page without a nonce policy: “{policy}”"));
            return problems;
        };
        if nonce.len() < 16 {
            problems.push(format!("{what}: a short nonce “{nonce}”"));
        }
        if policy.contains("'unsafe-inline'") && !policy.contains("style-src-attr 'unsafe-inline'") {
            problems.push(format!(
                "{what}: unsafe-inline outside style attributes: “{policy}”"
            ));
        }
        for tag in script_tags(&html) {
            if !tag.contains(&format!("nonce=\"{nonce}\"")) && !tag.contains(" src=\"/") {
                problems.push(format!(
                    "{what}: an inline script without this page's nonce: {tag}"
                ));
            }
        }
        if !policy.contains("'wasm-unsafe-eval'") {
            problems.push(format!("{what}: the page cannot compile its wasm: “{policy}”"));
        }
    } else if !policy.starts_with("default-src 'none'") {
        problems.push(format!(
            "{what}: a non-page answer without default-src 'none': “{policy}”"
        ));
    }
    problems
}

on_both_backends!(
    every_answer_of_every_route_carries_the_security_headers,
    every_render_has_a_nonce_of_its_own,
    under_https_every_cookie_is_secure_and_prefixed_and_unprefixed_ones_are_ignored,
    over_plain_http_cookies_keep_their_names,
);

async fn every_answer_of_every_route_carries_the_security_headers(db: Db) {
    let (router, state) = common::app_on(common::memory_settings(), db);
    let (_, cookie) = common::sign_in(
        &state,
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let mut problems = Vec::new();
    let mut pages = 0;
    for (method, path) in every_route() {
        for cookie in [None, Some(cookie.as_str())] {
            let mut req = Request::builder()
                .method(method.clone())
                .uri(&path)
                .header("origin", common::ORIGIN)
                .header("accept", "text/html");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let mut req = req.body(Body::empty()).expect("request");
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 30], 4000))));
            let (status, h, body) = common::send(&router, req).await;
            if header(&h, "content-type").starts_with("text/html")
                && nonce_of(header(&h, "content-security-policy")).is_some()
            {
                pages += 1;
            }
            problems.extend(checks(&method, &path, status, &h, &body));
        }
    }
    assert!(pages >= 10, "the walk rendered pages ({pages})");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

async fn every_render_has_a_nonce_of_its_own(db: Db) {
    let (router, state) = common::app_on(common::memory_settings(), db);
    let (_, cookie) = common::sign_in(
        &state,
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let page = || {
        Request::get("/sovereign")
            .header("cookie", &cookie)
            .body(Body::empty())
            .expect("request")
    };
    let (_, a, body) = common::send(&router, page()).await;
    let (_, b, _) = common::send(&router, page()).await;
    let (na, nb) = (
        nonce_of(header(&a, "content-security-policy"))
            .expect("nonce")
            .to_string(),
        nonce_of(header(&b, "content-security-policy"))
            .expect("nonce")
            .to_string(),
    );
    assert_ne!(na, nb);
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains(&format!("nonce=\"{na}\"")),
        "the hydration script carries the header's nonce"
    );
}

/// Settings of a console served at `https://console.example.com`.
fn https_settings() -> server::config::Settings {
    let mut s = common::memory_settings();
    s.auth.public_origin = "https://console.example.com".into();
    s.auth.secure_cookies = true;
    s
}

fn set_cookies(h: &HeaderMap) -> Vec<String> {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

fn form_post(path: &str, form: &[(&str, &str)], cookie: Option<&str>, origin: &str) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        // A plain form post (no JavaScript): the one-time flash cookies are set only for these.
        .header("accept", "text/html")
        .header("origin", origin);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let mut req = req.body(Body::from(body)).expect("request");
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 31], 4000))));
    req
}

async fn under_https_every_cookie_is_secure_and_prefixed_and_unprefixed_ones_are_ignored(db: Db) {
    let (router, state) = common::app_on(https_settings(), db);
    let origin = "https://console.example.com";
    state
        .auth
        .create_superadmin("admin@example.com", PASSWORD, "Admin")
        .await
        .expect("account");
    let mut seen = Vec::new();
    // Sign-in (the session cookie).
    let (s, h, _) = common::send(
        &router,
        form_post(
            app::auth::api::Login::PATH,
            &[("email", "admin@example.com"), ("password", PASSWORD)],
            None,
            origin,
        ),
    )
    .await;
    assert!(s.is_redirection() || s.is_success(), "{s}");
    assert_eq!(header(&h, "strict-transport-security"), "max-age=31536000");
    let cookies = set_cookies(&h);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Secure-catalyst_session="))
        .unwrap_or_else(|| panic!("a prefixed session cookie: {cookies:?}"))
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    seen.extend(cookies);
    let status = |cookie: String| {
        let mut req = Request::get("/sovereign/api/v1/status")
            .header("cookie", cookie)
            .body(Body::empty())
            .expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 31], 4000))));
        req
    };
    let (s, _, _) = common::send(&router, status(session.clone())).await;
    assert_eq!(s, StatusCode::OK, "the prefixed cookie signs in");
    let planted = session.trim_start_matches("__Secure-").to_string();
    let (s, _, _) = common::send(&router, status(planted)).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an unprefixed session cookie (planted over http or by a sibling domain) is ignored"
    );
    // The theme, a one-time flash cookie (a new API token's secret for the page without JavaScript), and the
    // session's removal at sign-out.
    for (path, form) in [
        (app::theme::SetTheme::PATH, vec![("theme", "light")]),
        (app::auth::api::CreateToken::PATH, vec![("name", "ci")]),
        (app::auth::api::Logout::PATH, vec![]),
    ] {
        let (s, h, body) = common::send(&router, form_post(path, &form, Some(&session), origin)).await;
        assert!(
            s.is_redirection() || s.is_success(),
            "{path}: {s} {}",
            String::from_utf8_lossy(&body)
        );
        let cookies = set_cookies(&h);
        assert!(!cookies.is_empty(), "{path} sets a cookie");
        seen.extend(cookies);
    }
    for name in ["catalyst_session", "catalyst_theme", "catalyst_created_token"] {
        assert!(
            seen.iter().any(|c| c.starts_with(&format!("__Secure-{name}="))),
            "{name} was set: {seen:?}"
        );
    }
    for c in &seen {
        assert!(c.starts_with("__Secure-"), "every cookie is prefixed: {c}");
        assert!(
            c.split(';')
                .skip(1)
                .any(|a| a.trim().eq_ignore_ascii_case("secure")),
            "every cookie is Secure: {c}"
        );
    }
}

async fn over_plain_http_cookies_keep_their_names(db: Db) {
    let (router, state) = common::app_on(common::memory_settings(), db);
    state
        .auth
        .create_superadmin("admin@example.com", PASSWORD, "Admin")
        .await
        .expect("account");
    let (_, h, _) = common::send(
        &router,
        form_post(
            app::auth::api::Login::PATH,
            &[("email", "admin@example.com"), ("password", PASSWORD)],
            None,
            common::ORIGIN,
        ),
    )
    .await;
    let cookies = set_cookies(&h);
    assert!(
        cookies.iter().any(|c| c.starts_with("catalyst_session=")),
        "{cookies:?}"
    );
    assert!(!h.contains_key("strict-transport-security"));
}

#[test]
fn the_console_on_a_pool_domains_site_is_found() {
    let pools = vec![
        "omani.works".to_string(),
        "example.co.uk".to_string(),
        "sovereigns.example.com".to_string(),
    ];
    assert_eq!(
        server::shared_site_pools("console.example.com", &pools),
        vec!["sovereigns.example.com"]
    );
    assert_eq!(
        server::shared_site_pools("console.example.co.uk", &pools),
        vec!["example.co.uk"],
        "the public suffix list knows co.uk is a suffix"
    );
    assert!(server::shared_site_pools("console.other.co.uk", &pools).is_empty());
    assert!(server::shared_site_pools("127.0.0.1", &pools).is_empty());
    assert!(server::shared_site_pools("localhost", &pools).is_empty());
}
