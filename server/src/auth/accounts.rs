//! `AccountsPort`: the accounts and invitations an administrator manages (the users page, inviting people
//! to an organisation, disabling accounts), and accounts made outside the console (`catalyst admin create`).
//!
//! Joining an organisation is always an invitation the person accepts: inviting an address answers with a
//! link whether or not it has an account (so the answer never tells), and the person opens it to sign up or,
//! signed in to the account with that address, to accept. An invitation grants its role on behalf of its
//! inviter, only while they may still grant it.

use std::time::Duration;

use app::audit::Outcome;
use app::auth::policy::{self, Action};
use app::auth::validate;
use app::auth::{
    Credential, InviteOutcome, InvitePreview, OrgRole, PlatformRole, Principal, RequestMeta, UserSummary,
    UsersView,
};
use app::error::AppError;
use app::ports::AccountsPort;
use async_trait::async_trait;

use super::audit::Actor;
use super::service::{AuthService, invalid};
use crate::crypto::{random_token, sha256_hex};
use crate::db::orgs::InvitationRow;
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, now_ms};
use crate::error::Error;

/// How long an invitation link works.
pub const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The answer for an invitation link that does not work (any more).
pub const INVITATION_GONE: &str =
    "This invitation link is not valid any more (used, withdrawn or older than 7 days). Ask for a new one.";

impl AuthService {
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

    /// The open invitation of a link's secret, or `NotFound` saying the link does not work any more.
    pub(super) async fn open_invitation(&self, token: &str) -> Result<InvitationRow, AppError> {
        db::orgs::open_invitation(&self.db, &sha256_hex(token.trim()))
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound(INVITATION_GONE.into()))
    }

    /// An invitation grants its role on behalf of whoever made it: it works only while they still may grant
    /// that role in that organisation (and their account is enabled).
    pub(super) async fn check_inviter(&self, inv: &InvitationRow) -> Result<(), AppError> {
        let inviter = db::users::by_id(&self.db, &inv.created_by)
            .await
            .map_err(Error::from)?
            .filter(|u| !u.disabled);
        let may = match inviter {
            None => false,
            Some(u) => {
                let memberships = db::orgs::memberships_of(&self.db, &u.id)
                    .await
                    .map_err(Error::from)?;
                let p = Principal {
                    platform_role: u.platform_role(),
                    user_id: u.id,
                    email: u.email,
                    display_name: u.display_name,
                    memberships,
                    credential: Credential::Session { id: String::new() },
                    has_password: u.password_hash.is_some(),
                };
                policy::may_grant(&p, &inv.org_id, inv.role())
            }
        };
        if may {
            Ok(())
        } else {
            Err(AppError::Conflict(format!(
                "Whoever sent this invitation can no longer give the role {} in {}. Ask for a new invitation.",
                inv.role().as_str(),
                inv.org_name
            )))
        }
    }

    /// A new account from sign-up or SSO, placed in an organisation of its own (open sign-up).
    pub(super) async fn personal_org(&self, user: &UserRow) -> Result<app::auth::Organisation, Error> {
        let name = format!("{}'s organisation", user.email.split('@').next().unwrap_or("My"));
        let org = self.create_org_named(&name).await?;
        db::orgs::set_member(&self.db, &org.id, &user.id, OrgRole::Owner).await?;
        Ok(org)
    }
}

#[async_trait]
impl AccountsPort for AuthService {
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
        policy::require_grant(me, org_id, role)?;
        let email = validate::email("email", email).map_err(|e| invalid(vec![e]))?;
        let org = self.org(org_id).await?;
        // Whether or not the address has an account, the answer is the same: a link the person opens to join
        // (signed in if they have an account, signing up if not). Only a current member is told apart, and the
        // inviter sees those on the users page anyway.
        if let Some(user) = db::users::by_email(&self.db, &email).await.map_err(Error::from)?
            && let Some(current) = db::orgs::role_of(&self.db, org_id, &user.id)
                .await
                .map_err(Error::from)?
        {
            return Err(AppError::Conflict(format!(
                "{email} is already a member of {} as {}; change their role in the list instead.",
                org.name,
                current.as_str()
            )));
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

    async fn invite_preview(&self, token: &str) -> Result<InvitePreview, AppError> {
        let inv = self.open_invitation(token).await?;
        Ok(InvitePreview {
            role: inv.role(),
            email: inv.email,
            org_name: inv.org_name,
        })
    }

    async fn accept_invitation(
        &self,
        me: &Principal,
        token: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError> {
        let inv = self.open_invitation(token).await?;
        if inv.email != me.email {
            return Err(AppError::Conflict(format!(
                "This invitation is for {}, and you are signed in as {}. Sign out, then open the link again and sign in (or sign up) as {}.",
                inv.email, me.email, inv.email
            )));
        }
        if let Some(current) = db::orgs::role_of(&self.db, &inv.org_id, &me.user_id)
            .await
            .map_err(Error::from)?
        {
            return Err(AppError::Conflict(format!(
                "You are already a member of {} as {}.",
                inv.org_name,
                current.as_str()
            )));
        }
        self.check_inviter(&inv).await?;
        if !db::orgs::accept_invitation(&self.db, &inv.id)
            .await
            .map_err(Error::from)?
        {
            return Err(AppError::NotFound(INVITATION_GONE.into()));
        }
        db::orgs::set_member(&self.db, &inv.org_id, &me.user_id, inv.role())
            .await
            .map_err(Error::from)?;
        self.forget_callers();
        let detail = format!(
            "{} accepted the invitation to {} as {}.",
            me.email,
            inv.org_name,
            inv.role().as_str()
        );
        self.record(
            Actor::of(me),
            "orgs.member_added",
            &me.email,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
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
}
