//! `/sovereign/billing?org=…`: an organisation's credit balance, its ledger (every grant and spend) and
//! orders, and redeeming a voucher for it (`?code=` fills the form, as the redeem page's sign-in link does).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{RedeemVoucher, billing_overview};
use super::{BillingOverview, LedgerEntry, format_money};
use crate::auth::pages::{Field, field_error, form_error};
use crate::routes;
use crate::time::format_utc;
use crate::ui::{ErrorView, TableRegion};

#[component]
pub fn BillingPage() -> impl IntoView {
    let query = use_query_map();
    let org = move || query.read().get("org").filter(|o| !o.is_empty());
    let code = move || query.read().get("code").unwrap_or_default();
    let redeem = ServerAction::<RedeemVoucher>::new();
    let overview = Resource::new_blocking(
        move || (org(), redeem.version().get()),
        |(org, _)| billing_overview(org),
    );
    view! {
        <leptos_meta::Title text="Billing · Catalyst" />
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(o) => view! { <Overview o redeem code=code() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(o: BillingOverview, redeem: ServerAction<RedeemVoucher>, code: String) -> impl IntoView {
    let value = redeem.value();
    let other = form_error(value, &["code"]);
    let orgs = o.orgs.clone();
    let current = o.org_id.clone();
    view! {
        <header class="page-header">
            <h1>"Billing"</h1>
            <p class="muted" data-testid="billing-org">
                {o.org_name.clone()}
            </p>
            {(orgs.len() > 1)
                .then(|| {
                    view! {
                        <form method="get" action=routes::page("billing") class="filter-bar">
                            <label for="billing-org">"Organisation"</label>
                            <select id="billing-org" name="org" class="input input-sm">
                                {orgs
                                    .into_iter()
                                    .map(|(id, name)| {
                                        let selected = id == current;
                                        view! {
                                            <option value=id selected=selected>
                                                {name}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <button type="submit" class="btn btn-secondary btn-sm">
                                "Show"
                            </button>
                        </form>
                    }
                })}
        </header>
        <div class="grid-cards">
            <article class="card">
                <h2 class="card-title">"Credit"</h2>
                <p class="cost-total" data-testid="billing-balance">
                    {format_money(o.balance_cents, &o.currency)}
                </p>
                <p class="muted text-sm">
                    {if o.has_account {
                        "Launching a Sovereign pays its first month from this credit; a launch the credit does not cover is refused."
                    } else {
                        "This organisation has no credit yet. Redeem a voucher to get some."
                    }}
                </p>
            </article>
            {o
                .can_redeem
                .then(|| {
                    let org_id = o.org_id.clone();
                    view! {
                        <article class="card">
                            <h2 class="card-title">"Redeem a voucher"</h2>
                            <ActionForm
                                action=redeem
                                attr:class="form"
                                attr:data-testid="billing-redeem-form"
                            >
                                <input type="hidden" name="org_id" value=org_id />
                                <Field
                                    id="billing-code"
                                    label="Voucher code"
                                    name="code"
                                    value=Some(code.clone()).filter(|c| !c.is_empty())
                                    required=true
                                    autocomplete="off"
                                    error=Signal::derive(field_error(value, "code"))
                                />
                                {move || other().map(|error| view! { <ErrorView error /> })}
                                <button
                                    type="submit"
                                    class="btn btn-primary"
                                    data-testid="billing-redeem"
                                    disabled=move || redeem.pending().get()
                                >
                                    "Redeem"
                                </button>
                            </ActionForm>
                            {move || {
                                value
                                    .get()
                                    .and_then(Result::ok)
                                    .map(|r| {
                                        view! {
                                            <p
                                                class="alert alert-ok mt-4"
                                                role="status"
                                                data-testid="billing-redeemed"
                                            >
                                                {format!(
                                                    "Voucher {} redeemed: +{} credit.",
                                                    r.code,
                                                    format_money(r.credit_cents, &r.currency),
                                                )}
                                            </p>
                                        }
                                    })
                            }}
                        </article>
                    }
                })}
        </div>
        <section class="mt-6" aria-labelledby="ledger-heading">
            <h2 id="ledger-heading" class="section-title">
                "Credit ledger"
            </h2>
            {if o.ledger.is_empty() {
                view! {
                    <p class="empty" data-testid="ledger-empty">
                        "No credit has been granted or spent yet."
                    </p>
                }
                    .into_any()
            } else {
                view! { <Ledger entries=o.ledger /> }.into_any()
            }}
        </section>
        <section class="mt-6" aria-labelledby="orders-heading">
            <h2 id="orders-heading" class="section-title">
                "Orders"
            </h2>
            {if o.orders.is_empty() {
                view! { <p class="empty">"No orders yet."</p> }.into_any()
            } else {
                view! {
                    <TableRegion label="Orders">
                        <table class="table" data-testid="orders-table">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Order"</th>
                                    <th scope="col">"Amount"</th>
                                    <th scope="col">"Paid"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {o
                                    .orders
                                    .into_iter()
                                    .map(|order| {
                                        let paid = if order.paid_by_credit { "By credit" } else { "—" };
                                        let what = match &order.deployment_id {
                                            Some(id) => {
                                                view! {
                                                    <a href=routes::page(
                                                        &format!("provision/{id}"),
                                                    )>{order.description.clone()}</a>
                                                }
                                                    .into_any()
                                            }
                                            None => {
                                                view! { <span>{order.description.clone()}</span> }.into_any()
                                            }
                                        };
                                        view! {
                                            <tr data-testid="order-row" data-kind=order.kind.clone()>
                                                <td class="nowrap">{format_utc(order.created_at)}</td>
                                                <td>{what}</td>
                                                <td class="nowrap">
                                                    {format_money(order.amount_cents, &order.currency)}
                                                </td>
                                                <td>{paid}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </TableRegion>
                }
                    .into_any()
            }}
        </section>
    }
}

/// `voucher:SPRING-2027` → "Voucher SPRING-2027"; `deployment:<id>` → "Sovereign launched (first month)".
fn reason_label(reason: &str) -> String {
    match reason.split_once(':') {
        Some(("voucher", code)) => format!("Voucher {code}"),
        Some(("deployment", _)) => "Sovereign launched (first month)".to_string(),
        _ => reason.to_string(),
    }
}

#[component]
fn Ledger(entries: Vec<LedgerEntry>) -> impl IntoView {
    view! {
        <TableRegion label="Credit ledger">
            <table class="table" data-testid="ledger-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Amount"</th>
                        <th scope="col">"Balance"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|e| {
                            let amount = if e.amount_cents > 0 {
                                format!("+{}", format_money(e.amount_cents, &e.currency))
                            } else {
                                format_money(e.amount_cents, &e.currency)
                            };
                            let class = if e.amount_cents > 0 { "text-ok nowrap" } else { "nowrap" };
                            view! {
                                <tr data-testid="ledger-row">
                                    <td class="nowrap">{format_utc(e.created_at)}</td>
                                    <td>{reason_label(&e.reason)}</td>
                                    <td class=class>{amount}</td>
                                    <td class="nowrap">{format_money(e.balance_after_cents, &e.currency)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableRegion>
    }
}
