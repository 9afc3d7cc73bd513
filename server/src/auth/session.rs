//! The session cookie: a random secret in an `HttpOnly`, `SameSite=Lax` cookie scoped to the console's path,
//! `Secure` when the console is served over https. The database keeps only its SHA-256.

use http::HeaderMap;

/// The cookie's name.
pub const COOKIE: &str = "catalyst_session";

/// `Set-Cookie` value that stores a session for `max_age_secs`.
pub fn set_cookie(secret: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{COOKIE}={secret}; Path={}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        app::routes::BASE,
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        app::routes::BASE,
        if secure { "; Secure" } else { "" }
    )
}

/// The value of cookie `name` in the request's `Cookie` headers, if present and non-empty.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The session secret of a request, if it carries one of plausible shape.
pub fn session_secret(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, COOKIE).filter(|v| v.len() <= 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_have_the_safe_attributes() {
        let c = set_cookie("abc", 3600, false);
        assert_eq!(
            c,
            "catalyst_session=abc; Path=/sovereign; Max-Age=3600; HttpOnly; SameSite=Lax"
        );
        assert!(set_cookie("abc", 1, true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn reads_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            http::header::COOKIE,
            "catalyst_theme=dark; catalyst_session=s3cr3t".parse().expect("v"),
        );
        assert_eq!(session_secret(&h), Some("s3cr3t"));
        let mut h = HeaderMap::new();
        h.append(http::header::COOKIE, "catalyst_session=".parse().expect("v"));
        assert_eq!(session_secret(&h), None);
        assert_eq!(session_secret(&HeaderMap::new()), None);
    }
}
