//! `/sovereign/setup`: the one-time first-run page. It creates the first superadmin with the token the
//! server printed in its log, and disappears once any account exists.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AuthCard, Field, field_error, form_error, hard_navigate};
use crate::auth::api::{Setup, auth_info};
use crate::auth::validate::MIN_PASSWORD_CHARS;
use crate::routes;
use crate::ui::ErrorView;

#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let info = Resource::new_blocking(|| (), |_| auth_info());
    view! {
        <leptos_meta::Title text="Set up Catalyst" />
        <AuthCard title="Set up this console">
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match info.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok(i) if !i.needs_setup => {
                            view! {
                                <div class="alert alert-info" data-testid="setup-done">
                                    "This console is already set up."
                                </div>
                                <p class="mt-4">
                                    <a class="btn btn-primary" href=routes::page("login")>
                                        "Sign in"
                                    </a>
                                </p>
                            }
                                .into_any()
                        }
                        Ok(_) => view! { <SetupForm token=token() /> }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

#[component]
fn SetupForm(token: String) -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let value = setup.value();
    Effect::new(move |_| {
        if let Some(Ok(to)) = value.get() {
            hard_navigate(&to);
        }
    });
    let has_token = !token.is_empty();
    let other = form_error(value, &["token", "email", "password", "displayName", "orgName"]);
    view! {
        <p class="muted mb-4">
            "Create the first administrator (a superadmin, who can do everything) and the first organisation. "
            "The setup token is in the server log; the link printed there fills it in."
        </p>
        <ActionForm action=setup attr:class="form" attr:data-testid="setup-form">
            <Field
                id="setup-token"
                label="Setup token"
                name="token"
                value=Some(token)
                required=true
                readonly=has_token
                autocomplete="off"
                error=Signal::derive(field_error(value, "token"))
            />
            <Field
                id="setup-email"
                label="Your e-mail"
                name="email"
                kind="email"
                autocomplete="username"
                required=true
                autofocus=true
                error=Signal::derive(field_error(value, "email"))
            />
            <Field
                id="setup-name"
                label="Your name (optional)"
                name="display_name"
                autocomplete="name"
                error=Signal::derive(field_error(value, "displayName"))
            />
            <Field
                id="setup-password"
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                required=true
                minlength=MIN_PASSWORD_CHARS.to_string()
                hint=format!("At least {MIN_PASSWORD_CHARS} characters.")
                error=Signal::derive(field_error(value, "password"))
            />
            <Field
                id="setup-org"
                label="Organisation"
                name="org_name"
                autocomplete="organization"
                hint="Deployments belong to an organisation. You can add more later."
                value=Some("Default".to_string())
                error=Signal::derive(field_error(value, "orgName"))
            />
            {move || other().map(|error| view! { <ErrorView error /> })}
            <button
                type="submit"
                class="btn btn-primary w-full"
                data-testid="setup-submit"
                disabled=move || setup.pending().get()
            >
                {move || if setup.pending().get() { "Setting up…" } else { "Create the administrator" }}
            </button>
        </ActionForm>
    }
}
