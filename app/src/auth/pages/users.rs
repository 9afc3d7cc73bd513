//! `/sovereign/users`: people and organisations. Superadmins see and manage everyone (platform roles,
//! disabling accounts); organisation owners and admins manage the members of their organisations.

use leptos::prelude::*;

use super::{Field, field_error, form_error};
use crate::auth::api::{
    CreateOrg, InviteUser, RevokeInvitation, SetMemberRole, SetPlatformRole, SetUserDisabled, list_users,
    take_invite_result,
};
use crate::auth::{InviteOutcome, OrgRole, PlatformRole, UserSummary, UsersView};
use crate::time::format_utc;
use crate::ui::{ErrorView, TableRegion};

#[derive(Clone, Copy)]
struct Actions {
    member: ServerAction<SetMemberRole>,
    platform: ServerAction<SetPlatformRole>,
    disabled: ServerAction<SetUserDisabled>,
    revoke: ServerAction<RevokeInvitation>,
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let invite = ServerAction::<InviteUser>::new();
    let create_org = ServerAction::<CreateOrg>::new();
    let actions = Actions {
        member: ServerAction::new(),
        platform: ServerAction::new(),
        disabled: ServerAction::new(),
        revoke: ServerAction::new(),
    };
    let view_data = Resource::new_blocking(
        move || {
            (
                invite.version().get(),
                create_org.version().get(),
                actions.member.version().get(),
                actions.platform.version().get(),
                actions.disabled.version().get(),
                actions.revoke.version().get(),
            )
        },
        |_| list_users(),
    );
    // The latest failure of any row action, shown above the list.
    let row_error = move || {
        [
            actions.member.value().get().and_then(Result::err),
            actions.platform.value().get().and_then(Result::err),
            actions.disabled.value().get().and_then(Result::err),
            actions.revoke.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <leptos_meta::Title text="Users · Catalyst" />
        <header class="page-header">
            <h1>"Users"</h1>
            <p class="muted">"Who can sign in, and what they may do in each organisation."</p>
        </header>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(data) => {
                        view! {
                            <div class="grid-cards mb-6">
                                <InviteCard data=data.clone() invite />
                                {data.can_create_orgs.then(|| view! { <OrgCard create_org /> })}
                            </div>
                            {move || {
                                row_error()
                                    .map(|error| {
                                        view! {
                                            <div class="mb-4">
                                                <ErrorView error />
                                            </div>
                                        }
                                    })
                            }}
                            <UserTable data=data.clone() actions />
                            <Invitations data actions />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn InviteCard(data: UsersView, invite: ServerAction<InviteUser>) -> impl IntoView {
    let value = invite.value();
    let other = form_error(value, &["email", "role"]);
    let orgs = data.orgs;
    // Without JavaScript the form posts and comes back; the result (a link shown once) arrives this way.
    let flashed = Resource::new_blocking(|| (), |_| take_invite_result());
    let outcome = move || {
        value
            .get()
            .and_then(Result::ok)
            .or_else(|| flashed.get().and_then(Result::ok).flatten())
    };
    view! {
        <article class="card">
            <h2 class="card-title">"Invite someone"</h2>
            {if orgs.is_empty() {
                view! { <p class="muted">"Create an organisation first; people are invited to one."</p> }
                    .into_any()
            } else {
                view! {
                    <ActionForm action=invite attr:class="form" attr:data-testid="invite-form">
                        <Field
                            id="invite-email"
                            label="E-mail"
                            name="email"
                            kind="email"
                            required=true
                            autocomplete="off"
                            error=Signal::derive(field_error(value, "email"))
                        />
                        <div class="field-row">
                            <div class="field">
                                <label for="invite-org">"Organisation"</label>
                                <select id="invite-org" name="org_id" class="input">
                                    {orgs
                                        .into_iter()
                                        .map(|o| view! { <option value=o.id>{o.name}</option> })
                                        .collect_view()}
                                </select>
                            </div>
                            <div class="field">
                                <label for="invite-role">"Role"</label>
                                <select id="invite-role" name="role" class="input">
                                    {OrgRole::ALL
                                        .into_iter()
                                        .map(|r| {
                                            view! {
                                                <option value=r.as_str() selected=r == OrgRole::Viewer>
                                                    {r.label()}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </div>
                        </div>
                        {move || other().map(|error| view! { <ErrorView error /> })}
                        <button
                            type="submit"
                            class="btn btn-primary"
                            data-testid="invite-submit"
                            disabled=move || invite.pending().get()
                        >
                            {move || if invite.pending().get() { "Inviting…" } else { "Invite" }}
                        </button>
                    </ActionForm>
                    <Suspense>
                        {move || {
                            outcome()
                                .map(|outcome| match outcome {
                                    InviteOutcome::Link { email, url, expires_at } => {
                                        view! {
                                            <div
                                                class="alert alert-ok mt-4"
                                                role="status"
                                                data-testid="invite-link-box"
                                            >
                                                <p>
                                                    {format!(
                                                        "Send this link to {email}. It works once, until {}; it is not shown again.",
                                                        format_utc(expires_at),
                                                    )}
                                                </p>
                                                <code class="secret" data-testid="invite-link">
                                                    {url}
                                                </code>
                                            </div>
                                        }
                                            .into_any()
                                    }
                                })
                        }}
                    </Suspense>
                }
                    .into_any()
            }}
        </article>
    }
}

#[component]
fn OrgCard(create_org: ServerAction<CreateOrg>) -> impl IntoView {
    let value = create_org.value();
    let other = form_error(value, &["name"]);
    view! {
        <article class="card">
            <h2 class="card-title">"New organisation"</h2>
            <ActionForm action=create_org attr:class="form" attr:data-testid="org-form">
                <Field
                    id="org-name"
                    label="Name"
                    name="name"
                    required=true
                    autocomplete="organization"
                    hint="Deployments belong to an organisation; its members' roles decide who may do what."
                    error=Signal::derive(field_error(value, "name"))
                />
                {move || other().map(|error| view! { <ErrorView error /> })}
                {move || {
                    value
                        .get()
                        .and_then(Result::ok)
                        .map(|o| {
                            view! {
                                <div class="alert alert-ok" role="status">
                                    {format!("Created {} ({}).", o.name, o.slug)}
                                </div>
                            }
                        })
                }}
                <button type="submit" class="btn btn-secondary" disabled=move || create_org.pending().get()>
                    "Create organisation"
                </button>
            </ActionForm>
        </article>
    }
}

#[component]
fn UserTable(data: UsersView, actions: Actions) -> impl IntoView {
    if data.users.is_empty() {
        return view! { <p class="empty">"No members yet. Invite someone above."</p> }.into_any();
    }
    let platform = data.can_manage_platform;
    view! {
        <section aria-labelledby="users-heading">
            <h2 id="users-heading" class="section-title">
                {format!("People ({})", data.users.len())}
            </h2>
            <TableRegion label="Table of people">
                <table class="table" data-testid="users-table">
                    <thead>
                        <tr>
                            <th scope="col">"Person"</th>
                            <th scope="col">"Organisations and roles"</th>
                            <th scope="col">"Platform role"</th>
                            <th scope="col">"Last sign-in"</th>
                            <th scope="col">"Status"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {data
                            .users
                            .into_iter()
                            .map(|u| view! { <UserRow u platform actions /> })
                            .collect_view()}
                    </tbody>
                </table>
            </TableRegion>
        </section>
    }
    .into_any()
}

#[component]
fn UserRow(u: UserSummary, platform: bool, actions: Actions) -> impl IntoView {
    let email = u.email.clone();
    let memberships = u.memberships.clone();
    let uid = u.id.clone();
    let platform_id = u.id.clone();
    let disable_id = u.id.clone();
    let platform_label = format!("Platform role of {}", u.email);
    let current_platform = u.platform_role;
    let disabled = u.disabled;
    view! {
        <tr data-testid="user-row" data-email=u.email.clone() class:row-disabled=u.disabled>
            <td>
                <div class="font-semibold">
                    {if u.display_name.is_empty() { u.email.clone() } else { u.display_name.clone() }}
                </div>
                <div class="muted text-sm">{u.email.clone()}</div>
                <div class="muted text-xs">{format!("Signs in with {}", u.sign_in.replace('+', " or "))}</div>
            </td>
            <td>
                {if memberships.is_empty() {
                    view! { <span class="muted">"No organisation"</span> }.into_any()
                } else {
                    view! {
                        <ul class="plain-list">
                            {memberships
                                .into_iter()
                                .map(|m| {
                                    let uid = uid.clone();
                                    let select_id = format!("role-{}-{}", uid, m.org_id);
                                    let label = format!("Role of {} in {}", email, m.org_name);
                                    view! {
                                        <li>
                                            <ActionForm action=actions.member attr:class="inline-form">
                                                <input type="hidden" name="user_id" value=uid.clone() />
                                                <input type="hidden" name="org_id" value=m.org_id.clone() />
                                                <label for=select_id.clone() class="org-label">
                                                    {m.org_name.clone()}
                                                </label>
                                                <select
                                                    id=select_id
                                                    name="role"
                                                    class="input input-sm"
                                                    aria-label=label
                                                    data-testid="member-role"
                                                    data-org=m.org_slug.clone()
                                                >
                                                    {OrgRole::ALL
                                                        .into_iter()
                                                        .map(|r| {
                                                            view! {
                                                                <option value=r.as_str() selected=r == m.role>
                                                                    {r.label()}
                                                                </option>
                                                            }
                                                        })
                                                        .collect_view()}
                                                    <option value="none">"Remove from organisation"</option>
                                                </select>
                                                <button
                                                    type="submit"
                                                    class="btn btn-secondary btn-sm"
                                                    data-testid="member-role-save"
                                                >
                                                    "Save"
                                                </button>
                                            </ActionForm>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
            </td>
            <td>
                {if platform {
                    let select_id = format!("platform-{platform_id}");
                    view! {
                        <ActionForm action=actions.platform attr:class="inline-form">
                            <input type="hidden" name="user_id" value=platform_id />
                            <select
                                id=select_id
                                name="role"
                                class="input input-sm"
                                aria-label=platform_label
                                data-testid="platform-role"
                            >
                                <option value="none" selected=current_platform.is_none()>
                                    "None"
                                </option>
                                {PlatformRole::ALL
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <option value=r.as_str() selected=current_platform == Some(r)>
                                                {r.label()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <button
                                type="submit"
                                class="btn btn-secondary btn-sm"
                                data-testid="platform-role-save"
                            >
                                "Save"
                            </button>
                        </ActionForm>
                    }
                        .into_any()
                } else {
                    view! { <span class="badge">{current_platform.map_or("None", |r| r.label())}</span> }
                        .into_any()
                }}
            </td>
            <td class="text-sm">{u.last_login_at.map_or("Never".to_string(), format_utc)}</td>
            <td>
                {if disabled {
                    view! { <span class="badge badge-err">"Disabled"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-ok">"Active"</span> }.into_any()
                }}
                {platform
                    .then(|| {
                        view! {
                            <ActionForm action=actions.disabled attr:class="inline-form mt-1">
                                <input type="hidden" name="user_id" value=disable_id />
                                <input type="hidden" name="disabled" value=(!disabled).to_string() />
                                <button
                                    type="submit"
                                    class="btn btn-ghost btn-sm"
                                    data-testid="toggle-disabled"
                                >
                                    {if disabled { "Enable" } else { "Disable" }}
                                </button>
                            </ActionForm>
                        }
                    })}
            </td>
        </tr>
    }
}

#[component]
fn Invitations(data: UsersView, actions: Actions) -> impl IntoView {
    if data.invitations.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="mt-6" aria-labelledby="invites-heading">
            <h2 id="invites-heading" class="section-title">
                "Open invitations"
            </h2>
            <TableRegion label="Table of open invitations">
                <table class="table" data-testid="invitations-table">
                    <thead>
                        <tr>
                            <th scope="col">"E-mail"</th>
                            <th scope="col">"Organisation"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Expires"</th>
                            <th scope="col">
                                <span class="sr-only">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {data
                            .invitations
                            .into_iter()
                            .map(|i| {
                                view! {
                                    <tr>
                                        <td>{i.email.clone()}</td>
                                        <td>{i.org_name}</td>
                                        <td>{i.role.label()}</td>
                                        <td>{format_utc(i.expires_at)}</td>
                                        <td class="text-right">
                                            <ActionForm action=actions.revoke attr:class="inline">
                                                <input type="hidden" name="id" value=i.id />
                                                <button
                                                    type="submit"
                                                    class="btn btn-ghost btn-sm"
                                                    aria-label=format!("Withdraw the invitation of {}", i.email)
                                                >
                                                    "Withdraw"
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
        </section>
    }
    .into_any()
}
