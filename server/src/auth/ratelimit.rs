//! Sign-in and sign-up rate limits.
//!
//! - **Per client address** (in memory, per replica): a token bucket per IP for sign-ins and one for
//!   sign-ups and setup (governor's GCRA). With several replicas each enforces its own bucket, so the
//!   effective limit is per replica; that is enough to stop one address hammering the console.
//! - **Per account** (in the database, shared by every replica): failed sign-ins per e-mail address —
//!   whether an account with it exists or not, so the lock itself reveals nothing — lock the address for a
//!   growing time: 5 failures within 15 minutes lock it for 30 s, each further failure doubles that, up
//!   to 15 minutes. A successful sign-in clears the count.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use app::error::AppError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::db::{self, Db, now_ms};
use crate::error::Error;

/// Failures in a window before the account locks.
pub const FAILURES_BEFORE_LOCK: i64 = 5;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The first lock; each further failure doubles it.
pub const FIRST_LOCK: Duration = Duration::from_secs(30);
/// The longest lock.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sign-in attempts (password and password change).
    Login,
    /// Account creation: sign-up and first-run setup.
    Signup,
}

impl Kind {
    fn key(self, email: &str) -> String {
        let kind = match self {
            Kind::Login => "login",
            Kind::Signup => "signup",
        };
        format!(
            "{kind}:{}",
            super::secrets::sha256_hex(&app::auth::validate::normalize_email(email))
        )
    }
}

/// Per-address token buckets.
pub struct IpLimits {
    login: DefaultKeyedRateLimiter<IpAddr>,
    signup: DefaultKeyedRateLimiter<IpAddr>,
}

/// Bucket sizes: a burst, then one more every `every`.
#[derive(Debug, Clone, Copy)]
pub struct IpQuota {
    pub burst: u32,
    pub every: Duration,
}

impl IpLimits {
    /// Sign-in: 20 at once, then one every 3 s. Sign-up: 10 at once, then one a minute.
    pub fn new() -> Self {
        Self::with(
            IpQuota {
                burst: 20,
                every: Duration::from_secs(3),
            },
            IpQuota {
                burst: 10,
                every: Duration::from_secs(60),
            },
        )
    }

    pub fn with(login: IpQuota, signup: IpQuota) -> Self {
        Self {
            login: RateLimiter::keyed(quota(login)),
            signup: RateLimiter::keyed(quota(signup)),
        }
    }

    /// Takes one request from the address's bucket, or says how long to wait.
    pub fn check(&self, kind: Kind, ip: Option<IpAddr>) -> Result<(), AppError> {
        // Without a known address (in-process calls) there is nothing to key on.
        let Some(ip) = ip else { return Ok(()) };
        let limiter = match kind {
            Kind::Login => &self.login,
            Kind::Signup => &self.signup,
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let what = match kind {
                Kind::Login => "sign-in attempts",
                Kind::Signup => "sign-up attempts",
            };
            rate_limited(format!("Too many {what} from your address."), secs.max(1))
        })
    }

    /// Forgets addresses whose buckets are full again (keeps memory bounded).
    pub fn sweep(&self) {
        self.login.retain_recent();
        self.signup.retain_recent();
    }
}

impl Default for IpLimits {
    fn default() -> Self {
        Self::new()
    }
}

fn quota(q: IpQuota) -> Quota {
    let burst = NonZeroU32::new(q.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(q.every.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

fn rate_limited(what: String, secs: u64) -> AppError {
    AppError::RateLimited {
        detail: format!("{what} Try again in {secs} s."),
        retry_after_secs: secs,
    }
}

/// Refuses if the e-mail address is locked after failures.
pub async fn check_account(db: &Db, kind: Kind, email: &str) -> Result<(), AppError> {
    let until = db::users::throttle_locked_until(db, &kind.key(email))
        .await
        .map_err(|e| AppError::from(Error::from(e)))?;
    match until {
        Some(until) => {
            let secs = ((until - now_ms()).max(0) as u64).div_ceil(1000).max(1);
            Err(rate_limited(locked_message(kind), secs))
        }
        None => Ok(()),
    }
}

fn locked_message(kind: Kind) -> String {
    match kind {
        Kind::Login => "Too many failed sign-ins for this e-mail address.".into(),
        Kind::Signup => "Too many failed sign-ups for this e-mail address.".into(),
    }
}

/// Counts a failure; returns the lock it caused, if any.
pub async fn record_failure(db: &Db, kind: Kind, email: &str) -> Result<Option<Duration>, Error> {
    let key = kind.key(email);
    let window_start = now_ms() - WINDOW.as_millis() as i64;
    let failures = db::users::throttle_fail(db, &key, window_start).await?;
    match lock_for(failures) {
        Some(lock) => {
            db::users::throttle_lock(db, &key, now_ms() + lock.as_millis() as i64).await?;
            Ok(Some(lock))
        }
        None => Ok(None),
    }
}

/// The lock after `failures` failures in the window.
pub fn lock_for(failures: i64) -> Option<Duration> {
    if failures < FAILURES_BEFORE_LOCK {
        return None;
    }
    let doublings = (failures - FAILURES_BEFORE_LOCK).min(16) as u32;
    Some(FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK))
}

/// The lock as the message the failing request gets.
pub fn lock_error(kind: Kind, lock: Duration) -> AppError {
    rate_limited(locked_message(kind), lock.as_secs().max(1))
}

pub async fn clear(db: &Db, kind: Kind, email: &str) -> Result<(), Error> {
    Ok(db::users::throttle_clear(db, &kind.key(email)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_and_cap() {
        assert_eq!(lock_for(4), None);
        assert_eq!(lock_for(5), Some(Duration::from_secs(30)));
        assert_eq!(lock_for(6), Some(Duration::from_secs(60)));
        assert_eq!(lock_for(9), Some(Duration::from_secs(480)));
        assert_eq!(lock_for(10), Some(MAX_LOCK));
        assert_eq!(lock_for(1000), Some(MAX_LOCK));
    }

    #[test]
    fn ip_buckets_refuse_with_a_wait() {
        let limits = IpLimits::with(
            IpQuota {
                burst: 2,
                every: Duration::from_secs(60),
            },
            IpQuota {
                burst: 1,
                every: Duration::from_secs(60),
            },
        );
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        assert!(limits.check(Kind::Login, Some(ip)).is_ok());
        assert!(limits.check(Kind::Login, Some(ip)).is_ok());
        let err = limits.check(Kind::Login, Some(ip)).expect_err("third is refused");
        match &err {
            AppError::RateLimited {
                retry_after_secs,
                detail,
            } => {
                assert!((55..=60).contains(retry_after_secs), "{retry_after_secs}");
                assert!(
                    detail.starts_with("Too many sign-in attempts from your address. Try again in "),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Another address and the other bucket are unaffected.
        assert!(
            limits
                .check(Kind::Login, Some("192.0.2.8".parse().expect("ip")))
                .is_ok()
        );
        assert!(limits.check(Kind::Signup, Some(ip)).is_ok());
        assert!(limits.check(Kind::Login, None).is_ok());
    }
}
