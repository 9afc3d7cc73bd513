//! `/sovereign/signup`: create an account, with an invitation link (`?invite=…`) or, when sign-up is open,
//! freely.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AuthCard, Field, field_error, form_error, hard_navigate};
use crate::auth::api::{Signup, auth_info, preview_invite};
use crate::auth::validate::MIN_PASSWORD_CHARS;
use crate::auth::{AuthInfo, InvitePreview, SignupPolicy};
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
        Ok::<(AuthInfo, Option<Result<InvitePreview, AppError>>), AppError>((info, preview))
    });
    view! {
        <leptos_meta::Title text="Create an account · Catalyst" />
        <AuthCard title="Create your account">
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok((_, Some(Err(error)))) => {
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
                        Ok((_, Some(Ok(preview)))) => {
                            view! {
                                <p class="muted mb-4" data-testid="invite-preview">
                                    {format!(
                                        "You are invited to {} as {}.",
                                        preview.org_name,
                                        preview.role.label().to_lowercase(),
                                    )}
                                </p>
                                <SignupForm email=Some(preview.email) invite=invite() />
                            }
                                .into_any()
                        }
                        Ok((info, None)) if info.signup == SignupPolicy::Open => {
                            view! { <SignupForm email=None invite=None /> }.into_any()
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
        <p class="muted text-sm mt-4">
            "Already have an account? " <a href=routes::page("login")>"Sign in"</a>
        </p>
    }
}
