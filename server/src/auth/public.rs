//! The routes anyone may reach without signing in. Everything else needs a session or an API token: the
//! middleware denies by default, so a new route is protected without anyone remembering to protect it.
//! `server/tests/it/auth_http.rs` walks every route the router has and checks this.

use http::Method;

/// Pages of the sign-in flow (GET).
pub const PUBLIC_PAGES: &[&str] = &["/sovereign/login", "/sovereign/signup", "/sovereign/setup"];

/// Single sign-on redirects (GET): part of the login page's flow.
pub const OIDC_START: &str = "/sovereign/auth/oidc/start";
pub const OIDC_CALLBACK: &str = "/sovereign/auth/oidc/callback";

/// Probes (GET).
pub const PROBES: &[&str] = &["/healthz", "/readyz"];

/// Static assets: the compiled bundle and the files of `public/sovereign/`.
pub const ASSET_PREFIX: &str = "/sovereign/pkg/";
pub const PUBLIC_FILES: &[&str] = &["/sovereign/favicon.svg"];

/// The voucher landing page (GET) and its preview API (POST), added by the vouchers issue.
pub const REDEEM_PAGE: &str = "/redeem";
pub const REDEEM_PREVIEW_API: &str = "/sovereign/api/v1/vouchers/redeem-preview";

/// A new Sovereign uploads its kubeconfig here (PUT) with its own per-deployment bearer token, checked by
/// that handler (provisioning issue): `/sovereign/api/v1/deployments/{id}/kubeconfig`.
const KUBECONFIG_PUT_PREFIX: &str = "/sovereign/api/v1/deployments/";
const KUBECONFIG_PUT_SUFFIX: &str = "/kubeconfig";

/// Whether `method path` may be served without a signed-in caller.
pub fn is_public(method: &Method, path: &str) -> bool {
    let read = method == Method::GET || method == Method::HEAD;
    if read
        && (PROBES.contains(&path)
            || PUBLIC_PAGES.contains(&path)
            || path == OIDC_START
            || path == OIDC_CALLBACK
            || path == REDEEM_PAGE
            || PUBLIC_FILES.contains(&path)
            || (path.starts_with(ASSET_PREFIX) && !path.contains("..")))
    {
        return true;
    }
    if method == Method::POST
        && (path == REDEEM_PREVIEW_API || app::auth::api::PUBLIC_SERVER_FNS.contains(&path))
    {
        return true;
    }
    method == Method::PUT && is_kubeconfig_put(path)
}

/// Requests whose `Authorization: Bearer` is their own (not an API token), and which no browser form sends.
pub fn has_own_bearer(method: &Method, path: &str) -> bool {
    method == Method::PUT && is_kubeconfig_put(path)
}

fn is_kubeconfig_put(path: &str) -> bool {
    path.strip_prefix(KUBECONFIG_PUT_PREFIX)
        .and_then(|rest| rest.strip_suffix(KUBECONFIG_PUT_SUFFIX))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_list_is_exact() {
        for (m, p) in [
            (Method::GET, "/healthz"),
            (Method::GET, "/readyz"),
            (Method::GET, "/sovereign/login"),
            (Method::GET, "/sovereign/signup"),
            (Method::GET, "/sovereign/setup"),
            (Method::GET, "/sovereign/pkg/sovereign.wasm"),
            (Method::GET, "/sovereign/favicon.svg"),
            (Method::GET, "/redeem"),
            (Method::POST, "/sovereign/api/v1/vouchers/redeem-preview"),
            (Method::PUT, "/sovereign/api/v1/deployments/abc/kubeconfig"),
            (Method::GET, "/sovereign/auth/oidc/start"),
        ] {
            assert!(is_public(&m, p), "{m} {p}");
        }
        for (m, p) in [
            (Method::GET, "/sovereign"),
            (Method::GET, "/"),
            (Method::POST, "/sovereign/login"),
            (Method::GET, "/sovereign/users"),
            (Method::GET, "/sovereign/login/x"),
            (Method::GET, "/sovereign/api/v1/status"),
            (Method::GET, "/sovereign/api/v1/deployments/abc/kubeconfig"),
            (Method::PUT, "/sovereign/api/v1/deployments/a/b/kubeconfig"),
            (Method::PUT, "/sovereign/api/v1/deployments//kubeconfig"),
            (Method::GET, "/sovereign/pkg/../api/v1/settings"),
            (Method::POST, "/healthz"),
            (Method::DELETE, "/sovereign/favicon.svg"),
        ] {
            assert!(!is_public(&m, p), "{m} {p}");
        }
    }
}
