//! `/sovereign/vouchers/:code`: one voucher — its terms, who redeemed it (kept after a revoke), and the
//! e-mails sent about it.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::billing::format_money;
use crate::routes;
use crate::time::format_utc;
use crate::ui::{ErrorView, TableRegion};
use crate::vouchers::VoucherDetail;
use crate::vouchers::api::voucher_detail;

#[component]
pub fn VoucherPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let detail = Resource::new_blocking(code, voucher_detail);
    view! {
        <leptos_meta::Title text="Voucher · Catalyst" />
        <p class="mb-2">
            <a href=routes::page("vouchers")>"← All vouchers"</a>
        </p>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(d) => view! { <Detail d /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(d: VoucherDetail) -> impl IntoView {
    let v = d.voucher;
    let cap = if v.max_redemptions == 0 {
        "Unlimited".to_string()
    } else {
        v.max_redemptions.to_string()
    };
    view! {
        <header class="page-header">
            <h1 class="mono" data-testid="voucher-code">
                {v.code.clone()}
            </h1>
            <p class="muted">
                {if v.description.is_empty() { "No description.".to_string() } else { v.description.clone() }}
            </p>
        </header>
        <article class="card">
            <dl class="facts">
                <dt>"State"</dt>
                <dd data-testid="voucher-state">{v.state_label()}</dd>
                <dt>"Credit"</dt>
                <dd>{format_money(v.credit_cents, &v.currency)}</dd>
                <dt>"Redemptions"</dt>
                <dd data-testid="voucher-redeemed">{format!("{} of {cap}", v.times_redeemed)}</dd>
                <dt>"Issued"</dt>
                <dd>{format_utc(v.created_at)} {v.created_by.clone().map(|by| format!(" by {by}"))}</dd>
                {v
                    .deleted_at
                    .map(|at| {
                        view! {
                            <dt>"Revoked"</dt>
                            <dd>{format_utc(at)}</dd>
                        }
                    })}
            </dl>
        </article>
        <section class="mt-6" aria-labelledby="redemptions-heading">
            <h2 id="redemptions-heading" class="section-title">
                "Redemptions"
            </h2>
            {if d.redemptions.is_empty() {
                view! {
                    <p class="empty" data-testid="redemptions-empty">
                        "Nobody has redeemed this voucher yet."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <TableRegion label="Redemptions">
                        <table class="table" data-testid="redemptions-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Organisation"</th>
                                    <th scope="col">"By"</th>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Order"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {d
                                    .redemptions
                                    .into_iter()
                                    .map(|r| {
                                        view! {
                                            <tr data-testid="redemption-row">
                                                <td>{r.org_name}</td>
                                                <td>{r.user_email.unwrap_or_else(|| "—".into())}</td>
                                                <td class="nowrap">{format_utc(r.created_at)}</td>
                                                <td>
                                                    <code class="text-xs">{r.order_id}</code>
                                                </td>
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
        <section class="mt-6" aria-labelledby="mails-heading">
            <h2 id="mails-heading" class="section-title">
                "E-mails"
            </h2>
            {if d.mails.is_empty() {
                view! { <p class="empty">"No e-mail was sent about this voucher."</p> }.into_any()
            } else {
                view! {
                    <TableRegion label="E-mails">
                        <table class="table" data-testid="mails-table">
                            <thead>
                                <tr>
                                    <th scope="col">"To"</th>
                                    <th scope="col">"State"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Queued"</th>
                                    <th scope="col">"Last problem"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {d
                                    .mails
                                    .into_iter()
                                    .map(|m| {
                                        let state = match (m.status.as_str(), m.sent_at) {
                                            ("sent", Some(at)) => format!("Sent {}", format_utc(at)),
                                            ("failed", _) => "Gave up".to_string(),
                                            _ => "Waiting to be sent".to_string(),
                                        };
                                        view! {
                                            <tr data-testid="mail-row">
                                                <td>{m.recipient}</td>
                                                <td>{state}</td>
                                                <td>{m.attempts}</td>
                                                <td class="nowrap">{format_utc(m.created_at)}</td>
                                                <td class="text-sm">{m.last_error.unwrap_or_default()}</td>
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
