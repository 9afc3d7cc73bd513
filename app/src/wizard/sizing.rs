//! The live fit and cost of the Provider and Review steps: every component's footprint and Hetzner's last
//! known prices (`preflight::api::sizing`, loaded once per wizard run, on the server for the first frame),
//! the fit of the selection on each region's nodes — bars for CPU and memory requests and, when it does not
//! fit comfortably, the cheapest worker set that does, one click away — and the cost of everything the
//! module creates. The sums are the pre-flight's own (`preflight::{capacity, cost}`), so the Provider step,
//! the Review step and the pre-flight never show different figures for the same request and prices.

use std::sync::Arc;

use leptos::prelude::*;

use super::state::{PreflightState, use_wizard};
use crate::deployments::DeploymentRequest;
use crate::preflight::capacity::{cpu_label, fit, memory_label, percent};
use crate::preflight::cost::estimate;
use crate::preflight::{CheckStatus, CostEstimate, Money, PriceSource, RegionFit, SizingData};
use crate::ui::ErrorView;

/// Renders `children` with the sizing data: at once if this wizard run already loaded it, else after the
/// server answered (on the server itself for the first frame, so the figures are there without JavaScript).
#[component]
pub fn WithSizing<F, V>(children: F) -> impl IntoView
where
    F: Fn(Arc<SizingData>) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let state = use_wizard();
    if let Some(data) = state.sizing.get_value() {
        return children(data).into_any();
    }
    let children = Arc::new(children);
    let data = Resource::new_blocking(|| (), |_| crate::preflight::api::sizing());
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="muted" aria-busy="true">
                    "Loading the components' footprints and Hetzner's prices…"
                </p>
            }
        }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(d) => {
                            let d = Arc::new(d);
                            state.sizing.set_value(Some(d.clone()));
                            children(d).into_any()
                        }
                        Err(error) => view! { <ErrorView error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// The estimate of `req`: the pre-flight's sum over the same prices.
pub fn estimate_of(req: &DeploymentRequest, data: &SizingData) -> CostEstimate {
    estimate(req, &data.footprints, &data.prices)
}

pub fn money(m: Money) -> String {
    format!("€{}", m.fixed(2))
}

/// Hetzner's VAT rate ("19.00") as a person writes it ("19").
fn vat_label(rate: &str) -> &str {
    if rate.contains('.') {
        rate.trim_end_matches('0').trim_end_matches('.')
    } else {
        rate
    }
}

/// `€84.21 per month without VAT · €100.21 with 19 % VAT · €0.1154 per hour`
pub fn total_label(e: &CostEstimate) -> String {
    format!(
        "{} per month without VAT · {} with {} % VAT · €{} per hour",
        money(e.monthly.net),
        money(e.monthly.gross),
        vat_label(&e.vat_rate),
        e.hourly.net.fixed(4),
    )
}

/// Where the prices come from, in a sentence.
pub fn source_label(e: &CostEstimate) -> String {
    match (e.source, e.as_of_ms) {
        (PriceSource::BuiltIn, _) | (_, None) => {
            "Catalyst's built-in list prices: Hetzner's own are fetched with your token at the Review step."
                .to_string()
        }
        (PriceSource::Api, Some(ms)) => format!("Hetzner's prices as of {}.", crate::time::format_utc(ms)),
        (PriceSource::Cached, Some(ms)) => format!(
            "Hetzner's prices as of {} (the last ones fetched; they are refreshed with your token at the Review step).",
            crate::time::format_utc(ms)
        ),
    }
}

/// The whole request's cost, live as the draft changes: the total, each region's lines, and the source.
/// With `preflight`, the pre-flight's own estimate (Hetzner's prices fetched just now with the token) is
/// shown once it answered, so the Review step never shows two figures.
#[component]
pub fn CostSummary(
    data: Arc<SizingData>,
    testid: &'static str,
    #[prop(optional)] preflight: bool,
) -> impl IntoView {
    let state = use_wizard();
    let est = {
        let data = data.clone();
        Memo::new(move |_| {
            let checked = preflight
                .then(|| {
                    state.preflight.with(|p| match p {
                        PreflightState::Done(r) => r.estimate.clone(),
                        _ => None,
                    })
                })
                .flatten();
            checked.unwrap_or_else(|| state.draft.with(|d| estimate_of(&d.request, &data)))
        })
    };
    view! {
        <div class="cost-summary">
            <p class="cost-total" data-testid=testid>
                {move || {
                    est.with(|e| {
                        format!(
                            "Estimated infrastructure cost across {} region(s): {}",
                            e.regions.len(),
                            total_label(e),
                        )
                    })
                }}
            </p>
            <details class="cost-lines">
                <summary>"What is priced"</summary>
                <ul class="review-regions">
                    {move || {
                        est.with(|e| {
                            e.regions
                                .iter()
                                .map(|r| {
                                    let lines = r
                                        .lines
                                        .iter()
                                        .map(|l| {
                                            format!(
                                                "{} × {} — {} per month",
                                                l.count,
                                                l.what,
                                                money(l.monthly.net),
                                            )
                                        })
                                        .chain(
                                            r
                                                .unpriced
                                                .iter()
                                                .map(|u| format!("{u} — no price in this location")),
                                        )
                                        .collect::<Vec<_>>();
                                    view! {
                                        <li class="review-region">
                                            <p>
                                                <strong>{r.location.clone()}</strong>
                                                {format!(" · {} per month", money(r.monthly.net))}
                                            </p>
                                            <ul class="muted">
                                                {lines
                                                    .into_iter()
                                                    .map(|l| view! { <li>{l}</li> })
                                                    .collect_view()}
                                            </ul>
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </ul>
                <p class="muted">{move || est.with(source_label)}</p>
            </details>
        </div>
    }
}

/// One region's monthly net cost (for its card's header).
#[component]
pub fn RegionCost(data: Arc<SizingData>, i: usize) -> impl IntoView {
    let state = use_wizard();
    let label = move || {
        state.draft.with(|d| {
            estimate_of(&d.request, &data)
                .regions
                .get(i)
                .map(|r| format!("{}/mo", money(r.monthly.net)))
                .unwrap_or_default()
        })
    };
    view! {
        <span class="region-cost" data-testid=format!("region-cost-{i}")>
            {label}
        </span>
    }
}

fn fit_of(req: &DeploymentRequest, data: &SizingData, i: usize) -> Option<RegionFit> {
    fit(req, &data.footprints, Some(&data.prices), &data.unavailable)
        .into_iter()
        .find(|f| f.region == i)
}

/// The sentence under a region's bars.
pub fn fit_sentence(f: &RegionFit) -> String {
    let nodes = format!("{} node{}", f.nodes, if f.nodes == 1 { "" } else { "s" });
    match (f.status, f.largest_fits) {
        (CheckStatus::Pass, _) => format!("The selected components fit on {nodes} with room to spare."),
        (CheckStatus::Warn, _) => format!(
            "The selected components fit on {nodes}, but with little room for updates and jobs: add a worker."
        ),
        (CheckStatus::Fail, false) => {
            "The largest pod of the selection needs a bigger node than any in this region.".to_string()
        }
        (CheckStatus::Fail, true) => format!(
            "The selected components do not fit on {nodes}: the Sovereign would not come up. Add workers."
        ),
    }
}

/// A region's fit: CPU and memory requests against what its nodes offer, and the proposal.
#[component]
pub fn FitBars(data: Arc<SizingData>, i: usize) -> impl IntoView {
    let state = use_wizard();
    let f = Memo::new(move |_| state.draft.with(|d| fit_of(&d.request, &data, i)));
    let apply = move |_| {
        let Some(p) = f.with_untracked(|f| f.as_ref().and_then(|f| f.proposal.clone())) else {
            return;
        };
        state.edit(&format!("regions[{i}].workerCount"), move |d| {
            d.regions_customised = true;
            if let Some(r) = d.request.regions.get_mut(i) {
                r.worker_count = p.worker_count;
                r.worker_size = p.worker_size;
            }
        });
    };
    move || {
        f.get().map(|f| {
            let status = match f.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Warn => "warn",
                CheckStatus::Fail => "fail",
            };
            let bar = |what: &'static str, used: u64, of: u64, text: String| {
                let p = percent(
                    crate::preflight::Resources::new(used, 0),
                    crate::preflight::Resources::new(of, 0),
                );
                let level = if p > 100 {
                    "fit-row over"
                } else if p > crate::preflight::capacity::COMFORT_PERCENT {
                    "fit-row tight"
                } else {
                    "fit-row"
                };
                view! {
                    <div class=level>
                        <span class="fit-what">{what}</span>
                        <span class="fit-bar" aria-hidden="true">
                            <span class="fit-used" style=format!("width:{}%", p.min(100))></span>
                        </span>
                        <span class="fit-text">{format!("{text} ({p} %)")}</span>
                    </div>
                }
            };
            let cpu = bar(
                "CPU",
                f.demand.cpu_millis,
                f.allocatable.cpu_millis,
                format!(
                    "{} of {} requested",
                    cpu_label(f.demand.cpu_millis),
                    cpu_label(f.allocatable.cpu_millis)
                ),
            );
            let mem = bar(
                "Memory",
                f.demand.memory_bytes,
                f.allocatable.memory_bytes,
                format!(
                    "{} of {} requested",
                    memory_label(f.demand.memory_bytes),
                    memory_label(f.allocatable.memory_bytes),
                ),
            );
            let proposal = f.proposal.clone().map(|p| {
                view! {
                    <p class="fit-proposal">
                        <span data-testid=format!(
                            "fit-proposal-{i}",
                        )>
                            {format!(
                                "Smallest that fits: {} × {} worker{} ({} per month for the region's nodes).",
                                p.worker_count,
                                p.worker_size,
                                if p.worker_count == 1 { "" } else { "s" },
                                money(p.monthly_net),
                            )}
                        </span>
                        " "
                        <button
                            type="button"
                            class="btn btn-ghost"
                            data-testid=format!("fit-apply-{i}")
                            on:click=apply
                        >
                            {format!("Use {} × {}", p.worker_count, p.worker_size)}
                        </button>
                    </p>
                }
            });
            view! {
                <div class=format!("fit fit-{status}") data-testid=format!("fit-{i}") data-status=status>
                    {cpu}
                    {mem}
                    <p class="fit-sentence" data-testid=format!("fit-sentence-{i}")>
                        {fit_sentence(&f)}
                    </p>
                    {proposal}
                </div>
            }
        })
    }
}
