//! Single sign-on on the accounts side: which account an identity the provider vouched for is, and the role
//! map. The protocol (discovery, code exchange, token checks, the two routes) is [`super::oidc`]'s.
//!
//! **The linking rule** (issue 18.2; SECURITY.md → "Accounts, sessions and single sign-on"). An identity is
//! its (issuer, `sub`), never its e-mail address:
//! 1. An identity linked to an account signs in to that account, whatever e-mail it carries today.
//! 2. An unknown identity whose e-mail no account has gets a new account (a provider that says the address
//!    is *not* verified is refused before this, in `oidc::finish`).
//! 3. An unknown identity whose e-mail an existing account has is linked to it only if the provider says
//!    `email_verified: true` **and** the person gives that account's password in the same flow: the callback
//!    stores a pending link (10 minutes, bound to the browser by an `HttpOnly` cookie) and sends them to the
//!    login page, which asks for the password ([`SingleSignOnPort`]). A provider that does not say the
//!    address is verified, or an account without a password, is refused with a message saying why.
//!
//! Role map: on every SSO sign-in the provider decides the platform role (when the map has platform rules)
//! and the role in every organisation the map names; organisations it does not name are managed in the
//! console. The last enabled superadmin is never demoted this way.

use std::collections::BTreeMap;
use std::time::Duration;

use app::audit::Outcome;
use app::auth::validate;
use app::auth::{OrgRole, PlatformRole, RequestMeta, SSO_LINK_COOKIE, SsoLinkPreview};
use app::error::AppError;
use app::ports::SingleSignOnPort;
use async_trait::async_trait;

use super::audit::Actor;
use super::config::MappedRole;
use super::ratelimit::{self, Kind};
use super::service::AuthService;
use crate::crypto::{random_token, sha256_hex};
use crate::db::sessions::OidcPendingLink;
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, DbError, now_ms};
use crate::error::Error;

/// How long a single sign-on identity waits for its account's password.
pub const LINK_TTL: Duration = Duration::from_secs(10 * 60);

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
    /// The provider's `email_verified` claim: `None` when it did not say.
    pub email_verified: Option<bool>,
    pub name: String,
    /// The values of the role claim (a string or a list of strings in the token).
    pub roles: Vec<String>,
}

/// Why a single sign-on failed, as the login page explains it (`?sso=<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoFailure {
    /// The provider could not be reached or answered nonsense.
    Unreachable,
    /// The person cancelled or the provider refused.
    Denied,
    /// The login took too long, was used twice, or came from another browser.
    Expired,
    /// The provider shared no e-mail address, or said it is not verified.
    Email,
    /// An account with this e-mail exists, and the provider did not say the address is verified.
    Unverified,
    /// An account with this e-mail exists but has no password to prove it with.
    NoPassword,
    /// The account is disabled here.
    Disabled,
    /// Anything else (logged).
    Failed,
}

impl SsoFailure {
    pub fn code(self) -> &'static str {
        match self {
            SsoFailure::Unreachable => "unreachable",
            SsoFailure::Denied => "denied",
            SsoFailure::Expired => "expired",
            SsoFailure::Email => "email",
            SsoFailure::Unverified => "unverified",
            SsoFailure::NoPassword => "no-password",
            SsoFailure::Disabled => "disabled",
            SsoFailure::Failed => "failed",
        }
    }
}

/// Where a single sign-on lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoSignIn {
    /// Signed in: the session's `Set-Cookie` value.
    Session(String),
    /// The identity's e-mail belongs to an existing account: the browser must prove it with its password.
    /// The `Set-Cookie` value of the pending link.
    ProveAccount(String),
}

fn db_failure(e: DbError) -> SsoFailure {
    tracing::error!(error = %e, "single sign-on: database error");
    SsoFailure::Failed
}

impl AuthService {
    /// Finds the account of `identity` (creating one, or asking for an existing one's password, by the
    /// linking rule), applies the role map, and starts a session.
    pub async fn sso_sign_in(
        &self,
        identity: &Identity,
        next: &str,
        meta: &RequestMeta,
    ) -> Result<SsoSignIn, SsoFailure> {
        let db = &self.db;
        let user = match db::users::by_oidc(db, &identity.issuer, &identity.subject)
            .await
            .map_err(db_failure)?
        {
            Some(u) => u,
            None => match db::users::by_email(db, &identity.email)
                .await
                .map_err(db_failure)?
            {
                Some(u) => return self.ask_for_password(identity, &u, next, meta).await,
                None => self.sso_account(identity, meta).await?,
            },
        };
        if user.disabled {
            self.record(
                Actor::user(&user),
                "auth.login_failed",
                &user.email,
                Outcome::Denied,
                "The account is disabled.",
                meta,
            )
            .await;
            return Err(SsoFailure::Disabled);
        }
        self.apply_role_map(&user, &identity.roles, meta)
            .await
            .map_err(db_failure)?;
        self.forget_callers();
        let cookie = self.sso_session(&user, meta).await.map_err(|e| {
            tracing::error!(error = %e, "single sign-on: cannot start a session");
            SsoFailure::Failed
        })?;
        Ok(SsoSignIn::Session(cookie))
    }

    /// A new account for an identity whose e-mail no account has.
    async fn sso_account(&self, identity: &Identity, meta: &RequestMeta) -> Result<UserRow, SsoFailure> {
        let new = NewUser {
            email: identity.email.clone(),
            display_name: identity.name.chars().take(80).collect(),
            oidc_issuer: Some(identity.issuer.clone()),
            oidc_subject: Some(identity.subject.clone()),
            ..NewUser::default()
        };
        let u = db::users::create(&self.db, &new)
            .await
            .map_err(db_failure)?
            .ok_or(SsoFailure::Failed)?;
        self.record(
            Actor::user(&u),
            "auth.signup",
            &u.email,
            Outcome::Success,
            "Account created by single sign-on.",
            meta,
        )
        .await;
        Ok(u)
    }

    /// An unknown identity with the e-mail of an existing account: refused unless the provider verified the
    /// address and the account has a password to prove it with; then a pending link for the login page.
    async fn ask_for_password(
        &self,
        identity: &Identity,
        account: &UserRow,
        next: &str,
        meta: &RequestMeta,
    ) -> Result<SsoSignIn, SsoFailure> {
        let refuse = |failure: SsoFailure, why: &'static str| async move {
            let detail = format!("Single sign-on identity not linked to this account: {why}.");
            self.record(
                Actor::Anonymous("single sign-on"),
                "auth.sso_link_refused",
                &account.email,
                Outcome::Denied,
                &detail,
                meta,
            )
            .await;
            Err(failure)
        };
        if identity.email_verified != Some(true) {
            return refuse(
                SsoFailure::Unverified,
                "the provider did not say the e-mail address is verified",
            )
            .await;
        }
        if account.password_hash.is_none() {
            return refuse(
                SsoFailure::NoPassword,
                "the account has no password to prove it with",
            )
            .await;
        }
        if account.disabled {
            return refuse(SsoFailure::Disabled, "the account is disabled").await;
        }
        let secret = random_token(32);
        let pending = OidcPendingLink {
            user_id: account.id.clone(),
            issuer: identity.issuer.clone(),
            subject: identity.subject.clone(),
            display_name: identity.name.chars().take(80).collect(),
            roles: serde_json::to_string(&identity.roles).unwrap_or_else(|_| "[]".into()),
            next: next.to_string(),
            created_at: now_ms(),
        };
        db::sessions::put_oidc_pending_link(&self.db, &sha256_hex(&secret), &pending)
            .await
            .map_err(db_failure)?;
        Ok(SsoSignIn::ProveAccount(
            self.link_cookie(&secret, LINK_TTL.as_secs()),
        ))
    }

    /// `Set-Cookie` of the pending-link cookie (`max_age` 0 removes it).
    fn link_cookie(&self, secret: &str, max_age: u64) -> String {
        format!(
            "{SSO_LINK_COOKIE}={secret}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
            app::routes::BASE,
            if self.settings.secure_cookies {
                "; Secure"
            } else {
                ""
            }
        )
    }

    /// Starts the session of a single sign-on and records it.
    async fn sso_session(&self, user: &UserRow, meta: &RequestMeta) -> Result<String, Error> {
        let cookie = self.start_session(user, meta, "oidc").await?;
        self.record(
            Actor::user(user),
            "auth.login",
            &user.email,
            Outcome::Success,
            "Signed in with single sign-on.",
            meta,
        )
        .await;
        Ok(cookie)
    }

    async fn pending_link(&self, link_secret: &str) -> Result<Option<(OidcPendingLink, UserRow)>, AppError> {
        let since = now_ms() - LINK_TTL.as_millis() as i64;
        let Some(pending) = db::sessions::oidc_pending_link(&self.db, &sha256_hex(link_secret), since)
            .await
            .map_err(Error::from)?
        else {
            return Ok(None);
        };
        let user = db::users::by_id(&self.db, &pending.user_id)
            .await
            .map_err(Error::from)?;
        Ok(user.map(|u| (pending, u)))
    }

    async fn apply_role_map(
        &self,
        user: &UserRow,
        values: &[String],
        meta: &RequestMeta,
    ) -> Result<(), DbError> {
        let Some(oidc) = &self.settings.oidc else {
            return Ok(());
        };
        let db = &self.db;
        let (platform, orgs) = mapped_roles(&oidc.role_map, values);
        if let Some(want) = platform {
            let current = user.platform_role();
            let last_superadmin = current == Some(PlatformRole::Superadmin)
                && db::users::count_with_role(db, PlatformRole::Superadmin, true).await? <= 1;
            if want != current && !(last_superadmin && want != Some(PlatformRole::Superadmin)) {
                db::users::set_platform_role(db, &user.id, want).await?;
                let label = |r: Option<PlatformRole>| r.map_or("none", PlatformRole::as_str);
                let detail = format!(
                    "Platform role of {} set from {} to {} by the identity provider.",
                    user.email,
                    label(current),
                    label(want)
                );
                self.record(
                    Actor::Anonymous("single sign-on"),
                    "users.platform_role_changed",
                    &user.email,
                    Outcome::Success,
                    &detail,
                    meta,
                )
                .await;
            }
        }
        for (slug, want) in orgs {
            let org = match db::orgs::by_slug(db, &slug).await? {
                Some(o) => o,
                None if want.is_some() => match db::orgs::create(db, &slug, &slug).await? {
                    Some(o) => o,
                    None => continue,
                },
                None => continue,
            };
            let current = db::orgs::role_of(db, &org.id, &user.id).await?;
            if current == want {
                continue;
            }
            match want {
                Some(role) => db::orgs::set_member(db, &org.id, &user.id, role).await?,
                None => {
                    db::orgs::remove_member(db, &org.id, &user.id).await?;
                }
            }
            let label = |r: Option<OrgRole>| r.map_or("no role", OrgRole::as_str);
            let detail = format!(
                "Role of {} in {} set from {} to {} by the identity provider.",
                user.email,
                org.name,
                label(current),
                label(want)
            );
            self.record(
                Actor::Anonymous("single sign-on"),
                "users.role_changed",
                &user.email,
                Outcome::Success,
                &detail,
                meta,
            )
            .await;
        }
        Ok(())
    }
}

const LINK_EXPIRED: &str =
    "This single sign-on attempt expired or was already used. Sign in with single sign-on again.";

#[async_trait]
impl SingleSignOnPort for AuthService {
    async fn link_preview(&self, link_secret: &str) -> Result<Option<SsoLinkPreview>, AppError> {
        Ok(self
            .pending_link(link_secret)
            .await?
            .map(|(_, user)| SsoLinkPreview {
                email: user.email,
                provider: self
                    .settings
                    .oidc
                    .as_ref()
                    .map(|o| o.label.clone())
                    .unwrap_or_default(),
            }))
    }

    async fn link(
        &self,
        link_secret: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<(Vec<String>, String), AppError> {
        self.ip_limits.check(Kind::Login, Self::ip(meta))?;
        let Some((pending, user)) = self.pending_link(link_secret).await? else {
            return Err(AppError::BadRequest(LINK_EXPIRED.into()));
        };
        if password.is_empty() {
            return Err(AppError::invalid(
                "password",
                format!("Enter the password of {}.", user.email),
            ));
        }
        ratelimit::check_account(&self.db, Kind::Login, &user.email, Self::ip(meta)).await?;
        let password_ok = self
            .hasher
            .verify(password, user.password_hash.as_deref())
            .await?
            && password.len() <= validate::MAX_PASSWORD_BYTES;
        if !password_ok {
            let lock = ratelimit::record_failure(&self.db, Kind::Login, &user.email, Self::ip(meta)).await?;
            self.record(
                Actor::user(&user),
                "auth.sso_link_failed",
                &user.email,
                Outcome::Failure,
                "Wrong password while linking a single sign-on identity.",
                meta,
            )
            .await;
            if let Some(lock) = lock {
                return Err(ratelimit::lock_error(Kind::Login, lock));
            }
            return Err(AppError::invalid(
                "password",
                format!(
                    "This is not the password of {}. Check it and try again, or sign in with the password alone.",
                    user.email
                ),
            ));
        }
        if user.disabled {
            return Err(AppError::invalid(
                "password",
                "This account is disabled. Ask an administrator of this console to enable it.",
            ));
        }
        // Each pending link works once, even if two tabs send the password at the same moment.
        if !db::sessions::delete_oidc_pending_link(&self.db, &sha256_hex(link_secret))
            .await
            .map_err(Error::from)?
        {
            return Err(AppError::BadRequest(LINK_EXPIRED.into()));
        }
        ratelimit::clear(&self.db, Kind::Login, &user.email, Self::ip(meta)).await?;
        db::users::link_oidc(
            &self.db,
            &user.id,
            &pending.issuer,
            &pending.subject,
            &pending.display_name,
        )
        .await
        .map_err(Error::from)?;
        let detail = format!(
            "Single sign-on identity {} at {} linked to this account after its password was given.",
            pending.subject, pending.issuer
        );
        self.record(
            Actor::user(&user),
            "auth.sso_linked",
            &user.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        let roles: Vec<String> = serde_json::from_str(&pending.roles).unwrap_or_default();
        self.apply_role_map(&user, &roles, meta)
            .await
            .map_err(Error::from)?;
        self.forget_callers();
        let session = self.sso_session(&user, meta).await?;
        Ok((vec![session, self.link_cookie("", 0)], pending.next))
    }
}

/// What the role map grants for these claim values: the platform role (if the map has platform rules) and
/// the role per organisation slug the map names (`None` = not a member).
pub fn mapped_roles(
    map: &[(String, MappedRole)],
    values: &[String],
) -> (Option<Option<PlatformRole>>, BTreeMap<String, Option<OrgRole>>) {
    let has_platform_rules = map.iter().any(|(_, r)| matches!(r, MappedRole::Platform(_)));
    let mut platform: Option<PlatformRole> = None;
    let mut orgs: BTreeMap<String, Option<OrgRole>> = BTreeMap::new();
    for (value, role) in map {
        let matched = values.iter().any(|v| v == value);
        match role {
            MappedRole::Platform(p) if matched => {
                // Superadmin outranks sovereign-admin.
                if platform
                    .is_none_or(|cur| *p == PlatformRole::Superadmin && cur != PlatformRole::Superadmin)
                {
                    platform = Some(*p);
                }
            }
            MappedRole::Platform(_) => {}
            MappedRole::Org { slug, role } => {
                let entry = orgs.entry(slug.clone()).or_insert(None);
                if matched && entry.is_none_or(|cur| role.rank() > cur.rank()) {
                    *entry = Some(*role);
                }
            }
        }
    }
    (has_platform_rules.then_some(platform), orgs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_map_picks_the_strongest_role() {
        let map = super::super::config::parse_role_map(
            "ops=sovereign-admin,root=superadmin,devs=org:acme:editor,leads=org:acme:admin,watch=org:beta:viewer",
        )
        .expect("map");
        let (platform, orgs) = mapped_roles(
            &map,
            &["devs".into(), "leads".into(), "ops".into(), "root".into()],
        );
        assert_eq!(platform, Some(Some(PlatformRole::Superadmin)));
        assert_eq!(orgs.get("acme"), Some(&Some(OrgRole::Admin)));
        assert_eq!(
            orgs.get("beta"),
            Some(&None),
            "named organisations without a matching claim mean no role"
        );
        let (platform, _) = mapped_roles(&map, &[]);
        assert_eq!(
            platform,
            Some(None),
            "platform rules present: no claim, no platform role"
        );
        let org_only = super::super::config::parse_role_map("devs=org:acme:editor").expect("map");
        assert_eq!(
            mapped_roles(&org_only, &["devs".into()]).0,
            None,
            "without platform rules the console decides"
        );
    }
}
