//! Step 3 — Provider: one card per region slot (provider, region, control-plane size, workers), the
//! HQ-based pre-selection, the Hetzner price list and the cost estimate. Only Hetzner is offered as a
//! choice; the other providers are listed, disabled, with the reason.

use leptos::prelude::*;

use super::fields::{FieldMessage, aria_invalid_dyn};
use super::ids::error_id;
use super::state::use_wizard;
use super::types::{
    control_plane_nodes, cost_label, region_cost_hour, region_for_provider, region_hint, total_cost_hour,
};
use crate::cloud::{AIRGAP_SLOT_LABEL, HETZNER_SIZES, Provider};
use crate::deployments::MAX_WORKERS;

#[component]
pub fn ProviderStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let count = Memo::new(move |_| d.with(|d| d.request.regions.len()));
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
        <div class="region-grid" style=move || format!("--cols:{}", count.get().clamp(1, 3))>
            {move || (0..count.get()).map(|i| view! { <RegionCard i /> }).collect_view()}
        </div>
        <p class="cost-total" data-testid="cost-total">
            {move || {
                d.with(|d| {
                    format!(
                        "Estimated infrastructure cost across {} region(s): {}",
                        d.request.regions.len(),
                        cost_label(total_cost_hour(&d.request)),
                    )
                })
            }}
        </p>
        <SkuTable />
    }
}

/// The Hetzner price list (€ per hour and per month).
#[component]
fn SkuTable() -> impl IntoView {
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
                            <th scope="col">"€/hour"</th>
                            <th scope="col">"€/month"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {HETZNER_SIZES
                            .iter()
                            .map(|s| {
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
                                        <td>{format!("€{:.4}", s.price_hour)}</td>
                                        <td>{format!("€{:.2}", s.price_month())}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="field-hint">"Prices in EUR excluding VAT; a month is 730 hours. ★ recommended."</p>
        </details>
    }
}

#[component]
fn RegionCard(i: usize) -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let region = move || d.with(|d| d.request.regions.get(i).cloned());
    let provider = Memo::new(move |_| d.with(|d| d.request.regions.get(i).map(|r| r.provider)));
    let has_workers =
        Memo::new(move |_| d.with(|d| d.request.regions.get(i).is_some_and(|r| r.worker_count > 0)));
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
                <span class="region-cost" data-testid=format!("region-cost-{i}")>
                    {move || region().map(|r| format!("€{:.3}/hr", region_cost_hour(&r, ha())))}
                </span>
            </header>
            <div class="field">
                <label class="label" for=ids[0].clone()>
                    "Cloud provider"
                </label>
                <select
                    id=ids[0].clone()
                    class="input"
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
            <SizeSelect i id=ids[2].clone() field=f_cp.clone() label="Control-plane size" worker=false />
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
                        value=move || region().map(|r| r.worker_count).unwrap_or(0).to_string()
                        prop:value=move || region().map(|r| r.worker_count).unwrap_or(0).to_string()
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
                        <SizeSelect i id=ids[4].clone() field=f_ws.clone() label="Worker size" worker=true />
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
        </section>
    }
}

#[component]
fn SizeSelect(i: usize, id: String, field: String, label: &'static str, worker: bool) -> impl IntoView {
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
    let f2 = field.clone();
    view! {
        <div class="field">
            <label class="label" for=id.clone()>
                {label}
            </label>
            <select
                id=id
                class="input"
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
                                    view! {
                                        <option value=id selected=move || current() == id>
                                            {format!("{} — {}", s.id, s.sublabel())}
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
