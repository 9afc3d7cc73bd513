//! The account engine's core: [`AuthService`], what every use case shares (the database, the options, the
//! password hasher, the rate limits, the cache of resolved callers), first run and housekeeping, and small
//! helpers the use-case modules share. The app's ports are implemented one per use case beside it:
//! [`super::signin`] (`SessionsPort`), [`super::accounts`] (`AccountsPort`), [`super::orgs`]
//! (`OrganisationsPort`), [`super::tokens`] (`ApiTokensPort`) and [`super::audit`] (`AuditPort`); callers
//! are resolved in [`super::callers`].

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use app::auth::{Organisation, RequestMeta};
use app::error::{AppError, FieldError};

use super::cache::CallerCache;
use super::config::AuthSettings;
use super::password::Hasher;
use super::ratelimit::IpLimits;
use crate::crypto::{random_token, sha256_hex};
use crate::db::users::UserRow;
use crate::db::{self, Db};
use crate::error::Error;

pub struct AuthService {
    pub db: Db,
    pub settings: AuthSettings,
    pub instance_id: String,
    pub hasher: Hasher,
    pub ip_limits: IpLimits,
    pub(super) needs_setup: AtomicBool,
    pub(super) callers: CallerCache,
    /// Vouchers as sign-up uses them (a voucher link is an invitation); set once at start by the state.
    pub(super) signup_vouchers: OnceLock<Arc<dyn app::ports::SignupVouchers>>,
}

/// A shared handle, as the router and ports hold it.
pub type Auth = Arc<AuthService>;

impl AuthService {
    pub fn new(db: Db, settings: AuthSettings, instance_id: String) -> Self {
        Self {
            db,
            settings,
            instance_id,
            hasher: Hasher::default(),
            ip_limits: IpLimits::new(),
            // Until `prepare` has looked, assume accounts exist (the safe direction: no setup page).
            needs_setup: AtomicBool::new(false),
            callers: CallerCache::default(),
            signup_vouchers: OnceLock::new(),
        }
    }

    /// Lets sign-up take voucher links (`/sovereign/signup?voucher=CODE`). Later calls are ignored.
    pub fn set_signup_vouchers(&self, vouchers: Arc<dyn app::ports::SignupVouchers>) {
        let _ = self.signup_vouchers.set(vouchers);
    }

    /// At start: if there is no account yet, make a setup token and return it (to print in the log).
    pub async fn prepare(&self) -> Result<Option<String>, Error> {
        // Compute the dummy hash now, so the first sign-in for an unknown e-mail is not slower than others.
        tokio::task::spawn_blocking(|| {
            super::password::dummy_hash();
        });
        if db::users::count(&self.db).await? > 0 {
            db::users::clear_setup_tokens(&self.db).await?;
            self.needs_setup.store(false, Ordering::Relaxed);
            return Ok(None);
        }
        let token = random_token(24);
        db::users::add_setup_token(&self.db, &sha256_hex(&token), &self.instance_id).await?;
        self.needs_setup.store(true, Ordering::Relaxed);
        Ok(Some(token))
    }

    /// True while no account exists (the console then offers its setup page). Re-checked against the database
    /// while true, since another replica may have completed the setup.
    pub async fn needs_setup(&self) -> bool {
        if !self.needs_setup.load(Ordering::Relaxed) {
            return false;
        }
        match db::users::count(&self.db).await {
            Ok(0) => true,
            Ok(_) => {
                self.needs_setup.store(false, Ordering::Relaxed);
                false
            }
            Err(_) => true,
        }
    }

    /// Removes expired sessions and idle rate-limit state; run periodically.
    pub async fn sweep(&self) -> Result<u64, Error> {
        self.ip_limits.sweep();
        Ok(db::sessions::delete_expired(&self.db, self.idle_ms()).await?)
    }

    pub(super) fn idle_ms(&self) -> i64 {
        self.settings.idle_timeout.as_millis() as i64
    }

    pub(super) fn ip(meta: &RequestMeta) -> Option<IpAddr> {
        meta.ip.parse().ok()
    }

    pub(super) async fn user(&self, id: &str) -> Result<UserRow, AppError> {
        db::users::by_id(&self.db, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("There is no such account.".into()))
    }

    pub(super) async fn org(&self, id: &str) -> Result<Organisation, AppError> {
        db::orgs::by_id(&self.db, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("There is no such organisation.".into()))
    }
}

/// `s` without control characters, at most `max_chars` long: for what people typed that lands in the
/// database (user agents, audit targets).
pub(super) fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}

pub(super) fn invalid(errors: Vec<FieldError>) -> AppError {
    AppError::Invalid(errors)
}

/// Collects field errors: `Ok` values pass through, errors are gathered so a form shows all of them at once.
pub(super) struct Fields(pub(super) Vec<FieldError>);

impl Fields {
    pub(super) fn new() -> Self {
        Fields(Vec::new())
    }

    pub(super) fn check<T: Default>(&mut self, r: Result<T, FieldError>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.0.push(e);
                T::default()
            }
        }
    }

    pub(super) fn done(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(invalid(self.0))
        }
    }
}
