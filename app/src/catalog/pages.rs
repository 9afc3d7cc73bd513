//! Marketplace pages: the grid, a family, a product. The layout loads the catalog once and owns the
//! selection, so moving between the pages keeps it.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::get_catalog;
use super::components::{
    ComponentGrid, FamilyChip, Logo, RemovalDialog, SelectionActions, TierChip, ToastRegion, family_href,
    product_href,
};
use super::engine::{Catalog, Selection};
use super::types::Tier;
use crate::routes;
use crate::ui::{ErrorView, NotFound};

/// What the marketplace pages share.
#[derive(Clone)]
pub struct Market {
    pub catalog: Arc<Catalog>,
    pub selection: RwSignal<Selection>,
}

/// `/sovereign/marketplace/*`: loads the catalog, starts the selection at the defaults.
#[component]
pub fn MarketplaceLayout() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| get_catalog());
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="muted" aria-busy="true">
                    "Loading the catalog…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        match Catalog::new(d) {
                            Ok(catalog) => {
                                let selection = RwSignal::new(catalog.default_selection());
                                provide_context(Market {
                                    catalog: Arc::new(catalog),
                                    selection,
                                });
                                view! { <Outlet /> }.into_any()
                            }
                            Err(problems) => {
                                let error = crate::error::AppError::Internal(
                                    format!(
                                        "The catalog is inconsistent: {}",
                                        problems.first().map(ToString::to_string).unwrap_or_default(),
                                    ),
                                );
                                view! { <ErrorView error /> }.into_any()
                            }
                        }
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/sovereign/marketplace`: choose what runs on the Sovereign.
#[component]
pub fn MarketplacePage() -> impl IntoView {
    let market = expect_context::<Market>();
    let q = use_query_map().with_untracked(|m| m.get("q").unwrap_or_default());
    view! {
        <Title text="Marketplace · Catalyst" />
        <header class="page-head">
            <p class="eyebrow">"Marketplace"</p>
            <h1>"Platform components"</h1>
            <p class="lead">
                "Choose what runs on your Sovereign. Dependencies come along automatically; removing a component "
                "that others need asks first."
            </p>
        </header>
        <ComponentGrid catalog=market.catalog.clone() selection=market.selection initial_query=q />
    }
}

/// `/sovereign/marketplace/family/<id>`.
#[component]
pub fn FamilyPage() -> impl IntoView {
    let market = expect_context::<Market>();
    let params = use_params_map();
    move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        let catalog = market.catalog.clone();
        let Some(family) = catalog.family(&id).cloned() else {
            return view! { <NotFound /> }.into_any();
        };
        let actions = SelectionActions::new(catalog.clone(), market.selection);
        let members = catalog
            .members(&family.id)
            .into_iter()
            .map(|b| {
                let tier = catalog.effective_tier(&b.id).unwrap_or(b.tier);
                let bid = b.id.clone();
                let selected = move || actions.is_selected(&bid);
                view! {
                    <li class="member" data-testid="member">
                        <Logo blueprint=b.clone() color=family.color.clone() />
                        <div class="member-body">
                            <a class="member-name" href=product_href(&b.id)>
                                {b.name.clone()}
                            </a>
                            <p class="muted text-sm">{b.summary.clone()}</p>
                        </div>
                        <div class="member-chips">
                            <TierChip tier />
                            <Show when=selected.clone()>
                                <span class="chip chip-selected">"SELECTED"</span>
                            </Show>
                        </div>
                    </li>
                }
            })
            .collect_view();
        let deps = family
            .dependencies
            .iter()
            .filter_map(|d| catalog.family(d).cloned())
            .map(|f| {
                view! {
                    <li>
                        <FamilyChip family=f />
                    </li>
                }
            })
            .collect_view();
        let has_deps = !family.dependencies.is_empty();
        let fid = family.id.clone();
        let fid2 = family.id.clone();
        let mandatory_family = catalog
            .members(&family.id)
            .iter()
            .all(|b| catalog.is_mandatory(&b.id));
        view! {
            <Title text=format!("{} · Marketplace · Catalyst", family.name) />
            <nav class="crumbs" aria-label="Breadcrumb">
                <a href=routes::page("marketplace")>"Marketplace"</a>
                <span aria-hidden="true">" / "</span>
                <span aria-current="page">{family.name.clone()}</span>
            </nav>
            <header class="page-head family-hero" style=format!("--fam:{}", family.color)>
                <p class="eyebrow fam-eyebrow">{family.subtitle.clone()}</p>
                <h1>{family.name.clone()}</h1>
                <p class="lead">{family.summary.clone()}</p>
                {(!mandatory_family)
                    .then(|| {
                        view! {
                            <div class="hero-actions">
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    on:click=move |_| actions.add_family(&fid)
                                >
                                    "Add the whole family"
                                </button>
                                <button
                                    type="button"
                                    id="family-remove"
                                    class="btn btn-secondary"
                                    on:click=move |_| actions.request_remove_family(&fid2, "family-remove")
                                >
                                    "Remove the family"
                                </button>
                            </div>
                        }
                    })}
                {family
                    .cascade_on_member_selection
                    .then(|| {
                        view! {
                            <p class="note">"Choosing any member of this family adds the whole family."</p>
                        }
                    })}
            </header>
            <div class="two-col">
                <section aria-labelledby="overview">
                    <h2 id="overview" class="section-title">
                        "Overview"
                    </h2>
                    {family
                        .overview
                        .iter()
                        .map(|p| view! { <p class="prose-p">{p.clone()}</p> })
                        .collect_view()}
                    <h2 class="section-title">"Capabilities"</h2>
                    <ul class="bullets">
                        {family.capabilities.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
                    </ul>
                    {has_deps
                        .then(|| {
                            view! {
                                <h2 class="section-title">"Depends on families"</h2>
                                <ul class="chip-list">{deps}</ul>
                            }
                        })}
                </section>
                <section aria-labelledby="members">
                    <h2 id="members" class="section-title">
                        "Members"
                    </h2>
                    <ul class="members">{members}</ul>
                </section>
            </div>
            <RemovalDialog actions />
            <ToastRegion actions />
        }
        .into_any()
    }
}

/// `/sovereign/marketplace/product/<id>`.
#[component]
pub fn ProductPage() -> impl IntoView {
    let market = expect_context::<Market>();
    let params = use_params_map();
    move || {
        let id = params.with(|p| p.get("id").unwrap_or_default());
        let catalog = market.catalog.clone();
        let Some(b) = catalog.blueprint(&id).cloned() else {
            return view! { <NotFound /> }.into_any();
        };
        let selection = market.selection;
        let actions = SelectionActions::new(catalog.clone(), selection);
        let family = catalog.family(&b.family).cloned();
        let color = family.as_ref().map(|f| f.color.clone()).unwrap_or_default();
        let tier = catalog.effective_tier(&b.id).unwrap_or(b.tier);
        let mandatory = tier == Tier::Mandatory;
        let links = |list: Vec<&super::types::Blueprint>| {
            list.into_iter()
                .map(|d| {
                    view! {
                        <li>
                            <a class="chip chip-link" href=product_href(&d.id)>
                                {d.name.clone()}
                            </a>
                        </li>
                    }
                })
                .collect_view()
        };
        let depends_on = catalog.dependencies_of(&b.id);
        let depended_by = catalog.dependents_of(&b.id);
        let (no_deps, no_rdeps) = (depends_on.is_empty(), depended_by.is_empty());
        let depends_on = links(depends_on);
        let depended_by = links(depended_by);
        let why = {
            let (catalog, id) = (catalog.clone(), b.id.clone());
            move || {
                // "Always installed." would repeat the pill; every other reason is worth saying.
                selection.with(|s| {
                    catalog
                        .explain(s, &id)
                        .map(|e| catalog.explain_text(&e).join(" "))
                        .unwrap_or_default()
                        .replace("Always installed.", "")
                })
            }
        };
        let bid = b.id.clone();
        let selected = Memo::new(move |_| actions.is_selected(&bid));
        let toggle = {
            let bid = b.id.clone();
            move |_| actions.toggle(&bid, "product-toggle")
        };
        let chart = b.chart.clone();
        view! {
            <Title text=format!("{} · Marketplace · Catalyst", b.name) />
            <nav class="crumbs" aria-label="Breadcrumb">
                <a href=routes::page("marketplace")>"Marketplace"</a>
                <span aria-hidden="true">" / "</span>
                {family
                    .clone()
                    .map(|f| {
                        view! {
                            <a href=family_href(&f.id)>{f.name.clone()}</a>
                            <span aria-hidden="true">" / "</span>
                        }
                    })}
                <span aria-current="page">{b.name.clone()}</span>
            </nav>
            <header class="page-head product-hero" data-testid="product" data-id=b.id.clone()>
                <Logo blueprint=b.clone() color=color large=true />
                <div class="product-title">
                    <h1>{b.name.clone()}</h1>
                    <p class="lead">{b.summary.clone()}</p>
                    <div class="cc-chips">
                        {family.map(|f| view! { <FamilyChip family=f /> })} <TierChip tier />
                    </div>
                </div>
                <div class="product-action">
                    {if mandatory {
                        view! {
                            <span class="pill-always" data-testid="always-installed">
                                "Always installed"
                            </span>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button
                                type="button"
                                id="product-toggle"
                                data-testid="product-toggle"
                                class=move || {
                                    if selected.get() { "btn btn-secondary" } else { "btn btn-primary" }
                                }
                                aria-pressed=move || selected.get().to_string()
                                on:click=toggle
                            >
                                {move || if selected.get() { "Remove from stack" } else { "Add to stack" }}
                            </button>
                        }
                            .into_any()
                    }} <p class="text-sm muted why" data-testid="why">
                        {why}
                    </p>
                </div>
            </header>
            <div class="two-col">
                <section aria-labelledby="about">
                    <h2 id="about" class="section-title">
                        "About"
                    </h2>
                    <p class="prose-p">{b.description.clone()}</p>
                    <h2 class="section-title">"Depends on"</h2>
                    {if no_deps {
                        view! { <p class="muted">"Nothing: it runs on the base platform."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="chip-list" data-testid="depends-on">
                                {depends_on}
                            </ul>
                        }
                            .into_any()
                    }}
                    <h2 class="section-title">"Depended on by"</h2>
                    {if no_rdeps {
                        view! { <p class="muted">"No other component needs it."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="chip-list" data-testid="depended-on-by">
                                {depended_by}
                            </ul>
                        }
                            .into_any()
                    }}
                </section>
                <section aria-labelledby="facts">
                    <h2 id="facts" class="section-title">
                        "Facts"
                    </h2>
                    <dl class="facts">
                        <dt>"Upstream"</dt>
                        <dd>
                            <a href=b.upstream.url.clone() rel="noopener noreferrer" target="_blank">
                                {b.upstream.project.clone()}
                            </a>
                        </dd>
                        <dt>"Licence"</dt>
                        <dd>
                            {format!(
                                "{} ({})",
                                b.upstream.license,
                                b.sovereignty.license_kind.label().to_lowercase(),
                            )}
                        </dd>
                        <dt>"Steward"</dt>
                        <dd>{b.sovereignty.steward.clone()}</dd>
                        <dt>"Jurisdiction"</dt>
                        <dd>{b.sovereignty.jurisdiction.clone()}</dd>
                        {match chart {
                            Some(c) => {
                                view! {
                                    <dt>"Helm chart"</dt>
                                    <dd>
                                        <code>{format!("{} {}", c.name, c.version)}</code>
                                        <br />
                                        <span class="muted text-sm break-all">{c.repository.clone()}</span>
                                    </dd>
                                    <dt>"Namespace"</dt>
                                    <dd>
                                        <code>{c.namespace.clone()}</code>
                                    </dd>
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <dt>"Deployment"</dt>
                                    <dd>"Run by Catalyst itself, not installed in the cluster."</dd>
                                }
                                    .into_any()
                            }
                        }}
                        <dt>"Id"</dt>
                        <dd>
                            <code>{b.id.clone()}</code>
                        </dd>
                    </dl>
                </section>
            </div>
            <RemovalDialog actions />
            <ToastRegion actions />
        }
        .into_any()
    }
}
