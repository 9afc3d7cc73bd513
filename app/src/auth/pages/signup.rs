//! `/sovereign/signup`: create an account, with an invitation link (`?invite=…`), with a voucher from the
//! redeem page (`?voucher=CODE`: the voucher is the invitation, and its credit goes to the new account's
//! organisation), or, when sign-up is open, freely. Signed in, an invitation link is accepted here instead: joining an organisation with an account
//! one already has is the person's own decision (the link offers both, and never says which applies).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AuthCard, Field, field_error, form_error, hard_navigate};
use crate::auth::api::{AcceptInvitation, Signup, auth_info, current_user, preview_invite};
use crate::auth::validate::MIN_PASSWORD_CHARS;
use crate::auth::{AuthInfo, InvitePreview, Me, SignupPolicy, login_url};
use crate::error::AppError;
use crate::routes;
use crate::ui::ErrorView;
use crate::vouchers::RedeemState;
use crate::vouchers::api::redeem_state;

type SignupData = (
    AuthInfo,
    Option<Result<InvitePreview, AppError>>,
    Option<Me>,
    Option<RedeemState>,
);

#[component]
pub fn SignupPage() -> impl IntoView {
    let query = use_query_map();
    let invite = move || query.read().get("invite").filter(|s| !s.is_empty());
    let voucher = move || query.read().get("voucher").filter(|s| !s.trim().is_empty());
    let data = Resource::new_blocking(
        move || (invite(), voucher()),
        |(invite, voucher)| async move {
            let info = auth_info().await?;
            let preview = match invite {
                Some(token) => Some(preview_invite(token).await),
                None => None,
            };
            let me = current_user().await?;
            let voucher = match voucher {
                Some(code) => Some(redeem_state(Some(code)).await?),
                None => None,
            };
            Ok::<SignupData, AppError>((info, preview, me, voucher))
        },
    );
    view! {
        <leptos_meta::Title text="Create an account · Catalyst" />
        <AuthCard title=if invite().is_some() { "Your invitation" } else { "Create your account" }>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok((_, None, Some(_), Some(RedeemState::Valid(v)))) => {
                            view! {
                                <p class="alert alert-info" data-testid="signup-voucher-signed-in">
                                    {format!(
                                        "You are signed in already: redeem the voucher {} for your organisation on its billing page.",
                                        v.code,
                                    )}
                                </p>
                                <p class="muted text-sm mt-4">
                                    <a href=routes::page("billing")>"Open billing"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok((_, None, None, Some(RedeemState::Valid(v)))) => {
                            view! {
                                <p class="alert alert-ok mb-4" data-testid="signup-voucher">
                                    {format!(
                                        "Voucher {}: {} of credit for your new organisation.",
                                        v.code,
                                        crate::billing::format_money(v.credit_cents, &v.currency),
                                    )}
                                </p>
                                <SignupForm email=None invite=None voucher=Some(v.code) />
                                <p class="muted text-sm mt-4">
                                    "Already have an account? " <a href=routes::page("login")>"Sign in"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok((_, _, _, Some(state))) => {
                            let (text, code) = match state {
                                RedeemState::Ended(v) => {
                                    (
                                        format!(
                                            "This campaign has ended: the voucher {} no longer accepts redemptions.",
                                            v.code,
                                        ),
                                        v.code,
                                    )
                                }
                                RedeemState::Unavailable(detail) => (detail, String::new()),
                                RedeemState::Valid(v) => {
                                    (
                                        "Sign up with either the invitation or the voucher; redeem the voucher afterwards on the billing page."
                                            .to_string(),
                                        v.code,
                                    )
                                }
                                _ => {
                                    (
                                        "This voucher is not valid: the code does not exist or has been retired."
                                            .to_string(),
                                        String::new(),
                                    )
                                }
                            };
                            view! {
                                <p
                                    class="alert alert-error"
                                    role="alert"
                                    data-testid="signup-voucher-invalid"
                                >
                                    {text}
                                </p>
                                <p class="muted text-sm mt-4">
                                    <a href=crate::routes::redeem(&code)>"Check another voucher"</a>
                                    " · "
                                    <a href=routes::page("signup")>"Sign up without a voucher"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok((_, Some(Err(error)), _, _)) => {
                            view! {
                                <div data-testid="invite-invalid">
                                    <ErrorView error />
                                </div>
                                <p class="muted text-sm mt-4">
                                    <a href=routes::page("login")>"Back to sign-in"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok((_, Some(Ok(preview)), Some(me), _)) => {
                            view! {
                                <InvitePreviewText preview=preview.clone() />
                                <AcceptForm preview me invite=invite().unwrap_or_default() />
                            }
                                .into_any()
                        }
                        Ok((_, Some(Ok(preview)), None, _)) => {
                            let here = format!(
                                "{}?invite={}",
                                routes::page("signup"),
                                crate::auth::encode_component(&invite().unwrap_or_default()),
                            );
                            view! {
                                <InvitePreviewText preview=preview.clone() />
                                <SignupForm email=Some(preview.email.clone()) invite=invite() voucher=None />
                                <p class="muted text-sm mt-4" data-testid="invite-sign-in">
                                    {format!("Already have an account with {}? ", preview.email)}
                                    <a href=login_url(&here)>"Sign in to accept"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok((info, None, _, None)) if info.signup == SignupPolicy::Open => {
                            view! {
                                <SignupForm email=None invite=None voucher=None />
                                <p class="muted text-sm mt-4">
                                    "Already have an account? " <a href=routes::page("login")>"Sign in"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok(_) => {
                            view! {
                                <div class="alert alert-info" data-testid="invite-only">
                                    "Sign-up on this console is by invitation only. Ask an administrator for an invitation link, then open it."
                                </div>
                                <p class="muted text-sm mt-4">
                                    <a href=routes::page("login")>"Back to sign-in"</a>
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

#[component]
fn SignupForm(email: Option<String>, invite: Option<String>, voucher: Option<String>) -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let value = signup.value();
    Effect::new(move |_| {
        if let Some(Ok(to)) = value.get() {
            hard_navigate(&to);
        }
    });
    let fixed_email = email.is_some();
    let other = form_error(value, &["email", "password", "displayName"]);
    view! {
        <ActionForm action=signup attr:class="form" attr:data-testid="signup-form">
            {invite.map(|token| view! { <input type="hidden" name="invite" value=token /> })}
            {voucher.map(|code| view! { <input type="hidden" name="voucher" value=code /> })}
            <Field
                id="signup-email"
                label="E-mail"
                name="email"
                kind="email"
                autocomplete="username"
                value=email
                required=true
                readonly=fixed_email
                autofocus=!fixed_email
                error=Signal::derive(field_error(value, "email"))
            />
            <Field
                id="signup-name"
                label="Your name (optional)"
                name="display_name"
                autocomplete="name"
                autofocus=fixed_email
                error=Signal::derive(field_error(value, "displayName"))
            />
            <Field
                id="signup-password"
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                required=true
                minlength=MIN_PASSWORD_CHARS.to_string()
                hint=format!("At least {MIN_PASSWORD_CHARS} characters; a few unrelated words work well.")
                error=Signal::derive(field_error(value, "password"))
            />
            {move || other().map(|error| view! { <ErrorView error /> })}
            <button
                type="submit"
                class="btn btn-primary w-full"
                data-testid="signup-submit"
                disabled=move || signup.pending().get()
            >
                {move || if signup.pending().get() { "Creating your account…" } else { "Create account" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn InvitePreviewText(preview: InvitePreview) -> impl IntoView {
    view! {
        <p class="muted mb-4" data-testid="invite-preview">
            {format!("You are invited to {} as {}.", preview.org_name, preview.role.label().to_lowercase())}
        </p>
    }
}

/// Signed in: join the organisation with this account, if the invitation is made out to its address.
#[component]
fn AcceptForm(preview: InvitePreview, me: Me, invite: String) -> impl IntoView {
    if preview.email != me.principal.email {
        return view! {
            <div class="alert alert-info" data-testid="invite-other-account">
                {format!(
                    "This invitation is for {}, and you are signed in as {}. Sign out, then open the link again.",
                    preview.email,
                    me.principal.email,
                )}
            </div>
        }
            .into_any();
    }
    let accept = ServerAction::<AcceptInvitation>::new();
    let value = accept.value();
    Effect::new(move |_| {
        if let Some(Ok(to)) = value.get() {
            hard_navigate(&to);
        }
    });
    let error = move || value.get().and_then(Result::err);
    view! {
        <ActionForm action=accept attr:class="form" attr:data-testid="accept-invite-form">
            <input type="hidden" name="invite" value=invite />
            {move || error().map(|error| view! { <ErrorView error /> })}
            <button
                type="submit"
                class="btn btn-primary w-full"
                data-testid="accept-invite"
                disabled=move || accept.pending().get()
            >
                {format!("Join {}", preview.org_name)}
            </button>
        </ActionForm>
    }
    .into_any()
}
