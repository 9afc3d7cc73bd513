//! Who is calling: a session cookie's or an API token's secret → the [`Principal`] acting, through one
//! resolution path for both credentials, and the cache of resolved callers in front of it.
//!
//! Each replica keeps a resolved caller for at most [`PRINCIPAL_CACHE_TTL`]. Changes made through this
//! replica (sign-out, role changes, disabling, revoking) call [`AuthService::forget_callers`] and apply at
//! once; those made through another replica apply within that time.
//!
//! Answers that outlive their request (the live event stream) end when their caller loses access:
//! [`AuthService::revoked`] re-reads the credential from the database at once on every change made through
//! this replica and every [`REVOCATION_POLL`] otherwise.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::auth::policy::{self, Action};
use app::auth::{Credential, PlatformRole, Principal};

use super::cache::Cached;
use super::service::AuthService;
use crate::crypto::sha256_hex;
use crate::db::{self, now_ms};
use crate::error::Error;

/// How long this replica reuses a resolved caller before asking the database again.
pub const PRINCIPAL_CACHE_TTL: Duration = Duration::from_secs(2);
/// How often an open stream re-reads its caller from the database (changes made through this replica wake it
/// at once; this bounds how late it hears of changes made through another).
pub const REVOCATION_POLL: Duration = Duration::from_secs(2);
/// Entries kept at most (then the cache starts over).
const PRINCIPAL_CACHE_MAX: usize = 10_000;
/// API tokens start with this, so secret scanners and people recognise them.
pub const TOKEN_PREFIX: &str = "cat_";

/// What a request presents to prove who it is.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    /// The session cookie's secret.
    Session(&'a str),
    /// An API token (`Authorization: Bearer cat_…`).
    Token(&'a str),
}

/// A credential's row with its account, whichever kind of credential it is.
struct Found {
    credential: Credential,
    user_id: String,
    email: String,
    display_name: String,
    platform_role: Option<String>,
    disabled: bool,
    has_password: bool,
    /// Sessions: absolute expiry (ms since epoch).
    expires_at: Option<i64>,
    /// Last recorded activity (session) or use (token), ms since epoch.
    last_seen_at: Option<i64>,
}

impl From<db::sessions::SessionUser> for Found {
    fn from(s: db::sessions::SessionUser) -> Self {
        Found {
            credential: Credential::Session { id: s.session_id },
            user_id: s.user_id,
            email: s.email,
            display_name: s.display_name,
            platform_role: s.platform_role,
            disabled: s.disabled,
            has_password: s.has_password,
            expires_at: Some(s.expires_at),
            last_seen_at: Some(s.last_seen_at),
        }
    }
}

impl From<db::tokens::TokenUser> for Found {
    fn from(t: db::tokens::TokenUser) -> Self {
        Found {
            credential: Credential::Token { id: t.token_id },
            user_id: t.user_id,
            email: t.email,
            display_name: t.display_name,
            platform_role: t.platform_role,
            disabled: t.disabled,
            has_password: t.has_password,
            expires_at: None,
            last_seen_at: t.last_used_at,
        }
    }
}

/// Where a credential is looked up.
#[derive(Debug, Clone, Copy)]
enum Lookup<'a> {
    SessionHash(&'a str),
    TokenHash(&'a str),
    /// An open stream re-checking its caller.
    Credential(&'a Credential),
}

impl AuthService {
    /// Drops every cached caller: called after anything that changes who may do what.
    pub fn forget_callers(&self) {
        if let Ok(mut c) = self.callers.entries.lock() {
            c.clear();
        }
        self.callers.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// The principal a request's credential stands for; `None` if it is unknown, revoked, expired (a session
    /// past its maximum age or idle timeout), or its account is disabled.
    pub async fn resolve(&self, presented: Presented<'_>) -> Result<Option<Principal>, Error> {
        let key = match presented {
            Presented::Session(secret) => format!("s:{}", sha256_hex(secret)),
            Presented::Token(secret) if secret.starts_with(TOKEN_PREFIX) && secret.len() <= 128 => {
                format!("t:{}", sha256_hex(secret))
            }
            Presented::Token(_) => return Ok(None),
        };
        if let Some(p) = self.cached(&key) {
            return Ok(Some(p));
        }
        let hash = &key[2..];
        let lookup = match presented {
            Presented::Session(_) => Lookup::SessionHash(hash),
            Presented::Token(_) => Lookup::TokenHash(hash),
        };
        let Some(found) = self.find(lookup).await? else {
            return Ok(None);
        };
        let expires_at = found.expires_at;
        let Some((principal, last_seen_at)) = self.admit(found, true).await? else {
            return Ok(None);
        };
        self.remember(key, &principal, expires_at, last_seen_at);
        Ok(Some(principal))
    }

    /// The caller of `credential` as the database says now (no cache, no activity recorded): `None` once the
    /// session has ended, the token is revoked, or the account is disabled.
    pub async fn recheck(&self, credential: &Credential) -> Result<Option<Principal>, Error> {
        let Some(found) = self.find(Lookup::Credential(credential)).await? else {
            return Ok(None);
        };
        Ok(self.admit(found, false).await?.map(|(p, _)| p))
    }

    /// Resolves when `principal` may no longer do `action` on organisation `org` — signed out, its session ended
    /// by a password change or expiry, its token revoked, its account disabled, or its role there gone. Answers
    /// that outlive their request end with it (`StreamExt::take_until`).
    pub fn revoked(
        self: &Arc<Self>,
        principal: Principal,
        org: String,
        action: Action,
    ) -> impl Future<Output = ()> + Send + 'static {
        let auth = self.clone();
        let mut changes = self.callers.generation.subscribe();
        async move {
            loop {
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = tokio::time::sleep(REVOCATION_POLL) => {}
                }
                match auth.recheck(&principal.credential).await {
                    Ok(Some(p)) if policy::allowed(&p, action, Some(&org)) => {}
                    Ok(_) => return,
                    // A database hiccup is not a revocation: look again at the next tick.
                    Err(e) => tracing::warn!(error = %e, "cannot re-check the caller of an open stream"),
                }
            }
        }
    }

    async fn find(&self, lookup: Lookup<'_>) -> Result<Option<Found>, Error> {
        Ok(match lookup {
            Lookup::SessionHash(hash) => db::sessions::lookup(&self.db, hash).await?.map(Found::from),
            Lookup::TokenHash(hash) => db::tokens::lookup(&self.db, hash).await?.map(Found::from),
            Lookup::Credential(Credential::Session { id }) => {
                db::sessions::lookup_by_id(&self.db, id).await?.map(Found::from)
            }
            Lookup::Credential(Credential::Token { id }) => {
                db::tokens::lookup_by_id(&self.db, id).await?.map(Found::from)
            }
        })
    }

    /// The principal of a credential that was found, unless it is no longer good (a disabled account, a
    /// session past its maximum age or idle timeout), with its last activity; `touch` records this use.
    async fn admit(&self, found: Found, touch: bool) -> Result<Option<(Principal, i64)>, Error> {
        let now = now_ms();
        let session_over = found
            .expires_at
            .zip(found.last_seen_at)
            .is_some_and(|(expires, seen)| now >= expires || now - seen >= self.idle_ms());
        if found.disabled || session_over {
            return Ok(None);
        }
        let mut last_seen_at = found.last_seen_at.unwrap_or(0);
        if touch && now - last_seen_at >= self.touch_every_ms(&found.credential) {
            last_seen_at = now;
            self.record_use(&found.credential, now);
        }
        let memberships = db::orgs::memberships_of(&self.db, &found.user_id).await?;
        let principal = Principal {
            platform_role: found.platform_role.as_deref().and_then(PlatformRole::parse),
            user_id: found.user_id,
            email: found.email,
            display_name: found.display_name,
            memberships,
            credential: found.credential,
            has_password: found.has_password,
        };
        Ok(Some((principal, last_seen_at)))
    }

    /// How often a credential's use is written: sessions at most once a minute and often enough for the idle
    /// timeout, tokens once a minute.
    fn touch_every_ms(&self, credential: &Credential) -> i64 {
        match credential {
            Credential::Session { .. } => (self.idle_ms() / 4).clamp(1_000, 60_000),
            Credential::Token { .. } => 60_000,
        }
    }

    /// Records that a credential was used (in the background: the request does not wait for it).
    fn record_use(&self, credential: &Credential, now: i64) {
        let db = self.db.clone();
        let credential = credential.clone();
        tokio::spawn(async move {
            let result = match &credential {
                Credential::Session { id } => db::sessions::touch(&db, id, now).await,
                Credential::Token { id } => db::tokens::touch(&db, id, now).await,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "cannot record the use of a session or API token");
            }
        });
    }

    /// A fresh cached caller for `key`, honouring session expiry; records activity when due.
    fn cached(&self, key: &str) -> Option<Principal> {
        let now = now_ms();
        let mut cache = self.callers.entries.lock().ok()?;
        let entry = cache.get_mut(key)?;
        let expired = entry
            .expires_at
            .is_some_and(|at| now >= at || now - entry.last_seen_at >= self.idle_ms());
        if expired || entry.fetched.elapsed() >= PRINCIPAL_CACHE_TTL {
            cache.remove(key);
            return None;
        }
        if entry.expires_at.is_some()
            && now - entry.last_seen_at >= self.touch_every_ms(&entry.principal.credential)
        {
            entry.last_seen_at = now;
            self.record_use(&entry.principal.credential, now);
        }
        Some(entry.principal.clone())
    }

    fn remember(&self, key: String, principal: &Principal, expires_at: Option<i64>, last_seen_at: i64) {
        if let Ok(mut cache) = self.callers.entries.lock() {
            if cache.len() >= PRINCIPAL_CACHE_MAX {
                cache.clear();
            }
            let entry = Cached {
                principal: principal.clone(),
                fetched: Instant::now(),
                expires_at,
                last_seen_at,
            };
            cache.insert(key, entry);
        }
    }
}
