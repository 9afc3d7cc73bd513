//! `SessionsPort`: signing in with a password, signing out, sign-up, first run and one's own password — what
//! starts or ends a session. Single sign-on starts sessions too, in [`super::sso`].

use std::sync::atomic::Ordering;

use app::audit::Outcome;
use app::auth::validate;
use app::auth::{AuthInfo, Credential, OrgRole, PlatformRole, Principal, RequestMeta, SignupPolicy};
use app::error::{AppError, FieldError};
use app::ports::{SessionsPort, SetupInput, SignupInput};
use async_trait::async_trait;

use super::audit::Actor;
use super::ratelimit::{self, Kind};
use super::service::{AuthService, Fields, truncate};
use super::session;
use crate::crypto::{random_token, sha256_hex};
use crate::db::users::{NewUser, UserRow};
use crate::db::{self, now_ms};
use crate::error::Error;

/// The same answer for a wrong password and an unknown e-mail.
pub const BAD_CREDENTIALS: &str = "The e-mail address or password is not right. Check both and try again.";

impl AuthService {
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

    /// Why a setup with a token that is not (or no longer) valid is refused; a wrong token is recorded.
    async fn setup_refused(&self, email: &str, meta: &RequestMeta) -> AppError {
        match db::users::count(&self.db).await {
            Ok(n) if n > 0 => {
                return AppError::Conflict("This console is already set up. Sign in instead.".into());
            }
            Ok(_) => {}
            Err(e) => return Error::from(e).into(),
        }
        self.record(
            Actor::Anonymous(email),
            "auth.setup",
            "",
            Outcome::Failure,
            "Wrong setup token.",
            meta,
        )
        .await;
        AppError::invalid(
            "token",
            "This setup token is not valid. Copy the setup link from the server log of the running console.",
        )
    }
}

#[async_trait]
impl SessionsPort for AuthService {
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
        let mut f = Fields::new();
        if email.is_empty() {
            f.0.push(FieldError::new("email", "Enter your e-mail address."));
        }
        if password.is_empty() {
            f.0.push(FieldError::new("password", "Enter your password."));
        }
        f.done()?;
        ratelimit::check_account(&self.db, Kind::Login, &email, Self::ip(meta)).await?;
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
            .await?
            && password.len() <= validate::MAX_PASSWORD_BYTES;
        let user = match user {
            Some(u) if password_ok => u,
            other => {
                let lock = ratelimit::record_failure(&self.db, Kind::Login, &email, Self::ip(meta)).await?;
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
        ratelimit::clear(&self.db, Kind::Login, &email, Self::ip(meta)).await?;
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
        let mut f = Fields::new();
        let email = f.check(validate::email("email", &input.email));
        f.check(validate::new_password("password", &input.password, &email));
        let display_name = f.check(validate::display_name("displayName", &input.display_name));
        // A voucher link from the redeem page is an invitation of its own: the voucher must accept
        // redemptions now, and it is redeemed for the new account's own organisation.
        let voucher_code = input.voucher.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let voucher = match (voucher_code, self.signup_vouchers.get()) {
            (None, _) => None,
            (Some(_), _) if input.invite.is_some() => {
                f.0.push(FieldError::new(
                    "voucher",
                    "Sign up with either the invitation or the voucher; redeem the voucher afterwards on the billing page.",
                ));
                None
            }
            (Some(code), Some(vouchers)) => match vouchers.check(code).await {
                Ok(preview) => Some(preview),
                Err(AppError::Invalid(errors)) => {
                    f.0.extend(errors);
                    None
                }
                Err(e) => return Err(e),
            },
            (Some(_), None) => {
                f.0.push(FieldError::new("voucher", "This console does not take vouchers."));
                None
            }
        };
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
            None if self.settings.signup == SignupPolicy::InviteOnly && voucher_code.is_none() => {
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
        if let Some(inv) = &invitation {
            self.check_inviter(inv).await?;
        }
        ratelimit::check_account(&self.db, Kind::Signup, &email, Self::ip(meta)).await?;
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
            ratelimit::record_failure(&self.db, Kind::Signup, &email, Self::ip(meta)).await?;
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
            None => {
                let org = self.personal_org(&user).await?;
                if let (Some(preview), Some(vouchers)) = (&voucher, self.signup_vouchers.get()) {
                    // Checked above; a voucher that ended in the meantime leaves an account without the
                    // credit (redeemable later on the billing page), not a failed sign-up.
                    if let Err(e) = vouchers
                        .redeem_for_new_account(&user.id, &user.email, &org.id, &preview.code, meta)
                        .await
                    {
                        self.record(
                            Actor::user(&user),
                            "billing.redeem",
                            &org.id,
                            Outcome::Failure,
                            &format!("Voucher {} not redeemed at sign-up: {e}", preview.code),
                            meta,
                        )
                        .await;
                    }
                }
            }
        }
        let detail = match &invitation {
            Some(inv) => format!(
                "Account created with an invitation to {} as {}.",
                inv.org_name,
                inv.role().as_str()
            ),
            None => match &voucher {
                Some(v) => format!("Account created with voucher {}.", v.code),
                None => "Account created by open sign-up.".to_string(),
            },
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
        let mut f = Fields::new();
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
        // The token first: a wrong one must not cost a password hash (~30 ms of a core and 19 MiB).
        let token_hash = sha256_hex(input.token.trim());
        if !db::users::setup_token_exists(&self.db, &token_hash)
            .await
            .map_err(Error::from)?
        {
            return Err(self.setup_refused(&input.email, meta).await);
        }
        let hash = self.hasher.hash(&input.password).await?;
        let user = db::users::create_first(
            &self.db,
            &token_hash,
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
            return Err(self.setup_refused(&input.email, meta).await);
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
        let mut f = Fields::new();
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
        ratelimit::check_account(&self.db, Kind::Login, &user.email, Self::ip(meta)).await?;
        if !self.hasher.verify(current, Some(hash)).await? {
            let lock = ratelimit::record_failure(&self.db, Kind::Login, &user.email, Self::ip(meta)).await?;
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
}
