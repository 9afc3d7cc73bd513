//! `/sovereign/audit`: security and administration events — who did what, when, from where — newest first,
//! by category, paged.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::audit::{AuditEntry, Outcome};
use crate::auth::api::audit_page;
use crate::routes;
use crate::time::{format_rfc3339, format_utc};
use crate::ui::{ErrorView, TableRegion};

const CATEGORIES: &[(&str, &str)] = &[
    ("", "All"),
    ("auth", "Sign-in"),
    ("users", "Users"),
    ("orgs", "Organisations"),
    ("tokens", "API tokens"),
    ("settings", "Settings"),
    ("vouchers", "Vouchers"),
    ("billing", "Billing"),
];

fn href(category: &str, page: i64) -> String {
    let mut q = Vec::new();
    if !category.is_empty() {
        q.push(format!("category={category}"));
    }
    if page > 1 {
        q.push(format!("page={page}"));
    }
    if q.is_empty() {
        routes::page("audit")
    } else {
        format!("{}?{}", routes::page("audit"), q.join("&"))
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let category = move || query.read().get("category").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let entries = Resource::new_blocking(
        move || (page(), category()),
        |(p, c)| audit_page(Some(p), Some(c)),
    );
    view! {
        <leptos_meta::Title text="Audit log · Catalyst" />
        <header class="page-header">
            <h1>"Audit log"</h1>
            <p class="muted">
                "Sign-ins, failed sign-ins, role changes, API tokens and settings: who, what, when and from where."
            </p>
        </header>
        <nav class="tabs mb-4" aria-label="Categories">
            {CATEGORIES
                .iter()
                .map(|(key, label)| {
                    let key = *key;
                    view! {
                        <a href=href(key, 1) aria-current=move || (category() == key).then_some("page")>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match entries.await {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(page) if page.items.is_empty() => {
                        view! {
                            <p class="empty" data-testid="audit-empty">
                                "Nothing recorded in this category yet."
                            </p>
                        }
                            .into_any()
                    }
                    Ok(p) => {
                        let (current, pages, total) = (p.page, p.pages(), p.total);
                        let cat = category();
                        view! {
                            <TableRegion label="Audit events">
                                <table class="table" data-testid="audit-table">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"What"</th>
                                            <th scope="col">"Outcome"</th>
                                            <th scope="col">"Details"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {p.items.into_iter().map(|e| view! { <Row e /> }).collect_view()}
                                    </tbody>
                                </table>
                            </TableRegion>
                            <nav class="pager" aria-label="Pages">
                                {(current > 1)
                                    .then(|| {
                                        view! {
                                            <a
                                                class="btn btn-secondary btn-sm"
                                                href=href(&cat, current - 1)
                                                rel="prev"
                                            >
                                                "Newer"
                                            </a>
                                        }
                                    })}
                                <span class="muted text-sm" data-testid="audit-page">
                                    {format!("Page {current} of {pages} · {total} events")}
                                </span>
                                {(current < pages)
                                    .then(|| {
                                        view! {
                                            <a
                                                class="btn btn-secondary btn-sm"
                                                href=href(&cat, current + 1)
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
    }
}

#[component]
fn Row(e: AuditEntry) -> impl IntoView {
    let (badge, label) = match e.outcome {
        Outcome::Success => ("badge badge-ok", "Success"),
        Outcome::Failure => ("badge badge-err", "Failure"),
        Outcome::Denied => ("badge badge-warn", "Denied"),
    };
    view! {
        <tr data-testid="audit-row" data-action=e.action.clone()>
            <td class="text-sm nowrap">
                <time datetime=format_rfc3339(e.at)>{format_utc(e.at)}</time>
            </td>
            <td>
                <div>{e.actor.clone()}</div>
                <div class="muted text-xs">
                    {if e.ip.is_empty() { "—".to_string() } else { e.ip.clone() }}
                </div>
            </td>
            <td>
                <code class="text-sm">{e.action.clone()}</code>
                <div class="muted text-xs">{e.target.clone()}</div>
            </td>
            <td>
                <span class=badge>{label}</span>
            </td>
            <td class="text-sm">{e.detail.clone()}</td>
        </tr>
    }
}
