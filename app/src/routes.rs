//! URL paths of the console. Links are always written in full: the router does not prefix
//! absolute hrefs with its base, so every path is built here from [`BASE`].

/// Where the console is served; everything the browser loads lives under it.
pub const BASE: &str = "/sovereign";

/// Prefix of every `#[server]` function (set through `SERVER_FN_PREFIX` in `.cargo/config.toml`).
pub const SERVER_FN_PREFIX: &str = "/sovereign/api/fn";

/// Prefix of the REST API.
pub const API_V1: &str = "/sovereign/api/v1";

/// The console's home page.
pub fn home() -> String {
    BASE.to_string()
}

/// A page below the base, e.g. `page("marketplace")` → `/sovereign/marketplace`.
pub fn page(rest: &str) -> String {
    format!("{BASE}/{}", rest.trim_start_matches('/'))
}

/// The public voucher landing page, at the console's root outside [`BASE`] (`/redeem?code=…`): what
/// voucher e-mails link to.
pub const REDEEM: &str = "/redeem";

/// Whether `path` is one of the console's public pages outside [`BASE`] (they have a router of their own).
pub fn is_public_root(path: &str) -> bool {
    path == REDEEM || path.strip_prefix(REDEEM).is_some_and(|rest| rest == "/")
}

/// `/redeem?code=SPRING-2027`.
pub fn redeem(code: &str) -> String {
    format!("{REDEEM}?code={code}")
}
