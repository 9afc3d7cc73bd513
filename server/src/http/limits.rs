//! Limits that keep one client from exhausting the console: the options, and the layers that enforce those
//! of them that live in the HTTP stack.
//!
//! - The listener (`crate::serve`): at most `--max-connections` open connections (further ones wait in the
//!   kernel's queue), a request's headers within `--header-read-timeout`.
//! - [`request_timeout`]: a handler (body read included) answers within `--request-timeout`, or the client gets
//!   `503`; an event stream counts as answered once its headers are sent.
//! - [`cap_streams`]: at most `--max-streams-per-account` open event streams per account on this replica
//!   (`429` beyond).
//! - [`per_account`]: the Hetzner token check, `--hetzner-checks-per-minute` per account.
//! - [`sso_start`]: the unauthenticated single sign-on start, `--sso-starts-per-minute` per client address.
//! - Password hashing (`auth::password`): `--password-check-queue` checks wait for a hashing slot, more get `429`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::auth::{Principal, RequestMeta};
use app::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::Args;
use futures_util::StreamExt;
use governor::DefaultKeyedRateLimiter;
use http::{StatusCode, header};

use crate::auth::ratelimit::{self, IpQuota, Kind};
use crate::config::value::{ConfigError, parse_duration};
use crate::error::ApiError;

/// The options (flags and environment variables).
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Open connections at most; further clients wait until one closes.
    #[arg(
        long,
        env = "CATALYST_MAX_CONNECTIONS",
        default_value_t = 1024,
        value_name = "N",
        global = true
    )]
    pub max_connections: usize,

    /// A client must send a request's headers within this time (and an idle connection is closed after it).
    #[arg(
        long,
        env = "CATALYST_HEADER_READ_TIMEOUT",
        default_value = "10s",
        value_name = "DURATION",
        global = true
    )]
    pub header_read_timeout: String,

    /// A request (its body included) must be answered within this time, or it gets 503. Event streams count
    /// as answered when they start.
    #[arg(
        long,
        env = "CATALYST_REQUEST_TIMEOUT",
        default_value = "60s",
        value_name = "DURATION",
        global = true
    )]
    pub request_timeout: String,

    /// Live event streams one account may have open at once (per replica).
    #[arg(
        long,
        env = "CATALYST_MAX_STREAMS_PER_ACCOUNT",
        default_value_t = 20,
        value_name = "N",
        global = true
    )]
    pub max_streams_per_account: usize,

    /// Sign-ins, sign-ups and password changes that may wait for one of the password-hashing slots; more
    /// are refused with 429 until the queue shortens.
    #[arg(
        long,
        env = "CATALYST_PASSWORD_CHECK_QUEUE",
        default_value_t = 32,
        value_name = "N",
        global = true
    )]
    pub password_check_queue: usize,

    /// Single sign-on starts per client address and minute (the start needs no account).
    #[arg(
        long,
        env = "CATALYST_SSO_STARTS_PER_MINUTE",
        default_value_t = 20,
        value_name = "N",
        global = true
    )]
    pub sso_starts_per_minute: u32,

    /// Hetzner token checks (wizard step 4) per account and minute.
    #[arg(
        long,
        env = "CATALYST_HETZNER_CHECKS_PER_MINUTE",
        default_value_t = 10,
        value_name = "N",
        global = true
    )]
    pub hetzner_checks_per_minute: u32,
}

/// The limits after validation.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub max_streams_per_account: usize,
    pub password_check_queue: usize,
    pub sso_starts_per_minute: u32,
    pub hetzner_checks_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_streams_per_account: 20,
            password_check_queue: 32,
            sso_starts_per_minute: 20,
            hetzner_checks_per_minute: 10,
        }
    }
}

impl LimitArgs {
    pub fn validate(&self) -> Result<Limits, ConfigError> {
        let positive = |option: &'static str, n: usize| {
            if n == 0 {
                Err(ConfigError::new(option, "must be at least 1"))
            } else {
                Ok(n)
            }
        };
        let duration = |option: &'static str, value: &str| {
            let d = parse_duration(value).map_err(|p| ConfigError::new(option, p))?;
            if d.is_zero() {
                return Err(ConfigError::new(option, "must be longer than 0"));
            }
            Ok(d)
        };
        Ok(Limits {
            max_connections: positive("--max-connections", self.max_connections)?,
            header_read_timeout: duration("--header-read-timeout", &self.header_read_timeout)?,
            request_timeout: duration("--request-timeout", &self.request_timeout)?,
            max_streams_per_account: positive("--max-streams-per-account", self.max_streams_per_account)?,
            password_check_queue: positive("--password-check-queue", self.password_check_queue)?,
            sso_starts_per_minute: positive("--sso-starts-per-minute", self.sso_starts_per_minute as usize)?
                as u32,
            hetzner_checks_per_minute: positive(
                "--hetzner-checks-per-minute",
                self.hetzner_checks_per_minute as usize,
            )? as u32,
        })
    }
}

/// A burst of `per_minute`, refilled evenly over the minute.
pub fn per_minute(per_minute: u32) -> IpQuota {
    IpQuota {
        burst: per_minute.max(1),
        every: Duration::from_secs(60) / per_minute.max(1),
    }
}

/// An error answered by a layer, in the encoding of the path: the app's server-function encoding under
/// `/sovereign/api/fn/`, the REST JSON `{"error", "detail"}` elsewhere.
pub fn error_response(path: &str, error: AppError) -> Response {
    if path.starts_with(app::routes::SERVER_FN_PREFIX) {
        use leptos::server_fn::{ContentType, error::FromServerFnError};
        let content_type = <<AppError as FromServerFnError>::Encoder as ContentType>::CONTENT_TYPE;
        let mut res = (
            error.status(),
            [(header::CONTENT_TYPE, content_type)],
            error.ser(),
        )
            .into_response();
        if let AppError::RateLimited { retry_after_secs, .. } = &error
            && let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    ApiError(error).into_response()
}

/// Answers `503` when the inner service has not produced a response within the limit.
pub async fn request_timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%path, limit_ms = limit.as_millis() as u64, "a request took longer than --request-timeout");
            error_response(
                &path,
                AppError::Unavailable(format!(
                    "The console did not finish this request within {} s; try again in a moment.",
                    limit.as_secs().max(1)
                )),
            )
        }
    }
}

/// Open event streams per account on this replica.
#[derive(Clone, Default)]
pub struct StreamCounts {
    max: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl StreamCounts {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// Counts one more stream for `account`, or `None` at the limit.
    pub fn open(&self, account: &str) -> Option<StreamGuard> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(account.to_string()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(StreamGuard {
            counts: self.clone(),
            account: account.to_string(),
        })
    }

    /// Streams open for `account` now.
    pub fn current(&self, account: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(account).copied().unwrap_or(0)
    }
}

/// One open stream; dropping it (the stream ended or the client went away) frees the slot.
pub struct StreamGuard {
    counts: StreamCounts,
    account: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.account);
            }
        }
    }
}

/// Counts the signed-in caller's event streams (`text/event-stream` answers, whichever route sends them): a
/// stream over the limit is not started and the caller gets `429`.
pub async fn cap_streams(State(counts): State<StreamCounts>, req: Request, next: Next) -> Response {
    let account = req.extensions().get::<Principal>().map(|p| p.user_id.clone());
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let is_stream = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let Some(account) = account.filter(|_| is_stream) else {
        return res;
    };
    let Some(guard) = counts.open(&account) else {
        return error_response(
            &path,
            AppError::RateLimited {
                detail: format!(
                    "You have {} live views open already; close some tabs and reload this page.",
                    counts.max
                ),
                retry_after_secs: 10,
            },
        );
    };
    let (parts, body) = res.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        let _open = &guard;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// Server functions limited per account and minute.
pub const HETZNER_CHECK_PATH: &str = "/sovereign/api/fn/wizard/check_hetzner_token";
/// The Credentials step posted as a plain form (no JavaScript): it checks the token it carries with Hetzner
/// too, so it draws from the same bucket.
pub const HETZNER_CHECK_FORM_PATH: &str = "/sovereign/wizard/credentials";

/// Per-account buckets of the calls in [`HETZNER_CHECK_PATH`].
#[derive(Clone)]
pub struct AccountLimits {
    hetzner_checks: Arc<DefaultKeyedRateLimiter<String>>,
    /// Calls seen, to forget full buckets now and then.
    calls: Arc<AtomicU64>,
}

impl AccountLimits {
    pub fn new(limits: &Limits) -> Self {
        Self {
            hetzner_checks: Arc::new(governor::RateLimiter::keyed(ratelimit::quota(per_minute(
                limits.hetzner_checks_per_minute,
            )))),
            calls: Arc::default(),
        }
    }

    /// Forgets accounts whose buckets are full again.
    pub fn sweep(&self) {
        self.hetzner_checks.retain_recent();
    }
}

/// Takes one call from the account's bucket for the limited paths; `429` when it is empty.
pub async fn per_account(State(limits): State<AccountLimits>, req: Request, next: Next) -> Response {
    if limits.calls.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
        limits.sweep();
    }
    let checks_token = req.uri().path() == HETZNER_CHECK_PATH
        || (req.method() == http::Method::POST && req.uri().path() == HETZNER_CHECK_FORM_PATH);
    if checks_token
        && let Some(p) = req.extensions().get::<Principal>()
        && let Err(wait) = ratelimit::take(&limits.hetzner_checks, &p.user_id)
    {
        return error_response(
            req.uri().path(),
            AppError::RateLimited {
                detail: format!("Too many token checks from your account. Try again in {wait} s."),
                retry_after_secs: wait,
            },
        );
    }
    next.run(req).await
}

/// The single sign-on start, limited per client address (it needs no account and writes a row).
pub async fn sso_start(State(auth): State<crate::auth::Auth>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<RequestMeta>()
        .and_then(|m| m.ip.parse().ok());
    if let Err(e) = auth.ip_limits.check(Kind::SsoStart, ip) {
        let retry = match &e {
            AppError::RateLimited { retry_after_secs, .. } => *retry_after_secs,
            _ => 60,
        };
        tracing::info!(
            retry,
            "refused a single sign-on start: too many from this address"
        );
        let mut res = (
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!("{}?sso=busy", app::routes::page("login")),
            )],
        )
            .into_response();
        if let Ok(v) = http::HeaderValue::from_str(&retry.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_slots_are_freed_when_a_stream_ends() {
        let counts = StreamCounts::new(2);
        let a = counts.open("u1").expect("first");
        let _b = counts.open("u1").expect("second");
        assert!(counts.open("u1").is_none(), "the third is refused");
        assert!(counts.open("u2").is_some(), "other accounts are not affected");
        drop(a);
        assert_eq!(counts.current("u1"), 1);
        assert!(counts.open("u1").is_some());
    }

    #[test]
    fn per_minute_quotas_refill_over_the_minute() {
        let q = per_minute(20);
        assert_eq!(q.burst, 20);
        assert_eq!(q.every, Duration::from_secs(3));
    }
}
