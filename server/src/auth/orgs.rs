//! `OrganisationsPort`: organisations, and the roles people hold in them and on the platform. Who may grant
//! which role is the policy's (`app::auth::policy`); the rules only this module can check (the last owner,
//! the last superadmin) are here.

use app::audit::Outcome;
use app::auth::policy::{self, Action};
use app::auth::validate;
use app::auth::{OrgRole, Organisation, PlatformRole, Principal, RequestMeta};
use app::error::AppError;
use app::ports::OrganisationsPort;
use async_trait::async_trait;

use super::audit::Actor;
use super::service::{AuthService, invalid};
use crate::crypto::random_token;
use crate::db;
use crate::error::Error;

impl AuthService {
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
}

#[async_trait]
impl OrganisationsPort for AuthService {
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

    async fn set_member_role(
        &self,
        me: &Principal,
        user_id: &str,
        org_id: &str,
        role: Option<OrgRole>,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        policy::require(me, Action::OrgMembersManage, Some(org_id))?;
        if user_id == me.user_id {
            return Err(AppError::Conflict(
                "You cannot change your own role; ask another owner or administrator.".into(),
            ));
        }
        let org = self.org(org_id).await?;
        let user = self.user(user_id).await?;
        let current = db::orgs::role_of(&self.db, org_id, user_id)
            .await
            .map_err(Error::from)?;
        if current == role {
            return Ok(());
        }
        // A role can grant, and take away, only roles its holder has in this organisation (the policy's
        // grant rule): both the role they have now and the one they get.
        for r in [current, role].into_iter().flatten() {
            policy::require_grant(me, org_id, r)?;
        }
        let Some(current) = current else {
            // Joining an organisation is the person's decision: an invitation they accept.
            return Err(AppError::Conflict(format!(
                "{} is not a member of {}; invite them instead (they accept the invitation to join).",
                user.email, org.name
            )));
        };
        if current == OrgRole::Owner
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
        self.forget_callers();
        let (action, detail) = match role {
            Some(role) => {
                db::orgs::set_member(&self.db, org_id, user_id, role)
                    .await
                    .map_err(Error::from)?;
                (
                    "users.role_changed",
                    format!(
                        "Changed {}'s role in {} from {} to {}.",
                        user.email,
                        org.name,
                        current.as_str(),
                        role.as_str()
                    ),
                )
            }
            None => {
                db::orgs::remove_member(&self.db, org_id, user_id)
                    .await
                    .map_err(Error::from)?;
                (
                    "orgs.member_removed",
                    format!(
                        "Removed {} from {} (was {}).",
                        user.email,
                        org.name,
                        current.as_str()
                    ),
                )
            }
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
        if user_id == me.user_id {
            return Err(AppError::Conflict(
                "You cannot change your own platform role; ask another superadmin.".into(),
            ));
        }
        let user = self.user(user_id).await?;
        let current = user.platform_role();
        if current == role {
            return Ok(());
        }
        for r in [current, role].into_iter().flatten() {
            policy::require_grant_platform(me, r)?;
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
}
