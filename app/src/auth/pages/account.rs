//! `/sovereign/settings/account`: who you are here, your roles, and your password.

use leptos::prelude::*;

use super::{Field, field_error, form_error};
use crate::auth::Me;
use crate::auth::api::{ChangePassword, current_user};
use crate::auth::validate::MIN_PASSWORD_CHARS;
use crate::error::AppError;
use crate::routes;
use crate::ui::ErrorView;

#[component]
pub fn AccountPage() -> impl IntoView {
    let me = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <leptos_meta::Title text="Your account · Catalyst" />
        <header class="page-header">
            <h1>"Your account"</h1>
            <nav class="tabs" aria-label="Settings">
                <a href=routes::page("settings/account") aria-current="page">
                    "Account"
                </a>
                <a href=routes::page("settings/tokens")>"API tokens"</a>
            </nav>
        </header>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! { <Account me /> }.into_any(),
                    Ok(None) => view! { <ErrorView error=AppError::Unauthenticated /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Account(me: Me) -> impl IntoView {
    let p = me.principal;
    let roles = p.memberships.clone();
    view! {
        <div class="grid-cards">
            <article class="card" data-testid="account-card">
                <h2 class="card-title">"Profile"</h2>
                <dl class="facts">
                    <dt>"E-mail"</dt>
                    <dd data-testid="account-email">{p.email.clone()}</dd>
                    <dt>"Name"</dt>
                    <dd>
                        {if p.display_name.is_empty() { "—".to_string() } else { p.display_name.clone() }}
                    </dd>
                    <dt>"Platform role"</dt>
                    <dd>{p.platform_role.map_or("None".to_string(), |r| r.label().to_string())}</dd>
                    <dt>"Organisations"</dt>
                    <dd>
                        {if roles.is_empty() {
                            view! {
                                <span class="muted">"None yet — ask an administrator to add you."</span>
                            }
                                .into_any()
                        } else {
                            view! {
                                <ul class="plain-list">
                                    {roles
                                        .into_iter()
                                        .map(|m| {
                                            view! {
                                                <li>
                                                    {m.org_name}" · "
                                                    <span class="badge">{m.role.label()}</span>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }}
                    </dd>
                </dl>
            </article>
            <article class="card">
                <h2 class="card-title">"Password"</h2>
                {if p.has_password {
                    view! { <ChangePasswordForm /> }.into_any()
                } else {
                    view! {
                        <p class="muted">
                            "You sign in with single sign-on; your password is managed by your identity provider."
                        </p>
                    }
                        .into_any()
                }}
            </article>
        </div>
    }
}

#[component]
fn ChangePasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let value = change.value();
    let other = form_error(value, &["current", "new"]);
    view! {
        <ActionForm action=change attr:class="form" attr:data-testid="password-form">
            <Field
                id="pw-current"
                label="Current password"
                name="current"
                kind="password"
                autocomplete="current-password"
                required=true
                error=Signal::derive(field_error(value, "current"))
            />
            <Field
                id="pw-new"
                label="New password"
                name="new"
                kind="password"
                autocomplete="new-password"
                required=true
                minlength=MIN_PASSWORD_CHARS.to_string()
                hint=format!("At least {MIN_PASSWORD_CHARS} characters. Your other sessions are signed out.")
                error=Signal::derive(field_error(value, "new"))
            />
            {move || other().map(|error| view! { <ErrorView error /> })}
            {move || {
                matches!(value.get(), Some(Ok(())))
                    .then(|| {
                        view! {
                            <div class="alert alert-ok" role="status" data-testid="password-changed">
                                "Password changed. Other sessions were signed out."
                            </div>
                        }
                    })
            }}
            <button type="submit" class="btn btn-primary" disabled=move || change.pending().get()>
                {move || if change.pending().get() { "Changing…" } else { "Change password" }}
            </button>
        </ActionForm>
    }
}
