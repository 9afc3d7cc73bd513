//! `/sovereign/login`: e-mail and password, single sign-on when configured, and where to go next. After a
//! single sign-on whose e-mail belongs to an existing account (`?link=sso`), it asks for that account's
//! password before the identity is linked to it (the linking rule, `server::auth::sso`).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AuthCard, Field, field_error, form_error, hard_navigate};
use crate::auth::api::{LinkSso, Login, auth_info, sso_link_preview};
use crate::auth::{SignupPolicy, SsoLinkPreview, encode_component, safe_next};
use crate::routes;
use crate::ui::ErrorView;

/// What a failed single sign-on means, by the code the server puts in `?sso=`.
fn sso_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "unreachable" => {
            "The single sign-on provider cannot be reached right now. Try again in a moment, or sign in with your password."
        }
        "denied" => "Single sign-on was cancelled or refused by the provider.",
        "expired" => "That single sign-on attempt expired or was already used. Start again.",
        "email" => {
            "The single sign-on provider did not share a verified e-mail address; ask its administrator to release the email claim."
        }
        "unverified" => {
            "An account with this e-mail address already exists here, and the single sign-on provider did not confirm that the address is yours, so it was not connected to that account. Sign in with the account's password, or ask the provider's administrator to verify your e-mail address."
        }
        "no-password" => {
            "An account with this e-mail address already exists here and has no password to prove it is yours, so single sign-on was not connected to it. Ask an administrator of this console."
        }
        "disabled" => "This account is disabled. Ask an administrator of this console to enable it.",
        "failed" => "Single sign-on failed. Try again; if it keeps failing, the server log has the details.",
        "off" => "Single sign-on is not configured on this console.",
        "busy" => "Too many single sign-on attempts from your address. Wait a minute and try again.",
        _ => return None,
    })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let linking = move || query.read().get("link").is_some_and(|l| l == "sso");
    let link = Resource::new_blocking(linking, |linking| async move {
        if linking {
            sso_link_preview().await
        } else {
            Ok(None)
        }
    });
    view! {
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(Some(preview)) => view! { <LinkSsoCard preview /> }.into_any(),
                    _ => view! { <SignInCard /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// After a single sign-on whose e-mail belongs to an existing account: that account's password, to link them.
#[component]
fn LinkSsoCard(preview: SsoLinkPreview) -> impl IntoView {
    let link = ServerAction::<LinkSso>::new();
    let value = link.value();
    Effect::new(move |_| {
        if let Some(Ok(to)) = value.get() {
            hard_navigate(&to);
        }
    });
    let password_error = field_error(value, "password");
    let other_error = form_error(value, &["password"]);
    view! {
        <leptos_meta::Title text="Connect single sign-on · Catalyst" />
        <AuthCard title="Connect single sign-on">
            <p class="mb-4" data-testid="sso-link-explain">
                {format!(
                    "You signed in with {} as {}. An account with this e-mail address already exists here; to connect the two, enter that account's password. After that, {} signs you in to it directly.",
                    preview.provider,
                    preview.email,
                    preview.provider,
                )}
            </p>
            <ActionForm action=link attr:class="form" attr:data-testid="sso-link-form">
                <Field
                    id="link-email"
                    label="E-mail"
                    name="email"
                    kind="email"
                    autocomplete="username"
                    value=Some(preview.email.clone())
                    readonly=true
                    error=Signal::derive(|| None::<String>)
                />
                <Field
                    id="link-password"
                    label="Password of this account"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    autofocus=true
                    error=Signal::derive(password_error)
                />
                {move || other_error().map(|error| view! { <ErrorView error /> })}
                <button
                    type="submit"
                    class="btn btn-primary w-full"
                    data-testid="sso-link-submit"
                    disabled=move || link.pending().get()
                >
                    {move || if link.pending().get() { "Connecting…" } else { "Connect and sign in" }}
                </button>
            </ActionForm>
            <p class="muted text-sm mt-4">
                "Not your account? " <a href=routes::page("login") rel="external">
                    "Sign in another way"
                </a>
            </p>
        </AuthCard>
    }
}

#[component]
fn SignInCard() -> impl IntoView {
    let query = use_query_map();
    let next = move || safe_next(&query.read().get("next").unwrap_or_default());
    let sso = move || query.read().get("sso").and_then(|c| sso_message(&c));
    let info = Resource::new_blocking(|| (), |_| auth_info());
    let login = ServerAction::<Login>::new();
    let value = login.value();
    Effect::new(move |_| {
        if let Some(Ok(to)) = value.get() {
            hard_navigate(&to);
        }
    });
    let email_error = field_error(value, "email");
    let password_error = field_error(value, "password");
    let other_error = form_error(value, &["email", "password"]);
    view! {
        <leptos_meta::Title text="Sign in · Catalyst" />
        <AuthCard title="Sign in to Catalyst">
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    let info = info.await;
                    let setup_hint = matches!(&info, Ok(i) if i.needs_setup)
                        .then(|| {
                            view! {
                                <div class="alert alert-info" data-testid="setup-hint">
                                    "This console has no accounts yet. Open the setup link printed in the server log to create the first administrator."
                                </div>
                            }
                        });
                    let sso_button = info
                        .as_ref()
                        .ok()
                        .and_then(|i| i.oidc_label.clone())
                        .map(|label| {
                            let href = format!(
                                "{}?next={}",
                                routes::page("auth/oidc/start"),
                                encode_component(&next()),
                            );
                            view! {
                                <a
                                    class="btn btn-secondary w-full"
                                    href=href
                                    rel="external"
                                    data-testid="sso-login"
                                >
                                    {format!("Sign in with {label}")}
                                </a>
                                <p class="divider">
                                    <span>"or with your e-mail"</span>
                                </p>
                            }
                        });
                    let signup = matches!(&info, Ok(i) if i.signup == SignupPolicy::Open)
                        .then(|| {
                            view! {
                                <p class="muted text-sm mt-4">
                                    "No account yet? " <a href=routes::page("signup")>"Create one"</a>
                                </p>
                            }
                        });
                    view! {
                        {setup_hint}
                        {sso_button}
                        {signup}
                    }
                })}
            </Suspense>
            {move || {
                sso()
                    .map(|m| {
                        view! {
                            <div class="alert alert-error" role="alert" data-testid="sso-error">
                                {m}
                            </div>
                        }
                    })
            }}
            <ActionForm action=login attr:class="form" attr:data-testid="login-form">
                <input type="hidden" name="next" value=next />
                <Field
                    id="login-email"
                    label="E-mail"
                    name="email"
                    kind="email"
                    autocomplete="username"
                    required=true
                    autofocus=true
                    error=Signal::derive(email_error)
                />
                <Field
                    id="login-password"
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    required=true
                    error=Signal::derive(password_error)
                />
                {move || other_error().map(|error| view! { <ErrorView error /> })}
                <button
                    type="submit"
                    class="btn btn-primary w-full"
                    data-testid="login-submit"
                    disabled=move || login.pending().get()
                >
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </AuthCard>
    }
}
