//! `/sovereign/deployments`: every deployment the caller may see, paged by keyset (`after`/`before` cursors:
//! a page stays put while deployments are created meanwhile), searched (domain, organisation, creator),
//! filtered by status, region and provider, sorted by domain, status, created, last change, region or cost,
//! with counts per status. Everything is in the URL (a plain GET form and links), so it works without
//! JavaScript and a view can be shared.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{StatusBadge, deployment_href};
use crate::cloud::Provider;
use crate::deployments::api::{deployment_status_counts, list_deployments};
use crate::deployments::status::DeploymentStatus;
use crate::deployments::types::{DeploymentList, ListQuery, SortKey, StatusCount};
use crate::time::format_utc;
use crate::ui::{ErrorView, TableRegion};

#[component]
pub fn DeploymentsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        ListQuery {
            status: q.get("status").filter(|s| !s.is_empty()),
            sort: q.get("sort").filter(|s| !s.is_empty()),
            dir: q.get("dir").filter(|s| !s.is_empty()),
            page: q.get("page").and_then(|p| p.parse().ok()),
            per_page: q.get("perPage").and_then(|p| p.parse().ok()),
            org_id: q.get("org").filter(|s| !s.is_empty()),
            q: q.get("q").filter(|s| !s.trim().is_empty()),
            region: q.get("region").filter(|s| !s.is_empty()),
            provider: q.get("provider").filter(|s| !s.is_empty()),
            after: q.get("after").filter(|s| !s.is_empty()),
            before: q.get("before").filter(|s| !s.is_empty()),
        }
    };
    let data = Resource::new_blocking(params, list_deployments);
    let counts = Resource::new_blocking(params, deployment_status_counts);
    view! {
        <leptos_meta::Title text="Deployments · Catalyst" />
        <div class="page-head">
            <div>
                <p class="eyebrow">"Provisioning"</p>
                <h1>"Deployments"</h1>
                <p class="muted">"Every Sovereign launched from this console, newest first."</p>
            </div>
        </div>
        <Filter params=Signal::derive(params) />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                counts.await.ok().map(|counts| view! { <Counts counts params=params() /> })
            })}
        </Suspense>
        <Suspense fallback=|| {
            view! { <p class="muted">"Loading deployments…"</p> }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Table page params=params() /> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Filter(params: Signal<ListQuery>) -> impl IntoView {
    let p = params.get_untracked();
    let status = p.status.clone().unwrap_or_default();
    let sort = p.sort.clone().unwrap_or_else(|| "created".into());
    let dir = p.dir.clone().unwrap_or_else(|| "desc".into());
    let search = p.q.clone().unwrap_or_default();
    let region = p.region.clone().unwrap_or_default();
    let provider = p.provider.clone().unwrap_or_default();
    let org = p.org_id.clone();
    let per_page = p.per_page;
    view! {
        <form
            method="get"
            action=crate::routes::page("deployments")
            class="filter-bar"
            role="search"
            aria-label="Filter deployments"
        >
            <label class="field field-search">
                <span class="label">"Search"</span>
                <input
                    type="search"
                    name="q"
                    class="input"
                    value=search
                    maxlength=crate::deployments::types::MAX_SEARCH_CHARS.to_string()
                    placeholder="Domain, organisation or creator"
                    data-testid="filter-search"
                />
            </label>
            <label class="field">
                <span class="label">"Status"</span>
                <select name="status" class="input" data-testid="filter-status">
                    <option value="" selected=status.is_empty()>
                        "Any status"
                    </option>
                    {DeploymentStatus::ALL
                        .into_iter()
                        .map(|s| {
                            let selected = status == s.as_str();
                            view! {
                                <option value=s.as_str() selected=selected>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="label">"Region"</span>
                <select name="region" class="input" data-testid="filter-region">
                    <option value="" selected=region.is_empty()>
                        "Any region"
                    </option>
                    {Provider::ALL
                        .into_iter()
                        .map(|p| {
                            let options = p
                                .regions()
                                .iter()
                                .map(|r| {
                                    let selected = region == r.id;
                                    view! {
                                        <option value=r.id selected=selected>
                                            {format!("{} ({})", r.city, r.id)}
                                        </option>
                                    }
                                })
                                .collect_view();
                            view! { <optgroup label=p.label()>{options}</optgroup> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="label">"Provider"</span>
                <select name="provider" class="input" data-testid="filter-provider">
                    <option value="" selected=provider.is_empty()>
                        "Any provider"
                    </option>
                    {Provider::ALL
                        .into_iter()
                        .map(|p| {
                            let selected = provider == p.id();
                            view! {
                                <option value=p.id() selected=selected>
                                    {p.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="label">"Sort by"</span>
                <select name="sort" class="input" data-testid="filter-sort">
                    {SortKey::ALL
                        .into_iter()
                        .map(|k| {
                            let selected = sort == k.as_str();
                            view! {
                                <option value=k.as_str() selected=selected>
                                    {k.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="field">
                <span class="label">"Order"</span>
                <select name="dir" class="input" data-testid="filter-dir">
                    <option value="desc" selected=dir == "desc">
                        "Descending"
                    </option>
                    <option value="asc" selected=dir == "asc">
                        "Ascending"
                    </option>
                </select>
            </label>
            {org.map(|org| view! { <input type="hidden" name="org" value=org /> })}
            {per_page.map(|n| view! { <input type="hidden" name="perPage" value=n.to_string() /> })}
            <button type="submit" class="btn btn-secondary">
                "Apply"
            </button>
        </form>
    }
}

/// The list's URL for `params` (its cursor included: `after`/`before` pick the page).
fn list_href(params: &ListQuery) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [
        ("q", &params.q),
        ("status", &params.status),
        ("region", &params.region),
        ("provider", &params.provider),
        ("sort", &params.sort),
        ("dir", &params.dir),
        ("org", &params.org_id),
        ("after", &params.after),
        ("before", &params.before),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", crate::auth::encode_component(v)));
        }
    }
    if let Some(n) = params.per_page {
        parts.push(format!("perPage={n}"));
    }
    let base = crate::routes::page("deployments");
    if parts.is_empty() {
        base
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// The same view on the page next to the cursor: `after` (the next page) or `before` (the previous one).
fn cursor_href(params: &ListQuery, after: Option<String>, before: Option<String>) -> String {
    list_href(&ListQuery {
        page: None,
        after,
        before,
        ..params.clone()
    })
}

/// A monthly figure in euro cents as "€12.34" ("—" when not known).
fn euros(cents: i64) -> String {
    if cents <= 0 {
        "—".to_string()
    } else {
        format!("€{}.{:02}", cents / 100, cents % 100)
    }
}

/// Counts per status for the current search: each a link to the list filtered by it (the current one
/// marked), and "All".
#[component]
fn Counts(counts: Vec<StatusCount>, params: ListQuery) -> impl IntoView {
    let current = params.status.clone().unwrap_or_default();
    let all: i64 = counts.iter().map(|c| c.count).sum();
    let with_status = |status: Option<&str>| {
        list_href(&ListQuery {
            status: status.map(str::to_string),
            page: None,
            after: None,
            before: None,
            ..params.clone()
        })
    };
    let all_href = with_status(None);
    let links = counts
        .iter()
        .map(|c| {
            let href = with_status(Some(c.status.as_str()));
            let here = current == c.status.as_str();
            view! {
                <li>
                    <a
                        class="chip chip-link"
                        class:chip-selected=here
                        href=href
                        aria-current=here.then_some("page")
                        data-testid=format!("count-{}", c.status.as_str())
                    >
                        {format!("{} {}", c.status.label(), c.count)}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Deployments per status">
            <ul class="chip-list status-counts" data-testid="status-counts">
                <li>
                    <a
                        class="chip chip-link"
                        class:chip-selected=current.is_empty()
                        href=all_href
                        aria-current=current.is_empty().then_some("page")
                        data-testid="count-all"
                    >
                        {format!("All {all}")}
                    </a>
                </li>
                {links}
            </ul>
        </nav>
    }
}

#[component]
fn Table(page: DeploymentList, params: ListQuery) -> impl IntoView {
    if page.items.is_empty() {
        let searched = params.q.as_ref().is_some_and(|s| !s.trim().is_empty());
        let filtered = [&params.status, &params.region, &params.provider]
            .iter()
            .any(|v| v.as_ref().is_some_and(|s| !s.is_empty()));
        return view! {
            <div class="card empty" data-testid="deployments-empty">
                <h2>
                    {if searched {
                        "No deployment matches this search"
                    } else if filtered {
                        "No deployment matches these filters"
                    } else {
                        "No deployments yet"
                    }}
                </h2>
                <p class="muted">
                    {if searched {
                        "Search for a part of a domain, of an organisation's name, or of the creator's e-mail or name."
                    } else if filtered {
                        "Set status, region and provider back to “Any” to see every deployment."
                    } else {
                        "Launch a Sovereign from the wizard; it appears here as soon as it is created."
                    }}
                </p>
            </div>
        }
        .into_any();
    }
    let total = page.total;
    let prev = page.prev.clone();
    let next = page.next.clone();
    view! {
        <TableRegion label="Deployments" card=true>
            <table class="data-table" data-testid="deployments-table">
                <thead>
                    <tr>
                        <th scope="col">"Domain"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="hide-sm">
                            "Organisation"
                        </th>
                        <th scope="col" class="hide-sm">
                            "Regions"
                        </th>
                        <th scope="col" class="hide-sm">
                            "Components"
                        </th>
                        <th scope="col" class="hide-sm">
                            "Per month"
                        </th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .items
                        .into_iter()
                        .map(|d| {
                            view! {
                                <tr data-testid="deployment-row">
                                    <td>
                                        <a href=deployment_href(&d.id) class="strong">
                                            {d.fqdn.clone()}
                                        </a>
                                    </td>
                                    <td>
                                        <StatusBadge status=d.status />
                                    </td>
                                    <td class="hide-sm">{d.org_name.clone()}</td>
                                    <td class="hide-sm mono">{d.regions.join(", ")}</td>
                                    <td class="hide-sm">{d.component_count}</td>
                                    <td class="hide-sm nowrap">{euros(d.monthly_cents)}</td>
                                    <td class="muted nowrap">{format_utc(d.created_at)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </TableRegion>
        <nav class="pager" aria-label="Pages">
            <span class="muted" data-testid="deployments-total">
                {format!("{total} deployment(s)")}
            </span>
            {prev
                .map(|c| {
                    view! {
                        <a
                            class="btn btn-secondary"
                            rel="prev"
                            href=cursor_href(&params, None, Some(c))
                            data-testid="pager-prev"
                        >
                            "Previous"
                        </a>
                    }
                })}
            {next
                .map(|c| {
                    view! {
                        <a
                            class="btn btn-secondary"
                            rel="next"
                            href=cursor_href(&params, Some(c), None)
                            data-testid="pager-next"
                        >
                            "Next"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}
