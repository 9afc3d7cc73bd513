//! Accounts, organisations, roles and sessions: who is signed in, and what they may do.
//!
//! - [`types`]: the wire types (`Principal`, `PlatformRole`, `OrgRole`, `Organisation`, …).
//! - [`policy`]: the one authorisation policy (`Action`, `allowed`, `require`).
//! - [`api`]: the server functions of the auth pages.
//! - [`principal`] / [`require`] (SSR only): the caller of the current request, as the server's middleware
//!   resolved it, for server functions and pages.

pub mod api;
pub mod pages;
pub mod policy;
pub mod types;
pub mod validate;

pub use policy::Action;
pub use types::*;

#[cfg(feature = "ssr")]
use crate::error::AppError;

/// The signed-in caller of the current request (SSR and server functions), or `Unauthenticated`.
///
/// The server's auth middleware resolves the session cookie or API token once per request and puts the
/// [`Principal`] into the request's extensions; leptos_axum hands the request `Parts` to Leptos context.
#[cfg(feature = "ssr")]
pub fn principal() -> Result<Principal, AppError> {
    current_principal().ok_or(AppError::Unauthenticated)
}

/// The caller if signed in, `None` otherwise (for pages that are public).
#[cfg(feature = "ssr")]
pub fn current_principal() -> Option<Principal> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Principal>().cloned())
}

/// The caller, if they may do `action` (on organisation `org` for organisation-scoped actions);
/// `Unauthenticated` or `Forbidden("<permission>")` otherwise.
#[cfg(feature = "ssr")]
pub fn require(action: Action, org: Option<&str>) -> Result<Principal, AppError> {
    let p = principal()?;
    policy::require(&p, action, org)?;
    Ok(p)
}

/// Where the current request came from (address, user agent, request id), for the audit log.
#[cfg(feature = "ssr")]
pub fn request_meta() -> RequestMeta {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestMeta>().cloned())
        .unwrap_or_default()
}

/// For a plain HTML form post (no JavaScript), answer with a redirect to `path`. Calls from the hydrated
/// app get the data instead and navigate themselves (a full page load, so the frame shows the new session).
#[cfg(feature = "ssr")]
pub fn redirect_form_post(path: &str) {
    let is_form_post = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if is_form_post && http::HeaderValue::from_str(path).is_ok() {
        leptos_axum::redirect(path);
    }
}

/// Appends a `Set-Cookie` header to the response of the current server function or page.
#[cfg(feature = "ssr")]
pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(v)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, v);
    }
}

/// For a plain form post only: keeps `value` for the next page load in a short-lived, path-scoped, HttpOnly
/// cookie, so a page rendered without JavaScript can show a one-time result (a new API token's secret, an
/// invitation link) after the redirect. [`flash_take`] reads and removes it.
#[cfg(feature = "ssr")]
pub fn flash_set(name: &str, path: &str, value: &impl serde::Serialize) {
    let is_form_post = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if let (true, Ok(json)) = (is_form_post, serde_json::to_string(value)) {
        set_cookie(&format!(
            "{name}={}; Path={path}; Max-Age=120; HttpOnly; SameSite=Strict",
            encode_component(&json)
        ));
    }
}

/// Takes the value [`flash_set`] left for this page, and removes it.
#[cfg(feature = "ssr")]
pub fn flash_take<T: serde::de::DeserializeOwned>(name: &str, path: &str) -> Option<T> {
    let raw = request_cookie(name)?;
    set_cookie(&format!(
        "{name}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Strict"
    ));
    serde_json::from_str(&decode_component(&raw)?).ok()
}

/// The value of cookie `name` in the current request, if it carries one.
#[cfg(feature = "ssr")]
pub fn request_cookie(name: &str) -> Option<String> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Reverses [`encode_component`].
pub fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A safe place to return to after signing in: a console path (`/sovereign…`), never another site.
/// Anything else becomes the console's home.
pub fn safe_next(next: &str) -> String {
    let home = crate::routes::home();
    let next = next.trim();
    let inside =
        next == home || next.starts_with(&format!("{home}/")) || next.starts_with(&format!("{home}?"));
    let clean = !next.contains('\\')
        && !next.contains("//")
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && next.len() <= 2048;
    // Going back to the auth pages after signing in would loop; an invitation link is the exception (signed
    // in, it is where the invitation is accepted).
    let invitation = next.starts_with(&format!("{}?invite=", crate::routes::page("signup")));
    let auth_page = !invitation
        && ["login", "signup", "setup", "logout"]
            .iter()
            .any(|p| next.starts_with(&crate::routes::page(p)));
    if inside && clean && !auth_page {
        next.to_string()
    } else {
        home
    }
}

/// `/sovereign/login?next=<path>`.
pub fn login_url(next: &str) -> String {
    let next = safe_next(next);
    if next == crate::routes::home() {
        crate::routes::page("login")
    } else {
        format!(
            "{}?next={}",
            crate::routes::page("login"),
            encode_component(&next)
        )
    }
}

/// Percent-encodes a URL query component (RFC 3986 unreserved characters pass through).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(safe_next("/sovereign/users"), "/sovereign/users");
        assert_eq!(safe_next("/sovereign/audit?page=2"), "/sovereign/audit?page=2");
        assert_eq!(safe_next("/sovereign"), "/sovereign");
        assert_eq!(
            safe_next("/sovereign/signup?invite=abc"),
            "/sovereign/signup?invite=abc",
            "signed in, an invitation is accepted there"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/sovereign",
            "/sovereign//evil.example",
            "/sovereignx",
            "/\\evil.example",
            "/sovereign/\\evil",
            "javascript:alert(1)",
            "",
            "/sovereign/login",
            "/sovereign/login?next=/sovereign",
            "/sovereign/signup",
            "/sovereign/signup?x=1&invite=abc",
            "/sovereign/users\r\nSet-Cookie: x=1",
            "/healthz",
        ] {
            assert_eq!(safe_next(bad), "/sovereign", "{bad:?}");
        }
    }

    #[test]
    fn components_round_trip() {
        let s = r#"{"secret":"cat_a-b_c","name":"CI ✓; x=1"}"#;
        assert_eq!(decode_component(&encode_component(s)).as_deref(), Some(s));
        assert_eq!(decode_component("%zz"), None);
        assert_eq!(decode_component("%4"), None);
    }

    #[test]
    fn login_url_carries_next_encoded() {
        assert_eq!(login_url("/sovereign"), "/sovereign/login");
        assert_eq!(
            login_url("/sovereign/audit?page=2"),
            "/sovereign/login?next=%2Fsovereign%2Faudit%3Fpage%3D2"
        );
        assert_eq!(login_url("https://evil.example"), "/sovereign/login");
    }
}
