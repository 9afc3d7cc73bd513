//! One middleware in front of every route: resolves the caller once (session cookie or API token), puts
//! the `Principal` into the request's extensions (beside the `RequestMeta` the HTTP layer put there), enforces "only the public list is
//! reachable anonymously", and rejects cross-site state changes.
//!
//! Anonymous callers of a protected route get: pages (GET) → `303` to `/sovereign/login?next=<path>` (or
//! to the setup page while no account exists); form posts to server functions → the same redirect, back to
//! the page they came from; the REST API and server functions called from code → `401` JSON.
//!
//! CSRF: every unsafe request (POST/PUT/PATCH/DELETE) that is not authorised by a bearer token must come
//! from the console's own origin: its `Origin` header equals `--public-url`'s origin, or, without `Origin`,
//! `Sec-Fetch-Site` is `same-origin`. A cookie-carrying request with neither is refused. This covers server
//! functions (the browser's fetch and plain forms alike) and the REST API. Browsers send `Origin` on every
//! POST, and the session cookie is `SameSite=Lax` as a second line.

use app::auth::Principal;
use app::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::callers::Presented;
use super::public;
use super::service::Auth;
use super::session;
use crate::error::ApiError;

pub async fn authenticate(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let public = public::is_public(&method, &path);

    // Resolve the caller: a bearer token first (automation), else the session cookie.
    let mut via_bearer = false;
    let mut stale_cookie = false;
    let mut principal: Option<Principal> = None;
    let token = bearer(req.headers()).map(str::to_string);
    let secret = session::session_secret(req.headers()).map(str::to_string);
    if let Some(token) = token {
        if !public::has_own_bearer(&method, &path) {
            via_bearer = true;
            match auth.resolve(Presented::Token(&token)).await {
                Ok(Some(p)) => principal = Some(p),
                Ok(None) if public => via_bearer = false,
                Ok(None) => {
                    return api_error(
                        &path,
                        AppError::Unauthenticated,
                        Some(
                            "The API token is not valid: it may be revoked, expired or mistyped. Create a new one under Settings → API tokens.",
                        ),
                    );
                }
                Err(e) => return api_error(&path, e.into(), None),
            }
        }
    } else if let Some(secret) = secret {
        match auth.resolve(Presented::Session(&secret)).await {
            Ok(Some(p)) => principal = Some(p),
            Ok(None) => stale_cookie = true,
            Err(e) => return api_error(&path, e.into(), None),
        }
    }

    if is_unsafe(&method)
        && !via_bearer
        && !public::has_own_bearer(&method, &path)
        && let Err(problem) = same_origin(req.headers(), &auth.settings.public_origin)
    {
        tracing::warn!(%method, %path, problem, "refused a cross-site request");
        return forbidden_cross_site(&path, problem);
    }

    match principal {
        Some(p) => {
            // Already signed in: the login page sends people on.
            if method == Method::GET && (path == "/sovereign/login" || path == "/sovereign/setup") {
                let next = query_param(req.uri().query(), "next").unwrap_or_default();
                return see_other(&app::auth::safe_next(&next));
            }
            req.extensions_mut().insert(p);
        }
        None if !public => {
            let needs_setup = auth.needs_setup().await;
            let mut res = deny(&req, needs_setup);
            if stale_cookie {
                append_cookie(&mut res, &session::clear_cookie(auth.settings.secure_cookies));
            }
            return res;
        }
        None => {}
    }
    let mut res = next.run(req).await;
    if stale_cookie {
        append_cookie(&mut res, &session::clear_cookie(auth.settings.secure_cookies));
    }
    res
}

/// The answer to an anonymous caller of a protected route.
fn deny(req: &Request, needs_setup: bool) -> Response {
    let path = req.uri().path();
    let is_api = path.starts_with("/sovereign/api/");
    let accepts_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let read = req.method() == Method::GET || req.method() == Method::HEAD;
    if read && !is_api {
        if needs_setup {
            return see_other("/sovereign/setup");
        }
        let here = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        return see_other(&app::auth::login_url(&here));
    }
    if path.starts_with(app::routes::SERVER_FN_PREFIX) && accepts_html {
        // A plain form post (no JavaScript) from a page whose session has ended: back through the login page.
        let back = req
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url::Url::parse(r).ok())
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            })
            .unwrap_or_default();
        return see_other(&app::auth::login_url(&back));
    }
    api_error(path, AppError::Unauthenticated, None)
}

/// The app's `AppError` encoding for server functions (their client decodes it), the REST JSON
/// `{"error","detail"}` body elsewhere.
fn api_error(path: &str, error: AppError, detail: Option<&str>) -> Response {
    if path.starts_with(app::routes::SERVER_FN_PREFIX) {
        return server_fn_error(error.status(), &error);
    }
    let mut res = ApiError(error.clone()).into_response();
    if let Some(detail) = detail {
        let body = serde_json::json!({ "error": error.code(), "detail": detail });
        *res.body_mut() = Body::from(body.to_string());
    }
    res
}

/// 403 for a cross-site state change. Server functions get the app's error encoding (their client decodes
/// it and shows the sentence); REST callers get `{"error": "cross-site-request", "detail": …}`.
fn forbidden_cross_site(path: &str, problem: String) -> Response {
    if path.starts_with(app::routes::SERVER_FN_PREFIX) {
        return server_fn_error(StatusCode::FORBIDDEN, &AppError::BadRequest(problem));
    }
    let body = serde_json::json!({ "error": "cross-site-request", "detail": problem }).to_string();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// An error answered on a server function's path before the function runs, in the encoding the function's
/// own errors use (`AppError`'s `FromServerFnError::Encoder`), so the browser decodes it the same way.
fn server_fn_error(status: StatusCode, error: &AppError) -> Response {
    use leptos::server_fn::{ContentType, error::FromServerFnError};
    let content_type = <<AppError as FromServerFnError>::Encoder as ContentType>::CONTENT_TYPE;
    (status, [(header::CONTENT_TYPE, content_type)], error.ser()).into_response()
}

/// `303` to `location`, with a small page naming where it goes for clients that do not follow redirects
/// (`curl` without `-L`, text browsers).
fn see_other(location: &str) -> Response {
    let href = html_escape(location);
    let what = if location.starts_with("/sovereign/setup") {
        "Set up the first account"
    } else {
        "Sign in"
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Catalyst</title></head>\
         <body><h1>Catalyst</h1><p>{what} to continue: <a href=\"{href}\">{href}</a></p></body></html>"
    );
    let mut res = (
        StatusCode::SEE_OTHER,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn append_cookie(res: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The `Authorization: Bearer` value, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The same-origin rule for state changes; `Err` says what is wrong, for the log and the caller.
pub fn same_origin(headers: &HeaderMap, expected: &str) -> Result<(), String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        return if origin.eq_ignore_ascii_case(expected) {
            Ok(())
        } else {
            Err(format!(
                "This request came from {origin}, not from the console at {expected}, so it was refused. \
                 Open the console at {expected} (or set --public-url to the address you use) and try again."
            ))
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") => Ok(()),
        Some(other) => Err(format!(
            "This request was made by another site ({other}), so it was refused. Use the console's own pages."
        )),
        None if session::session_secret(headers).is_some() => Err(
            "This request carries a session cookie but no Origin header, so it was refused. Browsers send one; \
             scripts should use an API token (Authorization: Bearer) instead of a cookie."
                .into(),
        ),
        // No cookie, no browser: nothing a forged request could borrow.
        None => Ok(()),
    }
}

/// One query parameter, percent-decoded.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn same_origin_rules() {
        let me = "http://127.0.0.1:3000";
        assert!(same_origin(&headers(&[("origin", me)]), me).is_ok());
        assert!(same_origin(&headers(&[("origin", "http://evil.example")]), me).is_err());
        assert!(same_origin(&headers(&[("origin", "null")]), me).is_err());
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), me).is_ok());
        assert!(same_origin(&headers(&[("sec-fetch-site", "cross-site")]), me).is_err());
        assert!(same_origin(&headers(&[("cookie", "catalyst_session=x")]), me).is_err());
        assert!(same_origin(&headers(&[]), me).is_ok(), "no cookie, no browser");
        let e = same_origin(&headers(&[("origin", "http://localhost:3000")]), me).expect_err("refused");
        assert!(e.contains("--public-url"), "{e}");
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer cat_abc")])),
            Some("cat_abc")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer  cat_abc ")])),
            Some("cat_abc")
        );
        assert_eq!(bearer(&headers(&[("authorization", "Basic eDp5")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
    }

    #[test]
    fn query_params() {
        assert_eq!(
            query_param(Some("next=%2Fsovereign%2Fusers&x=1"), "next").as_deref(),
            Some("/sovereign/users")
        );
        assert_eq!(query_param(Some("x=1"), "next"), None);
        assert_eq!(query_param(None, "next"), None);
    }
}
