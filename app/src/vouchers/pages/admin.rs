//! `/sovereign/vouchers`: issue vouchers (optionally e-mailed), find them, switch them on or off, revoke
//! them (after a confirm step that works without JavaScript). Superadmins and sovereign admins.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::auth::pages::{Field, field_error, form_error};
use crate::billing::format_money;
use crate::routes;
use crate::time::format_utc;
use crate::ui::{ErrorView, TableRegion};
use crate::vouchers::Voucher;
use crate::vouchers::api::{IssueVoucher, RevokeVoucher, SetVoucherActive, list_vouchers};

fn href(q: &str, revoked: bool, page: i64) -> String {
    let mut parts = Vec::new();
    if !q.is_empty() {
        parts.push(format!("q={}", crate::auth::encode_component(q)));
    }
    if revoked {
        parts.push("revoked=true".to_string());
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        routes::page("vouchers")
    } else {
        format!("{}?{}", routes::page("vouchers"), parts.join("&"))
    }
}

#[component]
pub fn VouchersPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let revoked = move || {
        query
            .read()
            .get("revoked")
            .is_some_and(|v| v == "true" || v == "on")
    };
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let issue = ServerAction::<IssueVoucher>::new();
    let toggle = ServerAction::<SetVoucherActive>::new();
    let revoke = ServerAction::<RevokeVoucher>::new();
    let list = Resource::new_blocking(
        move || {
            (
                q(),
                revoked(),
                page(),
                issue.version().get(),
                toggle.version().get(),
                revoke.version().get(),
            )
        },
        |(q, revoked, page, ..)| list_vouchers(Some(q), Some(revoked), Some(page)),
    );
    view! {
        <leptos_meta::Title text="Vouchers · Catalyst" />
        <header class="page-header">
            <h1>"Vouchers"</h1>
            <p class="muted">
                "A voucher gives an organisation credit once. People redeem it at "
                <code>{routes::REDEEM}</code>
                " (the link in the voucher e-mail) when they sign up, or on their billing page."
            </p>
        </header>
        <div class="grid-cards">
            <IssueForm issue />
        </div>
        <section class="mt-6" aria-labelledby="vouchers-heading">
            <h2 id="vouchers-heading" class="section-title">
                "Issued vouchers"
            </h2>
            <form method="get" action=routes::page("vouchers") class="filter-bar" role="search">
                <label for="voucher-search" class="sr-only">
                    "Search vouchers"
                </label>
                <input
                    id="voucher-search"
                    name="q"
                    type="search"
                    class="input input-sm"
                    placeholder="Code or description"
                    value=q
                    data-testid="voucher-search"
                />
                <label class="inline-field">
                    <input type="checkbox" name="revoked" value="true" checked=revoked />
                    " Show revoked"
                </label>
                <button type="submit" class="btn btn-secondary btn-sm">
                    "Search"
                </button>
            </form>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                        Ok(p) if p.items.is_empty() => {
                            let text = if q().is_empty() {
                                "No vouchers yet. Issue the first one above."
                            } else {
                                "No voucher matches this search."
                            };
                            view! {
                                <p class="empty" data-testid="vouchers-empty">
                                    {text}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(p) => {
                            let (current, pages, total) = (p.page, p.pages(), p.total);
                            let (q, revoked) = (q(), revoked());
                            view! {
                                <VoucherTable list=p.items toggle revoke />
                                <nav class="pager" aria-label="Pages">
                                    {(current > 1)
                                        .then(|| {
                                            view! {
                                                <a
                                                    class="btn btn-secondary btn-sm"
                                                    href=href(&q, revoked, current - 1)
                                                    rel="prev"
                                                >
                                                    "Newer"
                                                </a>
                                            }
                                        })}
                                    <span class="muted text-sm" data-testid="vouchers-page">
                                        {format!("Page {current} of {pages} · {total} vouchers")}
                                    </span>
                                    {(current < pages)
                                        .then(|| {
                                            view! {
                                                <a
                                                    class="btn btn-secondary btn-sm"
                                                    href=href(&q, revoked, current + 1)
                                                    rel="next"
                                                >
                                                    "Older"
                                                </a>
                                            }
                                        })}
                                </nav>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
            {move || {
                toggle
                    .value()
                    .get()
                    .and_then(Result::err)
                    .or_else(|| revoke.value().get().and_then(Result::err))
                    .map(|error| view! { <ErrorView error /> })
            }}
        </section>
    }
}

/// The issue form with the defaults of the earlier console: 100 of credit, active, unlimited redemptions.
#[component]
fn IssueForm(issue: ServerAction<IssueVoucher>) -> impl IntoView {
    let value = issue.value();
    let fields = &[
        "code",
        "credit",
        "currency",
        "description",
        "max_redemptions",
        "recipient_email",
    ];
    let other = form_error(value, fields);
    view! {
        <article class="card span-2">
            <h2 class="card-title">"Issue a voucher"</h2>
            <ActionForm action=issue attr:class="form form-grid" attr:data-testid="voucher-form">
                <Field
                    id="voucher-code"
                    label="Code"
                    name="code"
                    required=true
                    autocomplete="off"
                    hint="Letters, digits, - and _; stored in capitals (codes are case-insensitive)."
                    error=Signal::derive(field_error(value, "code"))
                />
                <Field
                    id="voucher-credit"
                    label="Credit (EUR)"
                    name="credit"
                    value=Some("100".to_string())
                    required=true
                    autocomplete="off"
                    hint="What one redemption gives, e.g. 100 or 49.50."
                    error=Signal::derive(field_error(value, "credit"))
                />
                <Field
                    id="voucher-max"
                    label="Redemptions allowed"
                    name="max_redemptions"
                    kind="number"
                    value=Some("0".to_string())
                    hint="0 = unlimited. Each organisation can redeem a voucher once."
                    error=Signal::derive(field_error(value, "max_redemptions"))
                />
                <Field
                    id="voucher-recipient"
                    label="E-mail it to (optional)"
                    name="recipient_email"
                    kind="email"
                    autocomplete="off"
                    hint="Sends the code and a redeem link; never delays issuing."
                    error=Signal::derive(field_error(value, "recipient_email"))
                />
                <Field
                    id="voucher-description"
                    label="Description (optional)"
                    name="description"
                    autocomplete="off"
                    hint="Shown on the redeem page, e.g. Spring launch campaign."
                    error=Signal::derive(field_error(value, "description"))
                />
                <div class="field">
                    <label class="inline-field" for="voucher-active">
                        <input id="voucher-active" type="checkbox" name="active" value="on" checked=true />
                        " Active: accepts redemptions now"
                    </label>
                </div>
                {move || other().map(|error| view! { <ErrorView error /> })}
                <div class="span-2">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="voucher-issue"
                        disabled=move || issue.pending().get()
                    >
                        {move || if issue.pending().get() { "Issuing…" } else { "Issue voucher" }}
                    </button>
                </div>
            </ActionForm>
            {move || {
                value
                    .get()
                    .and_then(Result::ok)
                    .map(|issued| {
                        let v = issued.voucher;
                        let mail = if issued.email_queued { " The e-mail is on its way." } else { "" };
                        view! {
                            <p class="alert alert-ok mt-4" role="status" data-testid="voucher-issued">
                                {format!(
                                    "Voucher {} issued: {} credit.{mail}",
                                    v.code,
                                    format_money(v.credit_cents, &v.currency),
                                )}
                            </p>
                        }
                    })
            }}
        </article>
    }
}

#[component]
fn VoucherTable(
    list: Vec<Voucher>,
    toggle: ServerAction<SetVoucherActive>,
    revoke: ServerAction<RevokeVoucher>,
) -> impl IntoView {
    view! {
        <TableRegion label="Vouchers">
            <table class="table" data-testid="vouchers-table">
                <thead>
                    <tr>
                        <th scope="col">"Code"</th>
                        <th scope="col">"Credit"</th>
                        <th scope="col">"Redeemed"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Issued"</th>
                        <th scope="col">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>{list.into_iter().map(|v| view! { <Row v toggle revoke /> }).collect_view()}</tbody>
            </table>
        </TableRegion>
    }
}

#[component]
fn Row(
    v: Voucher,
    toggle: ServerAction<SetVoucherActive>,
    revoke: ServerAction<RevokeVoucher>,
) -> impl IntoView {
    let cap = if v.max_redemptions == 0 {
        format!("{} of unlimited", v.times_redeemed)
    } else {
        format!("{} of {}", v.times_redeemed, v.max_redemptions)
    };
    let badge = match v.state_label() {
        "Active" => "badge badge-ok",
        "Revoked" => "badge badge-err",
        _ => "badge badge-warn",
    };
    let live = v.deleted_at.is_none();
    let code = v.code.clone();
    let detail = routes::page(&format!("vouchers/{}", v.code));
    view! {
        <tr data-testid="voucher-row" data-code=v.code.clone()>
            <td>
                <a href=detail class="mono">
                    {v.code.clone()}
                </a>
                {(!v.description.is_empty())
                    .then(|| view! { <div class="muted text-xs">{v.description.clone()}</div> })}
            </td>
            <td class="nowrap">{format_money(v.credit_cents, &v.currency)}</td>
            <td class="nowrap">{cap}</td>
            <td>
                <span class=badge data-testid="voucher-state">
                    {v.state_label()}
                </span>
            </td>
            <td class="text-sm nowrap">
                {format_utc(v.created_at)}
                {v.created_by.clone().map(|by| view! { <div class="muted text-xs">{by}</div> })}
            </td>
            <td class="text-right nowrap">
                {live
                    .then(|| {
                        let (label, next) = if v.active {
                            ("Switch off", "false")
                        } else {
                            ("Switch on", "true")
                        };
                        let code_a = code.clone();
                        let code_b = code.clone();
                        let code_c = code.clone();
                        view! {
                            <ActionForm action=toggle attr:class="inline">
                                <input type="hidden" name="code" value=code_a.clone() />
                                <input type="hidden" name="active" value=next />
                                <button
                                    type="submit"
                                    class="btn btn-secondary btn-sm"
                                    data-testid="voucher-toggle"
                                    aria-label=format!("{label} voucher {code_a}")
                                >
                                    {label}
                                </button>
                            </ActionForm>
                            // The confirm step is a disclosure: it works with the keyboard and without JavaScript.
                            <details class="inline confirm">
                                <summary
                                    class="btn btn-danger btn-sm"
                                    data-testid="voucher-revoke"
                                    aria-label=format!("Revoke voucher {code_b}")
                                >
                                    "Revoke"
                                </summary>
                                <div class="confirm-panel card">
                                    <p class="text-sm mb-2">
                                        {format!(
                                            "Revoke {code_b}? It stops working for good; who redeemed it stays on record.",
                                        )}
                                    </p>
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="code" value=code_c.clone() />
                                        <input type="hidden" name="confirm" value=code_c.clone() />
                                        <button
                                            type="submit"
                                            class="btn btn-danger btn-sm"
                                            data-testid="voucher-revoke-confirm"
                                        >
                                            {format!("Revoke {code_c}")}
                                        </button>
                                    </ActionForm>
                                </div>
                            </details>
                        }
                    })}
            </td>
        </tr>
    }
}
