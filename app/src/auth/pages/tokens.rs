//! `/sovereign/settings/tokens`: API tokens for automation. A token acts with its owner's roles; its secret
//! is shown once, right after creation.

use leptos::prelude::*;

use super::{Field, field_error, form_error};
use crate::auth::ApiTokenInfo;
use crate::auth::api::{CreateToken, RevokeToken, list_tokens, take_created_token};
use crate::routes;
use crate::time::format_utc;
use crate::ui::{ErrorView, TableRegion};

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new_blocking(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let value = create.value();
    let other = form_error(value, &["name", "expiresInDays"]);
    // Without JavaScript the form posts and comes back; the new token then arrives this way, once.
    let flashed = Resource::new_blocking(|| (), |_| take_created_token());
    let created = move || {
        value
            .get()
            .and_then(Result::ok)
            .or_else(|| flashed.get().and_then(Result::ok).flatten())
    };
    view! {
        <leptos_meta::Title text="API tokens · Catalyst" />
        <header class="page-header">
            <h1>"API tokens"</h1>
            <nav class="tabs" aria-label="Settings">
                <a href=routes::page("settings/account")>"Account"</a>
                <a href=routes::page("settings/tokens") aria-current="page">
                    "API tokens"
                </a>
            </nav>
        </header>
        <p class="muted mb-4">
            "Tokens let scripts and CI call the API as you: send "<code>"Authorization: Bearer <token>"</code>
            ". A token has exactly your roles, and stops working when it is revoked, expires, or your account is disabled."
        </p>
        <div class="grid-cards">
            <article class="card">
                <h2 class="card-title">"New token"</h2>
                <ActionForm action=create attr:class="form" attr:data-testid="token-form">
                    <Field
                        id="token-name"
                        label="Name"
                        name="name"
                        required=true
                        autocomplete="off"
                        hint="What will use it, e.g. CI pipeline."
                        error=Signal::derive(field_error(value, "name"))
                    />
                    <div class="field">
                        <label for="token-expiry">"Expires"</label>
                        <select id="token-expiry" name="expires_in_days" class="input">
                            <option value="30">"In 30 days"</option>
                            <option value="90" selected>
                                "In 90 days"
                            </option>
                            <option value="365">"In a year"</option>
                            <option value="never">"Never (until revoked)"</option>
                        </select>
                    </div>
                    {move || other().map(|error| view! { <ErrorView error /> })}
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="token-create"
                        disabled=move || create.pending().get()
                    >
                        {move || if create.pending().get() { "Creating…" } else { "Create token" }}
                    </button>
                </ActionForm>
                <Suspense>
                    {move || {
                        created()
                            .map(|t| {
                                view! {
                                    <div
                                        class="alert alert-ok mt-4"
                                        role="status"
                                        data-testid="token-secret-box"
                                    >
                                        <p class="font-semibold">
                                            {format!(
                                                "Token “{}” created. Copy it now: it is not shown again.",
                                                t.info.name,
                                            )}
                                        </p>
                                        <code class="secret" data-testid="token-secret">
                                            {t.secret}
                                        </code>
                                    </div>
                                }
                            })
                    }}
                </Suspense>
            </article>
        </div>
        <section class="mt-6" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading" class="section-title">
                "Your tokens"
            </h2>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok(list) if list.is_empty() => {
                            view! {
                                <p class="empty" data-testid="tokens-empty">
                                    "No tokens yet. Create one above when a script needs the API."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <TokenTable list revoke /> }.into_any(),
                    }
                })}
            </Suspense>
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorView error /> })}
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<ApiTokenInfo>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <TableRegion label="API tokens">
            <table class="table" data-testid="tokens-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Token"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|t| {
                            let label = format!("Revoke token {}", t.name);
                            view! {
                                <tr data-testid="token-row">
                                    <td>{t.name.clone()}</td>
                                    <td>
                                        <code>{format!("{}…", t.prefix)}</code>
                                    </td>
                                    <td>{format_utc(t.created_at)}</td>
                                    <td>{t.last_used_at.map_or("Never".to_string(), format_utc)}</td>
                                    <td>{t.expires_at.map_or("Never".to_string(), format_utc)}</td>
                                    <td class="text-right">
                                        <ActionForm action=revoke attr:class="inline">
                                            <input type="hidden" name="id" value=t.id.clone() />
                                            <button
                                                type="submit"
                                                class="btn btn-danger btn-sm"
                                                aria-label=label
                                            >
                                                "Revoke"
                                            </button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableRegion>
    }
}
