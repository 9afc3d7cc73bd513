//! Server functions of the auth pages. Thin: resolve the caller, call the port of the use case (`crate::ports`), shape the answer.
//! Which of these anonymous callers may reach is decided by the server's middleware from
//! [`PUBLIC_SERVER_FNS`]; everything else needs a session or an API token.

use crate::wire::Postcard;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::types::*;
use crate::audit::AuditEntry;
use crate::error::AppError;
use crate::paging::Page;

/// Server functions that answer without a session: what the login, sign-up and setup pages call, and the
/// theme switch they show. The server's middleware reads this list; a test walks every other one.
pub const PUBLIC_SERVER_FNS: &[&str] = &[
    <AuthInfoFn as ServerFn>::PATH,
    <CurrentUser as ServerFn>::PATH,
    <Login as ServerFn>::PATH,
    <Signup as ServerFn>::PATH,
    <Setup as ServerFn>::PATH,
    <PreviewInvite as ServerFn>::PATH,
    <SsoLinkPreviewFn as ServerFn>::PATH,
    <LinkSso as ServerFn>::PATH,
    <crate::theme::SetTheme as ServerFn>::PATH,
    // The public /redeem page and the sign-up page's voucher banner.
    <crate::vouchers::api::RedeemStateFn as ServerFn>::PATH,
];

/// What the public pages need to know: sign-up policy, single sign-on, first run.
#[server(name = AuthInfoFn)]
pub async fn auth_info() -> Result<AuthInfo, AppError> {
    crate::ports::sessions()?.info().await
}

/// The signed-in user and what the navigation may offer them; `None` when signed out.
// Postcard answer: the shell decodes it in the main wasm module (`crate::wire`).
#[server(output = Postcard)]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    use super::policy::{Action, allowed};
    Ok(super::current_principal().map(|p| Me {
        can_manage_users: allowed(&p, Action::UsersManage, None)
            || allowed(&p, Action::OrgMembersManage, None),
        can_read_audit: allowed(&p, Action::AuditRead, None),
        principal: p,
    }))
}

/// Signs in with e-mail and password; sets the session cookie and returns the page to go to.
#[server]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<String, AppError> {
    let meta = super::request_meta();
    let cookie = crate::ports::sessions()?.login(&email, &password, &meta).await?;
    super::set_cookie(&cookie);
    let next = super::safe_next(next.as_deref().unwrap_or_default());
    super::redirect_form_post(&next);
    Ok(next)
}

/// The single sign-on identity this browser brought back, waiting for its account's password (`None` if
/// there is none or it expired).
#[server(name = SsoLinkPreviewFn)]
pub async fn sso_link_preview() -> Result<Option<SsoLinkPreview>, AppError> {
    match super::request_cookie(SSO_LINK_COOKIE) {
        Some(secret) => crate::ports::single_sign_on()?.link_preview(&secret).await,
        None => Ok(None),
    }
}

/// Links the single sign-on identity this browser brought back to the existing account with its e-mail,
/// given that account's password, and signs in; returns the page to go to.
#[server]
pub async fn link_sso(password: String) -> Result<String, AppError> {
    let meta = super::request_meta();
    let secret = super::request_cookie(SSO_LINK_COOKIE).ok_or_else(|| {
        AppError::BadRequest(
            "This single sign-on attempt expired or was already used. Sign in with single sign-on again."
                .into(),
        )
    })?;
    let (cookies, next) = crate::ports::single_sign_on()?
        .link(&secret, &password, &meta)
        .await?;
    for cookie in &cookies {
        super::set_cookie(cookie);
    }
    super::redirect_form_post(&next);
    Ok(next)
}

/// Ends the current session and returns the login page's address.
// Postcard answer: the shell decodes it in the main wasm module (`crate::wire`).
#[server(output = Postcard)]
pub async fn logout() -> Result<String, AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    let cookie = crate::ports::sessions()?.logout(&me, &meta).await?;
    super::set_cookie(&cookie);
    let to = crate::routes::page("login");
    super::redirect_form_post(&to);
    Ok(to)
}

/// Creates an account (with an invitation, or freely when sign-up is open) and signs it in.
#[server]
pub async fn signup(
    email: String,
    password: String,
    display_name: Option<String>,
    invite: Option<String>,
    voucher: Option<String>,
) -> Result<String, AppError> {
    let meta = super::request_meta();
    let voucher = voucher.filter(|s| !s.trim().is_empty());
    // With a voucher the new organisation has credit: straight on to designing its Sovereign.
    let next = match &voucher {
        Some(_) => crate::routes::page("wizard"),
        None => crate::routes::home(),
    };
    let input = crate::ports::SignupInput {
        email,
        password,
        display_name: display_name.unwrap_or_default(),
        invite: invite.filter(|s| !s.trim().is_empty()),
        voucher,
    };
    let cookie = crate::ports::sessions()?.signup(input, &meta).await?;
    super::set_cookie(&cookie);
    super::redirect_form_post(&next);
    Ok(next)
}

/// First run: creates the superadmin with the token printed in the server log, and signs it in.
#[server]
pub async fn setup(
    token: String,
    email: String,
    password: String,
    display_name: Option<String>,
    org_name: Option<String>,
) -> Result<String, AppError> {
    let meta = super::request_meta();
    let input = crate::ports::SetupInput {
        token,
        email,
        password,
        display_name: display_name.unwrap_or_default(),
        org_name: org_name.unwrap_or_default(),
    };
    let cookie = crate::ports::sessions()?.setup(input, &meta).await?;
    super::set_cookie(&cookie);
    let next = crate::routes::home();
    super::redirect_form_post(&next);
    Ok(next)
}

/// What an invitation link offers, before the account is created.
#[server]
pub async fn preview_invite(token: String) -> Result<InvitePreview, AppError> {
    crate::ports::accounts()?.invite_preview(&token).await
}

/// Changes the caller's own password; every other session of theirs ends.
#[server]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    crate::ports::sessions()?
        .change_password(&me, &current, &new, &meta)
        .await
}

/// The accounts, organisations and invitations the caller may manage.
#[server]
pub async fn list_users() -> Result<UsersView, AppError> {
    let me = super::principal()?;
    crate::ports::accounts()?.users(&me).await
}

/// Invites someone to an organisation: returns a link to send them, whether or not they have an account.
#[server]
pub async fn invite_user(email: String, org_id: String, role: String) -> Result<InviteOutcome, AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    let role = OrgRole::parse(&role)
        .ok_or_else(|| AppError::invalid("role", "Choose owner, admin, editor or viewer."))?;
    crate::ports::accounts()?
        .invite(&me, &email, &org_id, role, &meta)
        .await
}

/// Accepts an invitation made out to the signed-in account's e-mail address; returns the page to go to.
#[server]
pub async fn accept_invitation(invite: String) -> Result<String, AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    crate::ports::accounts()?
        .accept_invitation(&me, &invite, &meta)
        .await?;
    let next = crate::routes::home();
    super::redirect_form_post(&next);
    Ok(next)
}

/// Withdraws an invitation that has not been used.
#[server]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    crate::ports::accounts()?.revoke_invitation(&me, &id, &meta).await
}

/// Sets a member's role in an organisation; `none` removes them from it.
#[server]
pub async fn set_member_role(user_id: String, org_id: String, role: String) -> Result<(), AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    let role = match role.as_str() {
        "none" => None,
        r => Some(
            OrgRole::parse(r)
                .ok_or_else(|| AppError::invalid("role", "Choose owner, admin, editor, viewer or none."))?,
        ),
    };
    crate::ports::organisations()?
        .set_member_role(&me, &user_id, &org_id, role, &meta)
        .await
}

/// Sets an account's platform role; `none` takes it away.
#[server]
pub async fn set_platform_role(user_id: String, role: String) -> Result<(), AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    let role = match role.as_str() {
        "none" | "" => None,
        r => Some(
            PlatformRole::parse(r)
                .ok_or_else(|| AppError::invalid("role", "Choose superadmin, sovereign-admin or none."))?,
        ),
    };
    crate::ports::organisations()?
        .set_platform_role(&me, &user_id, role, &meta)
        .await
}

/// Disables (`true`) or re-enables an account. A disabled account's sessions and tokens stop working.
#[server]
pub async fn set_user_disabled(user_id: String, disabled: bool) -> Result<(), AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    crate::ports::accounts()?
        .set_disabled(&me, &user_id, disabled, &meta)
        .await
}

/// Creates an organisation.
#[server]
pub async fn create_org(name: String) -> Result<Organisation, AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    crate::ports::organisations()?.create_org(&me, &name, &meta).await
}

/// The caller's live API tokens.
#[server]
pub async fn list_tokens() -> Result<Vec<ApiTokenInfo>, AppError> {
    let me = super::principal()?;
    crate::ports::api_tokens()?.tokens(&me).await
}

/// Creates an API token for the caller; the secret is in the answer and nowhere else, ever.
#[server]
pub async fn create_token(name: String, expires_in_days: Option<String>) -> Result<NewApiToken, AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    let days = match expires_in_days.as_deref().map(str::trim) {
        None | Some("") | Some("never") => None,
        Some(d) => Some(
            d.parse::<u32>()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| AppError::invalid("expiresInDays", "Choose 1–365 days, or never."))?,
        ),
    };
    let created = crate::ports::api_tokens()?
        .create_token(&me, &name, days, &meta)
        .await?;
    super::flash_set(
        CREATED_TOKEN_COOKIE,
        &crate::routes::page("settings/tokens"),
        &created,
    );
    Ok(created)
}

#[cfg(feature = "ssr")]
const CREATED_TOKEN_COOKIE: &str = "catalyst_created_token";
#[cfg(feature = "ssr")]
const INVITE_COOKIE: &str = "catalyst_invite_result";

/// Without JavaScript, the token just created (its secret shown once) comes back through the redirect.
#[server]
pub async fn take_created_token() -> Result<Option<NewApiToken>, AppError> {
    super::principal()?;
    Ok(super::flash_take(
        CREATED_TOKEN_COOKIE,
        &crate::routes::page("settings/tokens"),
    ))
}

/// Without JavaScript, the invitation just made (its link shown once) comes back through the redirect.
#[server]
pub async fn take_invite_result() -> Result<Option<InviteOutcome>, AppError> {
    super::principal()?;
    Ok(super::flash_take(INVITE_COOKIE, &crate::routes::page("users")))
}

/// Revokes one of the caller's API tokens.
#[server]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let meta = super::request_meta();
    let me = super::principal()?;
    crate::ports::api_tokens()?.revoke_token(&me, &id, &meta).await
}

/// One page of the audit log, newest first, optionally only one category (`auth`, `users`, `tokens`, …).
#[server]
pub async fn audit_page(page: Option<i64>, category: Option<String>) -> Result<Page<AuditEntry>, AppError> {
    let me = super::principal()?;
    let request = crate::paging::PageRequest::new(page, Some(25));
    crate::ports::audit_log()?
        .audit(&me, category.filter(|c| !c.is_empty()).as_deref(), request)
        .await
}
