//! Step 3 — Provider: one card per region slot (provider, region, control-plane size, workers), the
//! HQ-based pre-selection, each region's fit of the selected components (with the cheapest worker set that
//! fits), Hetzner's price list and the cost estimate (`sizing`). Only Hetzner is offered as a
//! choice; the other providers are listed, disabled, with the reason.

use std::sync::Arc;

use leptos::prelude::*;

use super::fields::{FieldMessage, aria_invalid_dyn, live};
use super::ids::error_id;
use super::sizing::{CostSummary, FitBars, RegionCost, WithSizing, money};
use super::state::use_wizard;
use super::types::{control_plane_nodes, region_for_provider, region_hint};
use crate::cloud::{AIRGAP_SLOT_LABEL, HETZNER_SIZES, Provider};
use crate::deployments::MAX_WORKERS;
use crate::preflight::{PriceSource, SizingData};

#[component]
pub fn ProviderStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let note = move || {
        d.with(|d| {
            (!d.regions_customised)
                .then(|| region_hint(&d.request.org.headquarters).note)
                .flatten()
        })
    };
    view! {
        <p class="hint-banner" data-testid="hq-hint" hidden=move || note().is_none()>
            {note}
        </p>
        <FieldMessage field="regions" />
        <WithSizing children=|data| view! { <Regions data /> } />
    }
}

/// The region cards with their fit, the cost of the whole request and the price list.
#[component]
fn Regions(data: Arc<SizingData>) -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let count = Memo::new(move |_| d.with(|d| d.request.regions.len()));
    let cards = data.clone();
    let table = data.clone();
    view! {
        <div class="region-grid" style=move || format!("--cols:{}", count.get().clamp(1, 3))>
            {move || {
                (0..count.get()).map(|i| view! { <RegionCard i data=cards.clone() /> }).collect_view()
            }}
        </div>
        <CostSummary data testid="cost-total" />
        <SkuTable data=table />
    }
}

/// Hetzner's node sizes with their prices in the locations this request uses (net, as Hetzner lists them).
#[component]
fn SkuTable(data: Arc<SizingData>) -> impl IntoView {
    let state = use_wizard();
    let locations = Memo::new(move |_| {
        state.draft.with(|d| {
            let mut l: Vec<String> = Vec::new();
            for r in &d.request.regions {
                if !l.contains(&r.cloud_region) {
                    l.push(r.cloud_region.clone());
                }
            }
            l
        })
    });
    let source = data.prices.source;
    view! {
        <details class="sku-table">
            <summary>"Hetzner Cloud node sizes and prices"</summary>
            <div class="sku-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Size"</th>
                            <th scope="col">"vCPU"</th>
                            <th scope="col">"RAM"</th>
                            <th scope="col">"Disk"</th>
                            <th scope="col">"Type"</th>
                            {move || {
                                locations
                                    .get()
                                    .into_iter()
                                    .map(|l| {
                                        view! { <th scope="col">{format!("{l}: €/hour · €/month")}</th> }
                                    })
                                    .collect_view()
                            }}
                        </tr>
                    </thead>
                    <tbody>
                        {HETZNER_SIZES
                            .iter()
                            .map(|s| {
                                let data = data.clone();
                                view! {
                                    <tr>
                                        <td>
                                            <code>{s.id}</code>
                                            {s.recommended.then_some(" ★")}
                                        </td>
                                        <td>{s.vcpu}</td>
                                        <td>{format!("{} GB", s.ram_gb)}</td>
                                        <td>{s.disk.label()}</td>
                                        <td>{s.category}</td>
                                        {move || {
                                            locations
                                                .get()
                                                .into_iter()
                                                .map(|l| {
                                                    let sold = !data
                                                        .unavailable
                                                        .iter()
                                                        .any(|(t, loc)| t == s.id && loc == &l);
                                                    let text = match data.prices.server(s.id, &l) {
                                                        Some(p) if sold => {
                                                            format!(
                                                                "€{} · {}",
                                                                p.hourly.net.fixed(4),
                                                                money(p.monthly.net),
                                                            )
                                                        }
                                                        _ => "not sold here".to_string(),
                                                    };
                                                    view! { <td>{text}</td> }
                                                })
                                                .collect_view()
                                        }}
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="field-hint">
                {if source == PriceSource::BuiltIn {
                    "Catalyst's built-in list prices in EUR without VAT (Hetzner's own are fetched with your token at the Review step). ★ recommended."
                } else {
                    "Hetzner's prices in EUR without VAT; Hetzner bills by the hour up to the monthly price. ★ recommended."
                }}
            </p>
        </details>
    }
}

#[component]
fn RegionCard(i: usize, data: Arc<SizingData>) -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let region = move || d.with(|d| d.request.regions.get(i).cloned());
    let provider = Memo::new(move |_| d.with(|d| d.request.regions.get(i).map(|r| r.provider)));
    let cloud_region = Memo::new(move |_| {
        d.with(|d| {
            d.request
                .regions
                .get(i)
                .map(|r| r.cloud_region.clone())
                .unwrap_or_default()
        })
    });
    let has_workers =
        Memo::new(move |_| d.with(|d| d.request.regions.get(i).is_some_and(|r| r.worker_count > 0)));
    let workers = Memo::new(move |_| {
        d.with(|d| {
            d.request
                .regions
                .get(i)
                .map(|r| r.worker_count)
                .unwrap_or(0)
                .to_string()
        })
    });
    let ha = move || d.with(|d| d.request.ha_enabled);
    let f = move |name: &str| format!("regions[{i}].{name}");
    let label = move || {
        d.with(|d| {
            let r = d.request.regions.get(i);
            if r.is_some_and(|r| r.airgap) {
                AIRGAP_SLOT_LABEL.to_string()
            } else {
                d.request
                    .topology
                    .slot_labels()
                    .get(i)
                    .copied()
                    .unwrap_or("Region")
                    .to_string()
            }
        })
    };
    let edit = move |field: String, f: Box<dyn FnOnce(&mut crate::deployments::RegionSpec)>| {
        state.edit(&field, move |d| {
            d.regions_customised = true;
            if let Some(r) = d.request.regions.get_mut(i) {
                f(r);
            }
        })
    };
    let configured = move || {
        region().is_some_and(|r| {
            r.provider.region(&r.cloud_region).is_some()
                && r.provider.size(&r.control_plane_size).is_some()
                && (r.worker_count == 0 || r.provider.size(&r.worker_size).is_some())
                && r.provider.is_provisionable()
        })
    };
    let (f_provider, f_region, f_cp, f_wc, f_ws) = (
        f("provider"),
        f("cloudRegion"),
        f("controlPlaneSize"),
        f("workerCount"),
        f("workerSize"),
    );
    let ids = [&f_provider, &f_region, &f_cp, &f_wc, &f_ws].map(|x| super::ids::field_id(x));
    let is_airgap = move || region().is_some_and(|r| r.airgap);
    let fit_data = data.clone();
    view! {
        <section
            class="region-card"
            class:is-airgap=is_airgap
            data-testid=format!("region-{i}")
            aria-label=label
        >
            <header class="region-head">
                <span class="region-check" aria-hidden="true" class:ok=configured>
                    {move || if configured() { "✓" } else { "○" }}
                </span>
                <h2 class="region-title">{label}</h2>
                <RegionCost data=data.clone() i />
            </header>
            <div class="field">
                <label class="label" for=ids[0].clone()>
                    "Cloud provider"
                </label>
                <select
                    id=ids[0].clone()
                    class="input"
                    name=f_provider.clone()
                    prop:value=live(move || provider.get().map(|p| p.id()).unwrap_or_default())
                    aria-invalid=aria_invalid_dyn(f_provider.clone())
                    aria-describedby=error_id(&f_provider)
                    on:change={
                        let field = f_provider.clone();
                        move |ev| {
                            if let Some(p) = Provider::parse(&event_target_value(&ev))
                                .filter(|p| p.is_provisionable())
                            {
                                edit(field.clone(), Box::new(move |r| *r = region_for_provider(p, r.airgap)));
                            }
                        }
                    }
                >
                    {Provider::ALL
                        .into_iter()
                        .map(|p| {
                            let text = match p.unsupported_reason() {
                                Some(reason) => format!("{} — {reason}", p.label()),
                                None => p.label().to_string(),
                            };
                            view! {
                                <option
                                    value=p.id()
                                    disabled=!p.is_provisionable()
                                    selected=move || region().is_some_and(|r| r.provider == p)
                                >
                                    {text}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <FieldMessage field=f_provider.clone() />
            </div>
            <div class="field">
                <label class="label" for=ids[1].clone()>
                    "Region"
                </label>
                <select
                    id=ids[1].clone()
                    class="input"
                    name=f_region.clone()
                    prop:value=live(move || cloud_region.get())
                    aria-invalid=aria_invalid_dyn(f_region.clone())
                    aria-describedby=error_id(&f_region)
                    on:change={
                        let field = f_region.clone();
                        move |ev| {
                            let v = event_target_value(&ev);
                            edit(field.clone(), Box::new(move |r| r.cloud_region = v));
                        }
                    }
                >
                    {move || {
                        provider
                            .get()
                            .map(|p| {
                                p.regions()
                                    .iter()
                                    .map(|reg| {
                                        let id = reg.id;
                                        view! {
                                            <option
                                                value=id
                                                selected=move || {
                                                    region().is_some_and(|r| r.cloud_region == id)
                                                }
                                            >
                                                {format!("{} · {}, {}", reg.id, reg.city, reg.country)}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </select>
                <FieldMessage field=f_region.clone() />
            </div>
            <SizeSelect
                i
                id=ids[2].clone()
                field=f_cp.clone()
                label="Control-plane size"
                worker=false
                data=data.clone()
            />
            <div class="field">
                <label class="label" for=ids[3].clone()>
                    "Worker nodes"
                </label>
                <div class="stepper-input">
                    <button
                        type="button"
                        class="btn-icon"
                        aria-label="One worker fewer"
                        on:click={
                            let field = f_wc.clone();
                            move |_| edit(
                                field.clone(),
                                Box::new(|r| {
                                    r.worker_count = r.worker_count.saturating_sub(1);
                                    if r.worker_count == 0 {
                                        r.worker_size.clear();
                                    }
                                }),
                            )
                        }
                    >
                        "−"
                    </button>
                    <input
                        id=ids[3].clone()
                        class="input input-number"
                        type="number"
                        inputmode="numeric"
                        min="0"
                        max=MAX_WORKERS.to_string()
                        name=f_wc.clone()
                        value=move || workers.get()
                        prop:value=live(move || workers.get())
                        aria-invalid=aria_invalid_dyn(f_wc.clone())
                        aria-describedby=error_id(&f_wc)
                        on:input={
                            let field = f_wc.clone();
                            move |ev| {
                                let n: u32 = event_target_value(&ev).trim().parse().unwrap_or(0);
                                edit(
                                    field.clone(),
                                    Box::new(move |r| {
                                        r.worker_count = n;
                                        if n > 0 && r.worker_size.is_empty() {
                                            r.worker_size = r.control_plane_size.clone();
                                        }
                                        if n == 0 {
                                            r.worker_size.clear();
                                        }
                                    }),
                                )
                            }
                        }
                    />
                    <button
                        type="button"
                        class="btn-icon"
                        aria-label="One worker more"
                        on:click={
                            let field = f_wc.clone();
                            move |_| edit(
                                field.clone(),
                                Box::new(|r| {
                                    r.worker_count = (r.worker_count + 1).min(MAX_WORKERS);
                                    if r.worker_size.is_empty() {
                                        r.worker_size = r.control_plane_size.clone();
                                    }
                                }),
                            )
                        }
                    >
                        "+"
                    </button>
                </div>
                <FieldMessage field=f_wc.clone() />
            </div>
            {move || {
                if has_workers.get() {
                    view! {
                        <SizeSelect
                            i
                            id=ids[4].clone()
                            field=f_ws.clone()
                            label="Worker size"
                            worker=true
                            data=data.clone()
                        />
                    }
                        .into_any()
                } else {
                    view! {
                        <p class="field-hint solo-note">
                            {move || {
                                format!(
                                    "No worker nodes — the control plane ({} node{}) runs all workloads.",
                                    control_plane_nodes(ha()),
                                    if ha() { "s" } else { "" },
                                )
                            }}
                        </p>
                    }
                        .into_any()
                }
            }}
            <FitBars data=fit_data i />
        </section>
    }
}

#[component]
fn SizeSelect(
    i: usize,
    id: String,
    field: String,
    label: &'static str,
    worker: bool,
    data: Arc<SizingData>,
) -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let region = move || d.with(|d| d.request.regions.get(i).cloned());
    let provider = Memo::new(move |_| d.with(|d| d.request.regions.get(i).map(|r| r.provider)));
    let current = move || {
        region()
            .map(|r| {
                if worker {
                    r.worker_size
                } else {
                    r.control_plane_size
                }
            })
            .unwrap_or_default()
    };
    let chosen = Memo::new(move |_| {
        d.with(|d| {
            d.request
                .regions
                .get(i)
                .map(|r| {
                    if worker {
                        r.worker_size.clone()
                    } else {
                        r.control_plane_size.clone()
                    }
                })
                .unwrap_or_default()
        })
    });
    let f2 = field.clone();
    view! {
        <div class="field">
            <label class="label" for=id.clone()>
                {label}
            </label>
            <select
                id=id
                class="input"
                name=field.clone()
                prop:value=live(move || chosen.get())
                aria-invalid=aria_invalid_dyn(field.clone())
                aria-describedby=error_id(&field)
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    state
                        .edit(
                            &f2,
                            move |d| {
                                d.regions_customised = true;
                                if let Some(r) = d.request.regions.get_mut(i) {
                                    if worker { r.worker_size = v } else { r.control_plane_size = v }
                                }
                            },
                        )
                }
            >
                {move || {
                    provider
                        .get()
                        .map(|p| {
                            p.sizes()
                                .iter()
                                .map(|s| {
                                    let id = s.id;
                                    let data = data.clone();
                                    let text = move || {
                                        let loc = region().map(|r| r.cloud_region).unwrap_or_default();
                                        let sold = !data
                                            .unavailable
                                            .iter()
                                            .any(|(t, l)| t == id && *l == loc);
                                        match data.prices.server(id, &loc) {
                                            Some(p) if sold => {
                                                format!(
                                                    "{id} — {} · {}/mo",
                                                    s.spec_label(),
                                                    money(p.monthly.net),
                                                )
                                            }
                                            _ => {
                                                format!(
                                                    "{id} — {} · not sold in {loc} now",
                                                    s.spec_label(),
                                                )
                                            }
                                        }
                                    };
                                    // The monthly price in the region's location, or that it is not sold there now.
                                    view! {
                                        <option value=id selected=move || current() == id>
                                            {text}
                                        </option>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </select>
            <FieldMessage field=field.clone() />
        </div>
    }
}
