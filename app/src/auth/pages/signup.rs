//! `/sovereign/signup`: create an account, with an invitation link (`?invite=…`) or, when sign-up is open,
//! freely. Signed in, an invitation link is accepted here instead: joining an organisation with an account
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

#[component]
pub fn SignupPage() -> impl IntoView {
    let query = use_query_map();
    let invite = move || query.read().get("invite").filter(|s| !s.is_empty());
    let data = Resource::new_blocking(invite, |invite| async move {
        let info = auth_info().await?;
        let preview = match invite {
            Some(token) => Some(preview_invite(token).await),
            None => None,
        };
        let me = current_user().await?;
        Ok::<(AuthInfo, Option<Result<InvitePreview, AppError>>, Option<Me>), AppError>((info, preview, me))
    });
    view! {
        <leptos_meta::Title text="Create an account · Catalyst" />
        <AuthCard title=if invite().is_some() { "Your invitation" } else { "Create your account" }>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok((_, Some(Err(error)), _)) => {
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
                        Ok((_, Some(Ok(preview)), Some(me))) => {
                            view! {
                                <InvitePreviewText preview=preview.clone() />
                                <AcceptForm preview me invite=invite().unwrap_or_default() />
                            }
                                .into_any()
                        }
                        Ok((_, Some(Ok(preview)), None)) => {
                            let here = format!(
                                "{}?invite={}",
                                routes::page("signup"),
                                crate::auth::encode_component(&invite().unwrap_or_default()),
                            );
                            view! {
                                <InvitePreviewText preview=preview.clone() />
                                <SignupForm email=Some(preview.email.clone()) invite=invite() />
                                <p class="muted text-sm mt-4" data-testid="invite-sign-in">
                                    {format!("Already have an account with {}? ", preview.email)}
                                    <a href=login_url(&here)>"Sign in to accept"</a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok((info, None, _)) if info.signup == SignupPolicy::Open => {
                            view! {
                                <SignupForm email=None invite=None />
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
fn SignupForm(email: Option<String>, invite: Option<String>) -> impl IntoView {
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
