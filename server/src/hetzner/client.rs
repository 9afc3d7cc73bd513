//! A small typed client for the parts of the Hetzner Cloud API Catalyst uses: the token check of the
//! wizard, and listing and deleting a Sovereign's resources for the wipe.
//!
//! The token is a [`Secret`] sent as `Authorization: Bearer …` and never logged: the client's `Debug` shows
//! only the base URL, and errors carry Hetzner's error code and message, never the request headers.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use app::deployments::Secret;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The public Hetzner Cloud API.
pub const DEFAULT_API_URL: &str = "https://api.hetzner.cloud/v1";

/// Items per page when listing (Hetzner's maximum is 50).
const PER_PAGE: u32 = 50;
/// A runaway-pagination guard: 200 pages of 50 is far beyond any project's resource limits.
const MAX_PAGES: u32 = 200;
/// Extra attempts of a read the API could not answer (429, 5xx, timeout, connection failure).
const READ_RETRIES: u32 = 2;
/// The pause before each retry; a `RateLimit-Reset` the API sends counts instead, up to the last value.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];
/// The longest a rate-limited read waits for the API's `RateLimit-Reset` before giving up.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HetznerError {
    /// 401, or 403 `forbidden` / `token_readonly`: the token is wrong, revoked or read-only.
    #[error("the Hetzner API rejected the token ({code}): {message}")]
    Rejected { code: String, message: String },
    /// No answer: DNS, connection, TLS or timeout.
    #[error("could not reach the Hetzner API: {0}")]
    Unreachable(String),
    /// Any other non-success answer, with Hetzner's error code (`locked`, `resource_in_use`, `protected` …).
    #[error("the Hetzner API answered HTTP {status} ({code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// A success status with a body that is not what the API documents.
    #[error("the Hetzner API sent an unexpected answer: {0}")]
    Malformed(String),
}

impl HetznerError {
    /// Hetzner's error code, when the API answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            HetznerError::Rejected { code, .. } | HetznerError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, HetznerError::Api { status: 404, .. }) || self.code() == Some("not_found")
    }
}

/// Why a token failed the wizard's check (the failure kinds the credentials step shows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    /// Unknown, revoked or read-only token.
    #[error("token rejected — ensure it is a Read & Write API token of the project ({0})")]
    Rejected(String),
    /// The API could not be reached.
    #[error("could not reach the Hetzner API — check network connectivity ({0})")]
    Unreachable(String),
    /// The API answered something else (5xx, rate limit …).
    #[error("the Hetzner API answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
}

impl TokenProblem {
    /// `rejected`, `unreachable` or `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            TokenProblem::Rejected(_) => "rejected",
            TokenProblem::Unreachable(_) => "unreachable",
            TokenProblem::Http { .. } => "http",
        }
    }
}

/// A Hetzner Cloud API client for one project token.
#[derive(Clone)]
pub struct HetznerClient {
    http: reqwest::Client,
    base: String,
    token: Secret,
    /// Requests sent by this client and its clones, retries included (for the pre-flight's count).
    sent: Arc<AtomicU32>,
}

impl fmt::Debug for HetznerClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HetznerClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next_page: Option<u32>,
}

impl HetznerClient {
    /// A client for `base_url` (e.g. [`DEFAULT_API_URL`]) with a 10 s connect and 30 s request timeout.
    pub fn new(base_url: &str, token: Secret) -> Result<Self, HetznerError> {
        Self::with_timeouts(base_url, token, Duration::from_secs(10), Duration::from_secs(30))
    }

    pub fn with_timeouts(
        base_url: &str,
        token: Secret,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, HetznerError> {
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .user_agent(concat!("catalyst/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HetznerError::Unreachable(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            token,
            sent: Arc::new(AtomicU32::new(0)),
        })
    }

    /// Requests sent so far by this client and its clones, retries included.
    pub fn requests_sent(&self) -> u32 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Checks that the token is accepted and may write: a `GET /servers` proves it reads the project, then
    /// [`Self::check_write`] proves it is not a read-only token. Nothing is created.
    pub async fn validate_token(&self) -> Result<(), TokenProblem> {
        self.request_json::<serde_json::Value>(Method::GET, "/servers?per_page=1", None)
            .await
            .map_err(token_problem)?;
        self.check_write().await
    }

    /// Proves the token may write without creating anything: a deliberately invalid `POST /ssh_keys` (no
    /// name, no key) — Hetzner answers `token_readonly` to a read-only token before it looks at the body, and
    /// refuses the body from a read & write one.
    pub async fn check_write(&self) -> Result<(), TokenProblem> {
        match self
            .request_json::<serde_json::Value>(
                Method::POST,
                "/ssh_keys",
                Some(serde_json::json!({ "name": "", "public_key": "" })),
            )
            .await
        {
            // An invalid body is refused by a read & write token: exactly what we want to see.
            Err(HetznerError::Api { status, .. }) if (400..500).contains(&status) && status != 429 => Ok(()),
            // token_readonly lands here as Rejected.
            Err(e) => Err(token_problem(e)),
            Ok(_) => Err(TokenProblem::Http {
                status: 201,
                message: "the API accepted an empty SSH key; refusing to trust this endpoint".into(),
            }),
        }
    }

    /// Every item of a list endpoint (`/servers`, `/networks` …), following `meta.pagination.next_page`.
    /// `key` is the array's name in the body (`servers`); `label_selector` filters on the server side.
    pub async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &str,
        label_selector: Option<&str>,
    ) -> Result<Vec<T>, HetznerError> {
        let mut items = Vec::new();
        let mut page = 1;
        loop {
            let mut query = format!("page={page}&per_page={PER_PAGE}");
            if let Some(sel) = label_selector {
                query.push_str("&label_selector=");
                query.push_str(&urlencode(sel));
            }
            let body: serde_json::Value = self
                .request_json(Method::GET, &format!("{path}?{query}"), None)
                .await?;
            let list = body
                .get(key)
                .cloned()
                .ok_or_else(|| HetznerError::Malformed(format!("GET {path}: no “{key}” in the answer")))?;
            let batch: Vec<T> = serde_json::from_value(list)
                .map_err(|e| HetznerError::Malformed(format!("GET {path}: {e}")))?;
            items.extend(batch);
            let next = body
                .get("meta")
                .and_then(|m| serde_json::from_value::<Meta>(m.clone()).ok())
                .and_then(|m| m.pagination)
                .and_then(|p| p.next_page);
            match next {
                Some(n) if n > page && page < MAX_PAGES => page = n,
                _ => break,
            }
        }
        Ok(items)
    }

    /// `DELETE path`. A 404 counts as success (already gone).
    pub async fn delete(&self, path: &str) -> Result<(), HetznerError> {
        match self
            .request_json::<serde_json::Value>(Method::DELETE, path, None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `POST path` with a JSON body (actions such as `/volumes/1/actions/detach`).
    pub async fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value, HetznerError> {
        self.request_json(Method::POST, path, Some(body)).await
    }

    /// `GET path` decoded into `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, HetznerError> {
        self.request_json(Method::GET, path, None).await
    }

    /// One call; a read (GET) the API could not answer is tried again up to [`READ_RETRIES`] times. Writes
    /// are never repeated: Hetzner may have acted on a request whose answer was lost.
    async fn request_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, HetznerError> {
        let mut attempt = 0;
        loop {
            match self.request_once(method.clone(), path, body.clone()).await {
                Err((e, reset)) if method == Method::GET && attempt < READ_RETRIES && retryable(&e) => {
                    let pause = match reset {
                        Some(wait) if wait <= MAX_RATE_LIMIT_WAIT => wait.max(RETRY_PAUSES[attempt as usize]),
                        Some(_) => return Err(e),
                        None => RETRY_PAUSES[attempt as usize],
                    };
                    tracing::debug!(path, attempt, error = %e, "Hetzner API: trying again in {pause:?}");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
                Ok(v) => return Ok(v),
            }
        }
    }

    /// One request. On a 429, also how long the API asks to wait (`RateLimit-Reset`, epoch seconds).
    async fn request_once<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, (HetznerError, Option<Duration>)> {
        let url = format!("{}{}", self.base, path);
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(self.token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let unreachable = |e: reqwest::Error| (HetznerError::Unreachable(describe(&e)), None);
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let reset = (status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| rate_limit_wait(resp.headers()))
            .flatten();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        if status.is_success() {
            let text: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            return serde_json::from_slice(text)
                .map_err(|e| (HetznerError::Malformed(format!("{method} {path}: {e}")), None));
        }
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => (b.error.code, b.error.message),
            Err(_) => (
                status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase()
                    .replace(' ', "_"),
                String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            ),
        };
        if status == StatusCode::UNAUTHORIZED
            || code == "unauthorized"
            || code == "token_readonly"
            || code == "forbidden"
        {
            return Err((HetznerError::Rejected { code, message }, None));
        }
        Err((
            HetznerError::Api {
                status: status.as_u16(),
                code,
                message,
            },
            reset,
        ))
    }
}

/// A failed call as a token check's answer.
pub fn token_problem(e: HetznerError) -> TokenProblem {
    match e {
        HetznerError::Rejected { code, message } => TokenProblem::Rejected(format!("{code}: {message}")),
        HetznerError::Unreachable(m) => TokenProblem::Unreachable(m),
        HetznerError::Api {
            status,
            code,
            message,
        } => TokenProblem::Http {
            status,
            message: format!("{code}: {message}"),
        },
        HetznerError::Malformed(m) => TokenProblem::Http {
            status: 200,
            message: m,
        },
    }
}

/// Worth asking again: rate limited, the API's own trouble, or no answer at all.
fn retryable(e: &HetznerError) -> bool {
    match e {
        HetznerError::Unreachable(_) => true,
        HetznerError::Api { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// How long `RateLimit-Reset` (epoch seconds: when the budget is whole again) asks to wait; Hetzner gives
/// back one request a second, so one second is enough for the next.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let reset: u64 = headers
        .get("ratelimit-reset")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).min(1)))
}

/// A transport error in one line, without the request's headers.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut msg = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Percent-encodes a query value (label selectors contain `=`, `,`, `/` and `!`).
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let c =
            HetznerClient::new("http://127.0.0.1:9/v1/", Secret::new("super-secret-token")).expect("client");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("super-secret"), "{dbg}");
        assert_eq!(c.base_url(), "http://127.0.0.1:9/v1");
    }

    #[test]
    fn label_selectors_are_encoded() {
        assert_eq!(
            urlencode("catalyst.dev/deployment-id=ab12"),
            "catalyst.dev%2Fdeployment-id%3Dab12"
        );
    }

    #[test]
    fn problem_kinds() {
        assert_eq!(TokenProblem::Rejected("x".into()).kind(), "rejected");
        assert_eq!(TokenProblem::Unreachable("x".into()).kind(), "unreachable");
        assert_eq!(
            TokenProblem::Http {
                status: 500,
                message: "x".into()
            }
            .kind(),
            "http"
        );
    }
}
