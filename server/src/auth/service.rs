//! The account engine: sign-in, sessions, sign-up, first run, organisations and roles, API tokens, the
//! audit trail of all of it. Implements the app's `AuthPort`; the middleware uses it to resolve callers.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::audit::{AuditEntry, Outcome};
use app::auth::policy::{self, Action};
use app::auth::validate;
use app::auth::{
    ApiTokenInfo, AuthInfo, Credential, InviteOutcome, InvitePreview, NewApiToken, OrgRole, Organisation,
    PlatformRole, Principal, RequestMeta, SignupPolicy, UserSummary, UsersView,
};
use app::error::{AppError, FieldError};
use app::paging::{Page, PageRequest};
use app::ports::{AuthPort, SetupInput, SignupInput};
use async_trait::async_trait;

use super::config::AuthSettings;
use super::password::Hasher;
use super::ratelimit::{self, IpLimits, Kind};
use super::secrets::{random_token, sha256_hex};
use super::session;
use crate::db::audit::{AuditFilter, NewAudit};
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, Db, now_ms};
use crate::error::Error;

/// How long an invitation link works.
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Live API tokens one person may have.
pub const MAX_TOKENS_PER_USER: i64 = 50;
/// API tokens start with this, so secret scanners and people recognise them.
pub const TOKEN_PREFIX: &str = "cat_";
/// Audit categories the audit page filters by (the part of the action before the first dot).
pub const AUDIT_CATEGORIES: &[&str] = &["auth", "users", "orgs", "tokens", "settings"];

/// The same answer for a wrong password and an unknown e-mail.
pub const BAD_CREDENTIALS: &str = "The e-mail address or password is not right. Check both and try again.";

/// How long this replica reuses a resolved caller before asking the database again. Changes made through
/// this replica (sign-out, role changes, disabling, revoking) apply at once; those made through another
/// replica apply within this time.
pub const PRINCIPAL_CACHE_TTL: Duration = Duration::from_secs(2);
/// Entries kept at most (then the cache starts over).
const PRINCIPAL_CACHE_MAX: usize = 10_000;

/// A resolved caller, by the SHA-256 of their session or token secret.
struct Cached {
    principal: Principal,
    fetched: std::time::Instant,
    /// Sessions only: absolute expiry (ms since epoch).
    expires_at: Option<i64>,
    /// Last recorded activity (ms since epoch).
    last_seen_at: i64,
}

pub struct AuthService {
    pub db: Db,
    pub settings: AuthSettings,
    pub instance_id: String,
    pub hasher: Hasher,
    pub ip_limits: IpLimits,
    needs_setup: AtomicBool,
    cache: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
}

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
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Drops every cached caller: called after anything that changes who may do what.
    pub fn forget_callers(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// A fresh cached caller for `key`, honouring session expiry; records activity when due.
    fn cached(&self, key: &str) -> Option<Principal> {
        let now = now_ms();
        let mut cache = self.cache.lock().ok()?;
        let entry = cache.get_mut(key)?;
        let expired = entry
            .expires_at
            .is_some_and(|at| now >= at || now - entry.last_seen_at >= self.idle_ms());
        if expired || entry.fetched.elapsed() >= PRINCIPAL_CACHE_TTL {
            cache.remove(key);
            return None;
        }
        if entry.expires_at.is_some() && now - entry.last_seen_at >= self.touch_every_ms() {
            entry.last_seen_at = now;
            if let Credential::Session { id } = &entry.principal.credential {
                let (db, id) = (self.db.clone(), id.clone());
                tokio::spawn(async move {
                    if let Err(e) = db::sessions::touch(&db, &id, now).await {
                        tracing::warn!(error = %e, "cannot record session activity");
                    }
                });
            }
        }
        Some(entry.principal.clone())
    }

    fn remember(&self, key: String, principal: &Principal, expires_at: Option<i64>, last_seen_at: i64) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= PRINCIPAL_CACHE_MAX {
                cache.clear();
            }
            let entry = Cached {
                principal: principal.clone(),
                fetched: std::time::Instant::now(),
                expires_at,
                last_seen_at,
            };
            cache.insert(key, entry);
        }
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
        Ok(db::sessions::delete_expired(&self.db, self.settings.idle_timeout.as_millis() as i64).await?)
    }

    fn idle_ms(&self) -> i64 {
        self.settings.idle_timeout.as_millis() as i64
    }

    /// How often `last_seen_at` is written: at most once a minute, and often enough for the idle timeout.
    fn touch_every_ms(&self) -> i64 {
        (self.idle_ms() / 4).clamp(1_000, 60_000)
    }

    /// The principal of a session cookie's secret; `None` if unknown, expired, or its account is disabled.
    pub async fn resolve_session(&self, secret: &str) -> Result<Option<Principal>, Error> {
        let key = format!("s:{}", sha256_hex(secret));
        if let Some(p) = self.cached(&key) {
            return Ok(Some(p));
        }
        let Some(s) = db::sessions::lookup(&self.db, &key[2..]).await? else {
            return Ok(None);
        };
        let now = now_ms();
        if s.disabled || now >= s.expires_at || now - s.last_seen_at >= self.idle_ms() {
            return Ok(None);
        }
        let mut last_seen_at = s.last_seen_at;
        if now - s.last_seen_at >= self.touch_every_ms() {
            last_seen_at = now;
            let db = self.db.clone();
            let id = s.session_id.clone();
            tokio::spawn(async move {
                if let Err(e) = db::sessions::touch(&db, &id, now).await {
                    tracing::warn!(error = %e, "cannot record session activity");
                }
            });
        }
        let memberships = db::orgs::memberships_of(&self.db, &s.user_id).await?;
        let principal = Principal {
            platform_role: s.platform_role.as_deref().and_then(PlatformRole::parse),
            user_id: s.user_id,
            email: s.email,
            display_name: s.display_name,
            memberships,
            credential: Credential::Session { id: s.session_id },
            has_password: s.has_password,
        };
        self.remember(key, &principal, Some(s.expires_at), last_seen_at);
        Ok(Some(principal))
    }

    /// The principal of an API token (`Authorization: Bearer cat_…`); `None` if unknown, revoked, expired,
    /// or its account is disabled.
    pub async fn resolve_token(&self, secret: &str) -> Result<Option<Principal>, Error> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let key = format!("t:{}", sha256_hex(secret));
        if let Some(p) = self.cached(&key) {
            return Ok(Some(p));
        }
        let Some(t) = db::tokens::lookup(&self.db, &key[2..]).await? else {
            return Ok(None);
        };
        if t.disabled {
            return Ok(None);
        }
        let now = now_ms();
        if t.last_used_at.is_none_or(|at| now - at >= 60_000) {
            let db = self.db.clone();
            let id = t.token_id.clone();
            tokio::spawn(async move {
                if let Err(e) = db::tokens::touch(&db, &id, now).await {
                    tracing::warn!(error = %e, "cannot record token use");
                }
            });
        }
        let memberships = db::orgs::memberships_of(&self.db, &t.user_id).await?;
        let principal = Principal {
            platform_role: t.platform_role.as_deref().and_then(PlatformRole::parse),
            user_id: t.user_id,
            email: t.email,
            display_name: t.display_name,
            memberships,
            credential: Credential::Token { id: t.token_id },
            has_password: t.has_password,
        };
        self.remember(key, &principal, None, now);
        Ok(Some(principal))
    }

    /// Creates a session for `user` and returns the `Set-Cookie` value.
    pub async fn start_session(
        &self,
        user: &UserRow,
        meta: &RequestMeta,
        method: &str,
    ) -> Result<String, Error> {
        let secret = random_token(32);
        let max_age = self.settings.max_age;
        db::sessions::create(
            &self.db,
            &db::sessions::NewSession {
                token_hash: &sha256_hex(&secret),
                user_id: &user.id,
                expires_at: now_ms() + max_age.as_millis() as i64,
                ip: &meta.ip,
                user_agent: &truncate(&meta.user_agent, 256),
                method,
            },
        )
        .await?;
        db::users::touch_login(&self.db, &user.id).await?;
        Ok(session::set_cookie(
            &secret,
            max_age.as_secs(),
            self.settings.secure_cookies,
        ))
    }

    /// Appends to the audit log; a failure to record is logged, not returned (the action already happened).
    pub async fn record(
        &self,
        actor: Actor<'_>,
        action: &str,
        target: &str,
        outcome: Outcome,
        detail: &str,
        meta: &RequestMeta,
    ) {
        let (actor_id, label) = match actor {
            Actor::User { id, label } => (Some(id.to_string()), label.to_string()),
            Actor::Anonymous(label) => (None, truncate(label, 254)),
        };
        let entry = NewAudit {
            actor_id,
            actor: label,
            action: action.into(),
            target: truncate(target, 254),
            outcome,
            detail: detail.into(),
            ip: meta.ip.clone(),
            request_id: meta.request_id.clone(),
        };
        if let Err(e) = db::audit::append(&self.db, &entry).await {
            tracing::error!(error = %e, action, "cannot write the audit log");
        }
    }

    fn ip(meta: &RequestMeta) -> Option<IpAddr> {
        meta.ip.parse().ok()
    }

    /// Creates the organisation `name` with a unique slug derived from it.
    pub async fn create_org_named(&self, name: &str) -> Result<Organisation, Error> {
        let base = match validate::slugify(name) {
            s if s.len() >= 2 && s.starts_with(|c: char| c.is_ascii_lowercase()) => s,
            s => format!("org-{s}").trim_end_matches('-').to_string(),
        };
        for n in 1..=50 {
            let slug = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if let Some(org) = db::orgs::create(&self.db, &slug, name).await? {
                return Ok(org);
            }
        }
        let slug = format!(
            "{base}-{}",
            &random_token(6).to_lowercase().replace(['-', '_'], "x")
        );
        db::orgs::create(&self.db, &slug, name).await?.ok_or_else(|| {
            AppError::Conflict(
                "Could not find a free short name for the organisation; choose another name.".into(),
            )
            .into()
        })
    }

    /// Creates a superadmin from the command line (`catalyst admin create`). Gives them the first
    /// organisation (creating "Default" if there is none).
    pub async fn create_superadmin(
        &self,
        email: &str,
        password: &str,
        display_name: &str,
    ) -> Result<UserRow, AppError> {
        let email = validate::email("email", email).map_err(|e| AppError::Invalid(vec![e]))?;
        validate::new_password("password", password, &email).map_err(|e| AppError::Invalid(vec![e]))?;
        let display_name =
            validate::display_name("displayName", display_name).map_err(|e| AppError::Invalid(vec![e]))?;
        let hash = self.hasher.hash(password).await?;
        let user = db::users::create(
            &self.db,
            &NewUser {
                email: email.clone(),
                display_name,
                password_hash: Some(hash),
                platform_role: Some(PlatformRole::Superadmin),
                ..NewUser::default()
            },
        )
        .await
        .map_err(Error::from)?
        .ok_or_else(|| AppError::Conflict(format!("An account for {email} already exists.")))?;
        let org = match db::orgs::list(&self.db)
            .await
            .map_err(Error::from)?
            .into_iter()
            .next()
        {
            Some(org) => org,
            None => self.create_org_named("Default").await?,
        };
        db::orgs::set_member(&self.db, &org.id, &user.id, OrgRole::Owner)
            .await
            .map_err(Error::from)?;
        db::users::clear_setup_tokens(&self.db)
            .await
            .map_err(Error::from)?;
        let meta = RequestMeta {
            ip: String::new(),
            user_agent: "catalyst admin create".into(),
            request_id: String::new(),
        };
        self.record(
            Actor::Anonymous("command line"),
            "users.created",
            &user.email,
            Outcome::Success,
            "Superadmin created with `catalyst admin create`.",
            &meta,
        )
        .await;
        Ok(user)
    }

    async fn user(&self, id: &str) -> Result<UserRow, AppError> {
        db::users::by_id(&self.db, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("There is no such account.".into()))
    }

    async fn org(&self, id: &str) -> Result<Organisation, AppError> {
        db::orgs::by_id(&self.db, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("There is no such organisation.".into()))
    }

    /// A new account from sign-up or SSO, placed in an organisation of its own (open sign-up).
    async fn personal_org(&self, user: &UserRow) -> Result<(), Error> {
        let name = format!("{}'s organisation", user.email.split('@').next().unwrap_or("My"));
        let org = self.create_org_named(&name).await?;
        db::orgs::set_member(&self.db, &org.id, &user.id, OrgRole::Owner).await?;
        Ok(())
    }
}

/// Who an audit entry is about.
pub enum Actor<'a> {
    User {
        id: &'a str,
        label: &'a str,
    },
    /// No account (a failed sign-in records the e-mail that was typed).
    Anonymous(&'a str),
}

impl<'a> Actor<'a> {
    pub fn of(p: &'a Principal) -> Self {
        Actor::User {
            id: &p.user_id,
            label: &p.email,
        }
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max_chars).collect()
}

fn invalid(errors: Vec<FieldError>) -> AppError {
    AppError::Invalid(errors)
}

/// Collects field errors: `Ok` values pass through, errors are gathered so a form shows all of them at once.
struct Fields(Vec<FieldError>);

impl Fields {
    fn check<T: Default>(&mut self, r: Result<T, FieldError>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.0.push(e);
                T::default()
            }
        }
    }

    fn done(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(invalid(self.0))
        }
    }
}

#[async_trait]
impl AuthPort for AuthService {
    async fn info(&self) -> Result<AuthInfo, AppError> {
        Ok(AuthInfo {
            signup: self.settings.signup,
            oidc_label: self.settings.oidc.as_ref().map(|o| o.label.clone()),
            needs_setup: self.needs_setup().await,
        })
    }

    async fn login(&self, email: &str, password: &str, meta: &RequestMeta) -> Result<String, AppError> {
        self.ip_limits.check(Kind::Login, Self::ip(meta))?;
        let email = validate::normalize_email(email);
        let mut f = Fields(Vec::new());
        if email.is_empty() {
            f.0.push(FieldError::new("email", "Enter your e-mail address."));
        }
        if password.is_empty() {
            f.0.push(FieldError::new("password", "Enter your password."));
        }
        f.done()?;
        ratelimit::check_account(&self.db, Kind::Login, &email).await?;
        let user = if email.len() <= 254 {
            db::users::by_email(&self.db, &email).await.map_err(Error::from)?
        } else {
            None
        };
        // The password is checked whether or not the account exists (against a dummy hash if not), so both
        // take the same time and give the same answer.
        let password_ok = self
            .hasher
            .verify(password, user.as_ref().and_then(|u| u.password_hash.as_deref()))
            .await
            && password.len() <= validate::MAX_PASSWORD_BYTES;
        let user = match user {
            Some(u) if password_ok => u,
            other => {
                let lock = ratelimit::record_failure(&self.db, Kind::Login, &email).await?;
                let (actor, detail) = match &other {
                    Some(u) => (
                        Actor::User {
                            id: &u.id,
                            label: &u.email,
                        },
                        "Wrong password.",
                    ),
                    None => (Actor::Anonymous(&email), "No account with this e-mail address."),
                };
                self.record(actor, "auth.login_failed", &email, Outcome::Failure, detail, meta)
                    .await;
                if let Some(lock) = lock {
                    let actor = match &other {
                        Some(u) => Actor::User {
                            id: &u.id,
                            label: &u.email,
                        },
                        None => Actor::Anonymous(&email),
                    };
                    let detail = format!("Sign-in locked for {} s after repeated failures.", lock.as_secs());
                    self.record(actor, "auth.locked", &email, Outcome::Denied, &detail, meta)
                        .await;
                    return Err(ratelimit::lock_error(Kind::Login, lock));
                }
                return Err(AppError::invalid("password", BAD_CREDENTIALS));
            }
        };
        if user.disabled {
            self.record(
                Actor::User {
                    id: &user.id,
                    label: &user.email,
                },
                "auth.login_failed",
                &user.email,
                Outcome::Denied,
                "The account is disabled.",
                meta,
            )
            .await;
            return Err(AppError::invalid(
                "email",
                "This account is disabled. Ask an administrator of this console to enable it.",
            ));
        }
        ratelimit::clear(&self.db, Kind::Login, &email).await?;
        if let Some(hash) = &user.password_hash
            && super::password::needs_rehash(hash)
        {
            let new = self.hasher.hash(password).await?;
            db::users::set_password(&self.db, &user.id, &new)
                .await
                .map_err(Error::from)?;
        }
        let cookie = self.start_session(&user, meta, "password").await?;
        self.record(
            Actor::User {
                id: &user.id,
                label: &user.email,
            },
            "auth.login",
            &user.email,
            Outcome::Success,
            "Signed in with a password.",
            meta,
        )
        .await;
        Ok(cookie)
    }

    async fn logout(&self, me: &Principal, meta: &RequestMeta) -> Result<String, AppError> {
        let Credential::Session { id } = &me.credential else {
            return Err(AppError::BadRequest(
                "Signing out ends a browser session; to stop an API token, revoke it under Settings → API tokens.".into(),
            ));
        };
        db::sessions::delete(&self.db, id).await.map_err(Error::from)?;
        self.forget_callers();
        self.record(
            Actor::of(me),
            "auth.logout",
            &me.email,
            Outcome::Success,
            "Signed out.",
            meta,
        )
        .await;
        Ok(session::clear_cookie(self.settings.secure_cookies))
    }

    async fn signup(&self, input: SignupInput, meta: &RequestMeta) -> Result<String, AppError> {
        self.ip_limits.check(Kind::Signup, Self::ip(meta))?;
        let mut f = Fields(Vec::new());
        let email = f.check(validate::email("email", &input.email));
        f.check(validate::new_password("password", &input.password, &email));
        let display_name = f.check(validate::display_name("displayName", &input.display_name));
        let invitation = match &input.invite {
            Some(token) => {
                let inv = db::orgs::open_invitation(&self.db, &sha256_hex(token.trim()))
                    .await
                    .map_err(Error::from)?;
                match inv {
                    Some(inv) => Some(inv),
                    None => {
                        f.0.push(FieldError::new(
                            "invite",
                            "This invitation link is not valid any more (used, withdrawn or older than 7 days). Ask for a new one.",
                        ));
                        None
                    }
                }
            }
            None if self.settings.signup == SignupPolicy::InviteOnly => {
                f.0.push(FieldError::new(
                    "invite",
                    "Sign-up on this console is by invitation only: open the link from your invitation, or ask an administrator for one.",
                ));
                None
            }
            None => None,
        };
        if let Some(inv) = &invitation
            && !email.is_empty()
            && inv.email != email
        {
            f.0.push(FieldError::new(
                "email",
                format!("This invitation is for {}; sign up with that address.", inv.email),
            ));
        }
        f.done()?;
        ratelimit::check_account(&self.db, Kind::Signup, &email).await?;
        let hash = self.hasher.hash(&input.password).await?;
        let Some(user) = db::users::create(
            &self.db,
            &NewUser {
                email: email.clone(),
                display_name,
                password_hash: Some(hash),
                ..NewUser::default()
            },
        )
        .await
        .map_err(Error::from)?
        else {
            ratelimit::record_failure(&self.db, Kind::Signup, &email).await?;
            return Err(AppError::invalid(
                "email",
                "An account with this e-mail address already exists. Sign in instead.",
            ));
        };
        match &invitation {
            Some(inv) => {
                if db::orgs::accept_invitation(&self.db, &inv.id)
                    .await
                    .map_err(Error::from)?
                {
                    db::orgs::set_member(&self.db, &inv.org_id, &user.id, inv.role())
                        .await
                        .map_err(Error::from)?;
                }
            }
            None => self.personal_org(&user).await?,
        }
        let detail = match &invitation {
            Some(inv) => format!(
                "Account created with an invitation to {} as {}.",
                inv.org_name,
                inv.role().as_str()
            ),
            None => "Account created by open sign-up.".to_string(),
        };
        self.record(
            Actor::User {
                id: &user.id,
                label: &user.email,
            },
            "auth.signup",
            &user.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(self.start_session(&user, meta, "signup").await?)
    }

    async fn setup(&self, input: SetupInput, meta: &RequestMeta) -> Result<String, AppError> {
        self.ip_limits.check(Kind::Signup, Self::ip(meta))?;
        let mut f = Fields(Vec::new());
        if input.token.trim().is_empty() {
            f.0.push(FieldError::new(
                "token",
                "Enter the setup token printed in the server log.",
            ));
        }
        let email = f.check(validate::email("email", &input.email));
        f.check(validate::new_password("password", &input.password, &email));
        let display_name = f.check(validate::display_name("displayName", &input.display_name));
        let org_name = if input.org_name.trim().is_empty() {
            "Default".to_string()
        } else {
            f.check(validate::org_name("orgName", &input.org_name))
        };
        f.done()?;
        let hash = self.hasher.hash(&input.password).await?;
        let user = db::users::create_first(
            &self.db,
            &sha256_hex(input.token.trim()),
            &NewUser {
                email,
                display_name,
                password_hash: Some(hash),
                platform_role: Some(PlatformRole::Superadmin),
                ..NewUser::default()
            },
        )
        .await
        .map_err(Error::from)?;
        let Some(user) = user else {
            if db::users::count(&self.db).await.map_err(Error::from)? > 0 {
                return Err(AppError::Conflict(
                    "This console is already set up. Sign in instead.".into(),
                ));
            }
            self.record(
                Actor::Anonymous(&input.email),
                "auth.setup",
                "",
                Outcome::Failure,
                "Wrong setup token.",
                meta,
            )
            .await;
            return Err(AppError::invalid(
                "token",
                "This setup token is not valid. Copy the setup link from the server log of the running console.",
            ));
        };
        self.needs_setup.store(false, Ordering::Relaxed);
        let org = self.create_org_named(&org_name).await?;
        db::orgs::set_member(&self.db, &org.id, &user.id, OrgRole::Owner)
            .await
            .map_err(Error::from)?;
        self.record(
            Actor::User {
                id: &user.id,
                label: &user.email,
            },
            "auth.setup",
            &user.email,
            Outcome::Success,
            &format!("First superadmin created; organisation {} created.", org.name),
            meta,
        )
        .await;
        Ok(self.start_session(&user, meta, "setup").await?)
    }

    async fn change_password(
        &self,
        me: &Principal,
        current: &str,
        new: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let Credential::Session { id: session_id } = &me.credential else {
            return Err(AppError::BadRequest(
                "Change your password in the console, signed in; API tokens cannot.".into(),
            ));
        };
        let user = self.user(&me.user_id).await?;
        let Some(hash) = user.password_hash.as_deref() else {
            return Err(AppError::BadRequest(
                "This account signs in with single sign-on and has no password here; change it at your identity provider.".into(),
            ));
        };
        let mut f = Fields(Vec::new());
        if current.is_empty() {
            f.0.push(FieldError::new("current", "Enter your current password."));
        }
        f.check(validate::new_password("new", new, &user.email));
        if !current.is_empty() && current == new {
            f.0.push(FieldError::new(
                "new",
                "Choose a password different from the current one.",
            ));
        }
        f.done()?;
        self.ip_limits.check(Kind::Login, Self::ip(meta))?;
        ratelimit::check_account(&self.db, Kind::Login, &user.email).await?;
        if !self.hasher.verify(current, Some(hash)).await {
            let lock = ratelimit::record_failure(&self.db, Kind::Login, &user.email).await?;
            self.record(
                Actor::of(me),
                "auth.password_change_failed",
                &user.email,
                Outcome::Failure,
                "Wrong current password.",
                meta,
            )
            .await;
            if let Some(lock) = lock {
                return Err(ratelimit::lock_error(Kind::Login, lock));
            }
            return Err(AppError::invalid("current", "This is not your current password."));
        }
        let new_hash = self.hasher.hash(new).await?;
        db::users::set_password(&self.db, &user.id, &new_hash)
            .await
            .map_err(Error::from)?;
        let ended = db::sessions::delete_for_user(&self.db, &user.id, Some(session_id))
            .await
            .map_err(Error::from)?;
        self.forget_callers();
        let detail = format!("Password changed; {ended} other session(s) signed out.");
        self.record(
            Actor::of(me),
            "auth.password_changed",
            &user.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }

    async fn invite_preview(&self, token: &str) -> Result<InvitePreview, AppError> {
        let inv = db::orgs::open_invitation(&self.db, &sha256_hex(token.trim()))
            .await
            .map_err(Error::from)?
            .ok_or_else(|| {
                AppError::NotFound(
                    "This invitation link is not valid any more (used, withdrawn or older than 7 days). Ask for a new one.".into(),
                )
            })?;
        Ok(InvitePreview {
            role: inv.role(),
            email: inv.email,
            org_name: inv.org_name,
        })
    }

    async fn users(&self, me: &Principal) -> Result<UsersView, AppError> {
        let platform = policy::allowed(me, Action::UsersManage, None);
        let everywhere = policy::allowed_everywhere(me, Action::OrgMembersManage);
        let managed: Option<Vec<String>> = if platform || everywhere {
            None
        } else {
            let ids = policy::org_ids_allowing(me, Action::OrgMembersManage);
            if ids.is_empty() {
                return Err(AppError::Forbidden(Action::OrgMembersManage.name().into()));
            }
            Some(ids)
        };
        let (rows, orgs) = match &managed {
            None => (
                db::users::list(&self.db).await.map_err(Error::from)?,
                db::orgs::list(&self.db).await.map_err(Error::from)?,
            ),
            Some(ids) => (
                db::users::list_in_orgs(&self.db, ids)
                    .await
                    .map_err(Error::from)?,
                db::orgs::list(&self.db)
                    .await
                    .map_err(Error::from)?
                    .into_iter()
                    .filter(|o| ids.contains(&o.id))
                    .collect(),
            ),
        };
        let memberships = db::orgs::all_memberships(&self.db).await.map_err(Error::from)?;
        let users: Vec<UserSummary> = rows
            .into_iter()
            .map(|u| {
                // Only the memberships in organisations the caller manages.
                let ms = memberships
                    .iter()
                    .filter(|(uid, m)| {
                        *uid == u.id && managed.as_ref().is_none_or(|ids| ids.contains(&m.org_id))
                    })
                    .map(|(_, m)| m.clone())
                    .collect();
                u.into_summary(ms)
            })
            .collect();
        let invitations = db::orgs::open_invitations(&self.db, managed.as_deref())
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|i| i.into_summary())
            .collect();
        Ok(UsersView {
            users,
            orgs,
            invitations,
            can_manage_platform: platform,
            can_create_orgs: policy::allowed(me, Action::OrgsManage, None),
        })
    }

    async fn invite(
        &self,
        me: &Principal,
        email: &str,
        org_id: &str,
        role: OrgRole,
        meta: &RequestMeta,
    ) -> Result<InviteOutcome, AppError> {
        policy::require(me, Action::OrgMembersManage, Some(org_id))?;
        if role == OrgRole::Owner {
            policy::require(me, Action::OrgOwnersManage, Some(org_id))?;
        }
        let email = validate::email("email", email).map_err(|e| invalid(vec![e]))?;
        let org = self.org(org_id).await?;
        if let Some(user) = db::users::by_email(&self.db, &email).await.map_err(Error::from)? {
            if let Some(current) = db::orgs::role_of(&self.db, org_id, &user.id)
                .await
                .map_err(Error::from)?
            {
                return Err(AppError::Conflict(format!(
                    "{email} is already a member of {} as {}; change their role in the list instead.",
                    org.name,
                    current.as_str()
                )));
            }
            db::orgs::set_member(&self.db, org_id, &user.id, role)
                .await
                .map_err(Error::from)?;
            self.forget_callers();
            let detail = format!("Added {email} to {} as {}.", org.name, role.as_str());
            self.record(
                Actor::of(me),
                "orgs.member_added",
                &email,
                Outcome::Success,
                &detail,
                meta,
            )
            .await;
            return Ok(InviteOutcome::Added { email });
        }
        let secret = random_token(32);
        let expires_at = now_ms() + INVITATION_TTL.as_millis() as i64;
        db::orgs::create_invitation(
            &self.db,
            &db::orgs::NewInvitation {
                token_hash: &sha256_hex(&secret),
                email: &email,
                org_id,
                role,
                created_by: &me.user_id,
                expires_at,
            },
        )
        .await
        .map_err(Error::from)?;
        let detail = format!("Invited {email} to {} as {}.", org.name, role.as_str());
        self.record(
            Actor::of(me),
            "users.invited",
            &email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        let url = format!("{}/signup?invite={secret}", self.settings.console_url());
        Ok(InviteOutcome::Link {
            email,
            url,
            expires_at,
        })
    }

    async fn revoke_invitation(&self, me: &Principal, id: &str, meta: &RequestMeta) -> Result<(), AppError> {
        let inv = db::orgs::invitation_by_id(&self.db, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("There is no such invitation.".into()))?;
        policy::require(me, Action::OrgMembersManage, Some(&inv.org_id))?;
        db::orgs::delete_invitation(&self.db, id)
            .await
            .map_err(Error::from)?;
        let detail = format!("Withdrew the invitation of {} to {}.", inv.email, inv.org_name);
        self.record(
            Actor::of(me),
            "users.invitation_revoked",
            &inv.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }

    async fn set_member_role(
        &self,
        me: &Principal,
        user_id: &str,
        org_id: &str,
        role: Option<OrgRole>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        policy::require(me, Action::OrgMembersManage, Some(org_id))?;
        let org = self.org(org_id).await?;
        let user = self.user(user_id).await?;
        let current = db::orgs::role_of(&self.db, org_id, user_id)
            .await
            .map_err(Error::from)?;
        if current == role {
            return Ok(());
        }
        if current == Some(OrgRole::Owner) || role == Some(OrgRole::Owner) {
            policy::require(me, Action::OrgOwnersManage, Some(org_id))?;
        }
        if current == Some(OrgRole::Owner)
            && db::orgs::count_role(&self.db, org_id, OrgRole::Owner)
                .await
                .map_err(Error::from)?
                <= 1
        {
            return Err(AppError::Conflict(format!(
                "{} is the only owner of {}; make someone else owner first.",
                user.email, org.name
            )));
        }
        let label = |r: Option<OrgRole>| r.map_or("no role", OrgRole::as_str);
        self.forget_callers();
        match role {
            Some(role) => db::orgs::set_member(&self.db, org_id, user_id, role)
                .await
                .map_err(Error::from)?,
            None => {
                db::orgs::remove_member(&self.db, org_id, user_id)
                    .await
                    .map_err(Error::from)?;
            }
        }
        let (action, detail) = match (current, role) {
            (None, Some(r)) => (
                "orgs.member_added",
                format!("Added {} to {} as {}.", user.email, org.name, r.as_str()),
            ),
            (Some(_), None) => (
                "orgs.member_removed",
                format!(
                    "Removed {} from {} (was {}).",
                    user.email,
                    org.name,
                    label(current)
                ),
            ),
            _ => (
                "users.role_changed",
                format!(
                    "Changed {}'s role in {} from {} to {}.",
                    user.email,
                    org.name,
                    label(current),
                    label(role)
                ),
            ),
        };
        self.record(
            Actor::of(me),
            action,
            &user.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }

    async fn set_platform_role(
        &self,
        me: &Principal,
        user_id: &str,
        role: Option<PlatformRole>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        policy::require(me, Action::UsersManage, None)?;
        let user = self.user(user_id).await?;
        let current = user.platform_role();
        if current == role {
            return Ok(());
        }
        if current == Some(PlatformRole::Superadmin)
            && !user.disabled
            && db::users::count_with_role(&self.db, PlatformRole::Superadmin, true)
                .await
                .map_err(Error::from)?
                <= 1
        {
            return Err(AppError::Conflict(format!(
                "{} is the only superadmin; make someone else superadmin first.",
                user.email
            )));
        }
        db::users::set_platform_role(&self.db, user_id, role)
            .await
            .map_err(Error::from)?;
        self.forget_callers();
        let label = |r: Option<PlatformRole>| r.map_or("none", PlatformRole::as_str);
        let detail = format!(
            "Changed {}'s platform role from {} to {}.",
            user.email,
            label(current),
            label(role)
        );
        self.record(
            Actor::of(me),
            "users.platform_role_changed",
            &user.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }

    async fn set_disabled(
        &self,
        me: &Principal,
        user_id: &str,
        disabled: bool,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        policy::require(me, Action::UsersManage, None)?;
        if user_id == me.user_id && disabled {
            return Err(AppError::Conflict(
                "You cannot disable your own account; ask another superadmin.".into(),
            ));
        }
        let user = self.user(user_id).await?;
        if user.disabled == disabled {
            return Ok(());
        }
        db::users::set_disabled(&self.db, user_id, disabled)
            .await
            .map_err(Error::from)?;
        self.forget_callers();
        let (action, detail) = if disabled {
            let ended = db::sessions::delete_for_user(&self.db, user_id, None)
                .await
                .map_err(Error::from)?;
            (
                "users.disabled",
                format!(
                    "Disabled {}; {ended} session(s) ended and API tokens stopped.",
                    user.email
                ),
            )
        } else {
            ("users.enabled", format!("Enabled {} again.", user.email))
        };
        self.record(
            Actor::of(me),
            action,
            &user.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }

    async fn create_org(
        &self,
        me: &Principal,
        name: &str,
        meta: &RequestMeta,
    ) -> Result<Organisation, AppError> {
        policy::require(me, Action::OrgsManage, None)?;
        let name = validate::org_name("name", name).map_err(|e| invalid(vec![e]))?;
        let org = self.create_org_named(&name).await?;
        let detail = format!("Created organisation {} ({}).", org.name, org.slug);
        self.record(
            Actor::of(me),
            "orgs.created",
            &org.slug,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(org)
    }

    async fn tokens(&self, me: &Principal) -> Result<Vec<ApiTokenInfo>, AppError> {
        policy::require(me, Action::OwnTokensManage, None)?;
        Ok(db::tokens::list_for_user(&self.db, &me.user_id)
            .await
            .map_err(Error::from)?)
    }

    async fn create_token(
        &self,
        me: &Principal,
        name: &str,
        expires_in_days: Option<u32>,
        meta: &RequestMeta,
    ) -> Result<NewApiToken, AppError> {
        policy::require(me, Action::OwnTokensManage, None)?;
        if matches!(me.credential, Credential::Token { .. }) {
            return Err(AppError::BadRequest(
                "An API token cannot create API tokens; create them in the console while signed in.".into(),
            ));
        }
        let name = validate::token_name("name", name).map_err(|e| invalid(vec![e]))?;
        if db::tokens::count_live_for_user(&self.db, &me.user_id)
            .await
            .map_err(Error::from)?
            >= MAX_TOKENS_PER_USER
        {
            return Err(AppError::Conflict(format!(
                "You have {MAX_TOKENS_PER_USER} API tokens; revoke some you no longer use first."
            )));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 4).collect();
        let expires_at = expires_in_days.map(|d| now_ms() + i64::from(d) * 86_400_000);
        let info = db::tokens::create(
            &self.db,
            &db::tokens::NewToken {
                user_id: &me.user_id,
                name: &name,
                token_hash: &sha256_hex(&secret),
                prefix: &prefix,
                expires_at,
            },
        )
        .await
        .map_err(Error::from)?;
        let detail = match expires_in_days {
            Some(d) => format!("Created API token “{name}” ({prefix}…), valid for {d} days."),
            None => format!("Created API token “{name}” ({prefix}…), valid until revoked."),
        };
        self.record(
            Actor::of(me),
            "tokens.created",
            &info.id,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(NewApiToken { info, secret })
    }

    async fn revoke_token(&self, me: &Principal, id: &str, meta: &RequestMeta) -> Result<(), AppError> {
        policy::require(me, Action::OwnTokensManage, None)?;
        let name = db::tokens::revoke(&self.db, &me.user_id, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("You have no live API token with this id.".into()))?;
        self.forget_callers();
        let detail = format!("Revoked API token “{name}”.");
        self.record(
            Actor::of(me),
            "tokens.revoked",
            id,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }

    async fn audit(
        &self,
        me: &Principal,
        category: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AppError> {
        policy::require(me, Action::AuditRead, None)?;
        let action_prefix = match category {
            None => None,
            Some(c) if AUDIT_CATEGORIES.contains(&c) => Some(format!("{c}.")),
            Some(_) => {
                return Err(AppError::invalid(
                    "category",
                    format!("Choose one of {}.", AUDIT_CATEGORIES.join(", ")),
                ));
            }
        };
        let filter = AuditFilter {
            action_prefix,
            actor_id: None,
        };
        Ok(db::audit::list(&self.db, &filter, page)
            .await
            .map_err(Error::from)?)
    }
}

/// A shared handle, as the router and ports hold it.
pub type Auth = Arc<AuthService>;
