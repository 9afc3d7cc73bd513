//! Browser hardening of every response: the Content-Security-Policy, framing, sniffing and referrer
//! headers, and the cookie rule under https.
//!
//! - **Pages** get a policy with this render's nonce ([`provide_page_policy`], called in the Leptos context of
//!   every render): scripts only from the console itself or inline with the nonce (Leptos' hydration and
//!   resource scripts, the split-module preload script, all of which Leptos gives the nonce), WebAssembly
//!   compilation (`'wasm-unsafe-eval'`), no plugins, no `<base>`, forms only to the console, never framed.
//!   Inline `style="…"` attributes are allowed (`style-src-attr`; a few components set CSS variables), inline
//!   `<style>` elements are not.
//! - **Everything else** (JSON, files, event streams, redirects) gets `default-src 'none'`: a response that a
//!   browser is tricked into rendering as a document can run nothing.
//! - `X-Frame-Options: DENY` (older browsers), `X-Content-Type-Options: nosniff`, `Referrer-Policy:
//!   same-origin` (links out never carry a console URL, which can hold an invitation token), and under https
//!   `Strict-Transport-Security`.
//! - **Cookies under https.** Code reads and writes cookies by their bare names (`catalyst_session`). When
//!   `--public-url` is https this layer renames every `Set-Cookie` to `__Secure-<name>` and makes it `Secure`
//!   (the session, the single sign-on state, the one-time flash cookies, the theme: every cookie, including
//!   future ones), and on the way in keeps only `__Secure-` cookies, without the prefix. A cookie without the
//!   prefix may have been planted over plain http or by a sibling domain; it is ignored. The browser side of
//!   the theme switch writes the prefixed name itself (`app::theme`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, header};

/// The prefix browsers accept only on `Secure` cookies set over https.
pub const SECURE_PREFIX: &str = "__Secure-";

/// The policy of everything that is not a page.
pub const NON_PAGE_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of a page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    // `cargo leptos watch` adds a script that reconnects to its reload server over a websocket.
    let reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
        " ws: wss:"
    } else {
        ""
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'{reload}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's policy with the nonce Leptos generated for this render. Call it in the context closure
/// of every render (pages and the 404 page); server-function calls have no nonce and keep the default.
pub fn provide_page_policy() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = HeaderValue::from_str(&page_policy(&nonce))
    {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// What the layer needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Hardening {
    /// `--public-url` is https: prefixed, `Secure` cookies and HSTS.
    pub https: bool,
}

/// The layer: see the module documentation.
pub async fn harden(State(h): State<Hardening>, mut req: Request, next: Next) -> Response {
    if h.https {
        only_secure_cookies(req.headers_mut());
    }
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NON_PAGE_POLICY),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if h.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
        secure_set_cookies(headers);
    }
    res
}

/// Rewrites the request's `Cookie` headers to the `__Secure-` cookies alone, with the prefix removed.
pub fn only_secure_cookies(headers: &mut HeaderMap) {
    if !headers.contains_key(header::COOKIE) {
        return;
    }
    let kept: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter_map(|pair| pair.strip_prefix(SECURE_PREFIX))
        .map(str::to_string)
        .collect();
    headers.remove(header::COOKIE);
    if kept.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&kept.join("; ")) {
        headers.insert(header::COOKIE, v);
    }
}

/// Gives every `Set-Cookie` the `__Secure-` prefix and the `Secure` attribute.
pub fn secure_set_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        // A value that is not text cannot be rewritten and is not ours: drop it rather than send it unprotected.
        let Ok(text) = cookie.to_str() else { continue };
        if let Ok(v) = HeaderValue::from_str(&secure_cookie(text)) {
            headers.append(header::SET_COOKIE, v);
        }
    }
}

/// One `Set-Cookie` value made `__Secure-` and `Secure`.
pub fn secure_cookie(set_cookie: &str) -> String {
    let mut out = if set_cookie.starts_with(SECURE_PREFIX) {
        set_cookie.to_string()
    } else {
        format!("{SECURE_PREFIX}{set_cookie}")
    };
    let has_secure = out
        .split(';')
        .skip(1)
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"));
    if !has_secure {
        out.push_str("; Secure");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_become_secure_and_prefixed() {
        assert_eq!(
            secure_cookie("catalyst_session=abc; Path=/sovereign; HttpOnly; SameSite=Lax"),
            "__Secure-catalyst_session=abc; Path=/sovereign; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            secure_cookie("catalyst_session=; Path=/sovereign; Max-Age=0; Secure"),
            "__Secure-catalyst_session=; Path=/sovereign; Max-Age=0; Secure"
        );
        assert_eq!(secure_cookie("__Secure-x=1; secure"), "__Secure-x=1; secure");
    }

    #[test]
    fn only_prefixed_cookies_come_in() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "catalyst_session=planted; __Secure-catalyst_session=real"
                .parse()
                .expect("v"),
        );
        h.append(
            header::COOKIE,
            "__Secure-catalyst_theme=light".parse().expect("v"),
        );
        only_secure_cookies(&mut h);
        assert_eq!(
            h.get_all(header::COOKIE).iter().collect::<Vec<_>>(),
            vec!["catalyst_session=real; catalyst_theme=light"]
        );
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "catalyst_session=planted".parse().expect("v"));
        only_secure_cookies(&mut h);
        assert!(h.get(header::COOKIE).is_none());
    }

    #[test]
    fn the_page_policy_allows_only_nonced_inline_scripts() {
        let p = page_policy("n0nce");
        assert!(
            p.contains("script-src 'self' 'nonce-n0nce' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(!p.contains("script-src 'self' 'unsafe-inline'"), "{p}");
        assert!(p.ends_with("frame-ancestors 'none'"), "{p}");
    }
}
