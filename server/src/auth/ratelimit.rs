//! Rate limits of the unauthenticated doors: sign-in, sign-up, setup and the single sign-on start.
//!
//! - **Per client address** (in memory, per replica): a token bucket per address for sign-ins, one for
//!   sign-ups and setup, one for single sign-on starts (governor's GCRA). IPv6 addresses count by their /64
//!   network ([`bucket`]): one client usually holds a whole /64 and could otherwise take a fresh address per
//!   request. With several replicas each enforces its own buckets, so the effective limit is per replica;
//!   that is enough to stop one address hammering the console.
//! - **Per account and address** (in the database, shared by every replica): failed sign-ins for an e-mail
//!   address — whether an account with it exists or not, so the lock itself reveals nothing — from one client
//!   address lock that e-mail address *for that client address* for a growing time: 5 failures within 15
//!   minutes lock it for 30 s, each further failure doubles that, up to 15 minutes. A successful sign-in
//!   from the address clears its count. Keying the lock by address too means a stranger's failures lock
//!   only the stranger out, never the account's owner signing in from elsewhere; a guesser with many
//!   addresses still meets the per-address buckets and locks at every one of them.

use std::net::{IpAddr, Ipv6Addr};
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
    /// Single sign-on starts (each writes a login in flight).
    SsoStart,
}

impl Kind {
    /// The throttle row of `email` tried from `ip`.
    fn key(self, email: &str, ip: Option<IpAddr>) -> String {
        let kind = match self {
            Kind::Login => "login",
            Kind::Signup => "signup",
            Kind::SsoStart => "sso",
        };
        let from = ip.map(|ip| bucket(ip).to_string()).unwrap_or_default();
        format!(
            "{kind}:{}:{from}",
            crate::crypto::sha256_hex(app::auth::validate::normalize_email(email))
        )
    }
}

/// The address a limit counts `ip` under: IPv4 as it is, IPv6 by its /64 network (an IPv4-mapped IPv6
/// address as the IPv4 address).
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// Per-address token buckets.
pub struct IpLimits {
    login: DefaultKeyedRateLimiter<IpAddr>,
    signup: DefaultKeyedRateLimiter<IpAddr>,
    sso: DefaultKeyedRateLimiter<IpAddr>,
}

/// Bucket sizes: a burst, then one more every `every`.
#[derive(Debug, Clone, Copy)]
pub struct IpQuota {
    pub burst: u32,
    pub every: Duration,
}

/// Single sign-on starts per address: 20 at once, then one every 3 s (`--sso-starts-per-minute`).
pub const SSO_START_QUOTA: IpQuota = IpQuota {
    burst: 20,
    every: Duration::from_secs(3),
};

impl IpLimits {
    /// Sign-in: 20 at once, then one every 3 s.
    pub const LOGIN_QUOTA: IpQuota = IpQuota {
        burst: 20,
        every: Duration::from_secs(3),
    };
    /// Sign-up and setup: 10 at once, then one a minute.
    pub const SIGNUP_QUOTA: IpQuota = IpQuota {
        burst: 10,
        every: Duration::from_secs(60),
    };

    /// [`Self::LOGIN_QUOTA`], [`Self::SIGNUP_QUOTA`] and [`SSO_START_QUOTA`].
    pub fn new() -> Self {
        Self::with(Self::LOGIN_QUOTA, Self::SIGNUP_QUOTA)
    }

    pub fn with(login: IpQuota, signup: IpQuota) -> Self {
        Self::with_sso(login, signup, SSO_START_QUOTA)
    }

    pub fn with_sso(login: IpQuota, signup: IpQuota, sso: IpQuota) -> Self {
        Self {
            login: RateLimiter::keyed(quota(login)),
            signup: RateLimiter::keyed(quota(signup)),
            sso: RateLimiter::keyed(quota(sso)),
        }
    }

    /// Takes one request from the address's bucket, or says how long to wait.
    pub fn check(&self, kind: Kind, ip: Option<IpAddr>) -> Result<(), AppError> {
        // Without a known address (in-process calls) there is nothing to key on.
        let Some(ip) = ip else { return Ok(()) };
        let limiter = match kind {
            Kind::Login => &self.login,
            Kind::Signup => &self.signup,
            Kind::SsoStart => &self.sso,
        };
        take(limiter, &bucket(ip)).map_err(|secs| {
            let what = match kind {
                Kind::Login => "sign-in attempts",
                Kind::Signup => "sign-up attempts",
                Kind::SsoStart => "single sign-on attempts",
            };
            rate_limited(format!("Too many {what} from your address."), secs)
        })
    }

    /// Forgets addresses whose buckets are full again (keeps memory bounded).
    pub fn sweep(&self) {
        self.login.retain_recent();
        self.signup.retain_recent();
        self.sso.retain_recent();
    }
}

/// Takes one from `key`'s bucket, or returns the whole seconds to wait (at least 1).
pub fn take<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), u64>
where
    K: Clone + std::hash::Hash + Eq,
{
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    })
}

impl Default for IpLimits {
    fn default() -> Self {
        Self::new()
    }
}

pub fn quota(q: IpQuota) -> Quota {
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

/// Refuses if the e-mail address is locked for this client address after failures from it.
pub async fn check_account(db: &Db, kind: Kind, email: &str, ip: Option<IpAddr>) -> Result<(), AppError> {
    let until = db::users::throttle_locked_until(db, &kind.key(email, ip))
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
        Kind::Login => "Too many failed sign-ins for this e-mail address from your address.".into(),
        Kind::Signup => "Too many failed sign-ups for this e-mail address from your address.".into(),
        Kind::SsoStart => "Too many single sign-on attempts from your address.".into(),
    }
}

/// Counts a failure of `email` from `ip`; returns the lock it caused, if any.
pub async fn record_failure(
    db: &Db,
    kind: Kind,
    email: &str,
    ip: Option<IpAddr>,
) -> Result<Option<Duration>, Error> {
    let key = kind.key(email, ip);
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

/// Clears the failures of `email` from `ip` (after a success from there).
pub async fn clear(db: &Db, kind: Kind, email: &str, ip: Option<IpAddr>) -> Result<(), Error> {
    Ok(db::users::throttle_clear(db, &kind.key(email, ip)).await?)
}

/// One per-address token bucket with its own message, for a public endpoint other than sign-in and sign-up
/// (the voucher redeem preview). In memory, per replica, like [`IpLimits`].
pub struct AddressLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// What is being limited, in the refusal: "voucher checks".
    what: &'static str,
}

impl AddressLimit {
    pub fn new(q: IpQuota, what: &'static str) -> Self {
        Self {
            limiter: RateLimiter::keyed(quota(q)),
            what,
        }
    }

    /// Takes one request from the address's bucket, or says how long to wait. Without a known address
    /// (in-process calls) there is nothing to key on.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), AppError> {
        let Some(ip) = ip else { return Ok(()) };
        // IPv6 clients count by their /64, as for sign-in.
        self.limiter.check_key(&bucket(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            rate_limited(format!("Too many {} from your address.", self.what), secs.max(1))
        })
    }

    /// Forgets addresses whose buckets are full again.
    pub fn sweep(&self) {
        self.limiter.retain_recent();
    }
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

    #[test]
    fn ipv6_addresses_count_by_their_slash_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let same_64: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip");
        let next_64: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(bucket(one), "2001:db8:1:2::".parse::<IpAddr>().expect("ip"));
        assert_eq!(bucket(one), bucket(same_64));
        assert_ne!(bucket(one), bucket(next_64));
        assert_eq!(
            bucket("::ffff:192.0.2.7".parse().expect("ip")),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
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
        // A client rotating through the addresses of its /64 shares one bucket.
        assert!(limits.check(Kind::Login, Some(one)).is_ok());
        assert!(limits.check(Kind::Login, Some(same_64)).is_ok());
        assert!(
            limits
                .check(Kind::Login, Some("2001:db8:1:2:1234::9".parse().expect("ip")))
                .is_err()
        );
        assert!(limits.check(Kind::Login, Some(next_64)).is_ok());
    }

    #[test]
    fn account_locks_are_per_client_address() {
        let a = Some("192.0.2.7".parse().expect("ip"));
        let b = Some("198.51.100.1".parse().expect("ip"));
        let v6 = Some("2001:db8::1".parse().expect("ip"));
        let v6_same = Some("2001:db8::2".parse().expect("ip"));
        assert_ne!(
            Kind::Login.key("x@example.com", a),
            Kind::Login.key("x@example.com", b)
        );
        assert_eq!(
            Kind::Login.key("X@Example.com", a),
            Kind::Login.key("x@example.com", a)
        );
        assert_eq!(
            Kind::Login.key("x@example.com", v6),
            Kind::Login.key("x@example.com", v6_same)
        );
        assert_ne!(
            Kind::Login.key("x@example.com", a),
            Kind::Signup.key("x@example.com", a)
        );
    }

    #[test]
    fn an_address_limit_refuses_with_its_own_words() {
        let limit = AddressLimit::new(
            IpQuota {
                burst: 1,
                every: Duration::from_secs(60),
            },
            "voucher checks",
        );
        let ip: IpAddr = "192.0.2.9".parse().expect("ip");
        assert!(limit.check(Some(ip)).is_ok());
        let err = limit.check(Some(ip)).expect_err("second is refused");
        assert!(
            err.to_string()
                .starts_with("Too many voucher checks from your address. Try again in "),
            "{err}"
        );
        assert!(limit.check(Some("192.0.2.10".parse().expect("ip"))).is_ok());
        assert!(limit.check(None).is_ok());
    }
}
