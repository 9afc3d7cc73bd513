//! Single sign-on on the accounts side: which account an identity the provider vouched for is, and the role
//! map. The protocol (discovery, code exchange, token checks, the two routes) is [`super::oidc`]'s.
//!
//! Role map: on every SSO sign-in the provider decides the platform role (when the map has platform rules)
//! and the role in every organisation the map names; organisations it does not name are managed in the
//! console. The last enabled superadmin is never demoted this way.

use std::collections::BTreeMap;

use app::audit::Outcome;
use app::auth::{OrgRole, PlatformRole, RequestMeta};

use super::audit::Actor;
use super::config::MappedRole;
use super::service::AuthService;
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, DbError};
use crate::error::Error;

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: String,
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
    /// The provider shared no (verified) e-mail address.
    Email,
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
            SsoFailure::Disabled => "disabled",
            SsoFailure::Failed => "failed",
        }
    }
}

fn db_failure(e: DbError) -> SsoFailure {
    tracing::error!(error = %e, "single sign-on: database error");
    SsoFailure::Failed
}

impl AuthService {
    /// Finds or creates the account of `identity`, applies the role map, and starts a session; returns the
    /// session's `Set-Cookie` value.
    pub async fn sso_sign_in(&self, identity: &Identity, meta: &RequestMeta) -> Result<String, SsoFailure> {
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
                // The provider verified this e-mail (or did not say otherwise): link the existing account.
                Some(u) => {
                    db::users::link_oidc(db, &u.id, &identity.issuer, &identity.subject, &identity.name)
                        .await
                        .map_err(db_failure)?;
                    u
                }
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
        self.sso_session(&user, meta).await.map_err(|e| {
            tracing::error!(error = %e, "single sign-on: cannot start a session");
            SsoFailure::Failed
        })
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
