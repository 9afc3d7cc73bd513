//! Step 2 — Topology: the template, the HA control plane and the AIR-GAP add-on. Changing any of them
//! resets the region cards of step 3 (they follow the new slot list).

use leptos::prelude::*;

use super::fields::live;
use super::state::use_wizard;
use crate::cloud::Topology;

fn bullets(t: Topology) -> [&'static str; 4] {
    match t {
        Topology::Citadel => [
            "2 control-plane regions, 2 data-plane regions",
            "Separate MGMT, DMZ and RTZ clusters",
            "For tier-1 banks and regulated critical infrastructure",
            "Survives the loss of a whole region",
        ],
        Topology::Dual => [
            "2 regions, each running MGMT + DMZ + RTZ",
            "Active-active across regions",
            "The recommended start for enterprises",
            "Room to grow into CITADEL",
        ],
        Topology::Zoned => [
            "2 regions split into DMZ / RTZ / MGMT zones",
            "4 clusters, network zones enforced",
            "Balanced cost for mid-market",
            "Zone isolation without a third region",
        ],
        Topology::Compact => [
            "Primary and secondary region",
            "2 clusters, warm standby",
            "Lowest-cost multi-region setup",
            "Good for first production workloads",
        ],
        Topology::Solo => [
            "1 region, 1 cluster, everything in it",
            "Fastest to launch",
            "For development and proofs of concept",
            "Upgrade to a multi-region template later",
        ],
    }
}

#[component]
pub fn TopologyStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    view! {
        <div class="topology-grid" role="radiogroup" aria-label="Topology" id="f-topology">
            {Topology::ALL
                .into_iter()
                .map(|t| {
                    let checked = Memo::new(move |_| d.with(|d| d.request.topology == t));
                    view! {
                        <label class="option-card" data-testid=format!("topology-{}", t.id())>
                            <input
                                type="radio"
                                class="choice-box"
                                name="topology"
                                value=t.id()
                                checked=move || checked.get()
                                prop:checked=live(move || checked.get())
                                on:change=move |ev| {
                                    if event_target_checked(&ev) {
                                        state
                                            .edit(
                                                "topology",
                                                |d| {
                                                    if d.request.topology != t {
                                                        d.request.topology = t;
                                                        d.reset_regions();
                                                    }
                                                },
                                            )
                                    }
                                }
                            />
                            <span class="option-head">
                                <span class="option-name">{t.name()}</span>
                                <span class="tag">{t.tag()}</span>
                                {(t == Topology::Dual)
                                    .then(|| view! { <span class="tag tag-accent">"recommended"</span> })}
                            </span>
                            <span class="option-facts">
                                {format!(
                                    "{} region(s) · {} cluster(s) · {} vCluster(s)",
                                    t.region_count(),
                                    t.clusters(),
                                    t.vclusters(),
                                )}
                            </span>
                            <ul class="option-bullets">
                                {bullets(t).into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}
                            </ul>
                        </label>
                    }
                })
                .collect_view()}
        </div>
        <div class="toggles">
            <Toggle
                id="f-haEnabled"
                title="High-availability control plane"
                detail="3 control-plane nodes per region (etcd quorum) instead of 1. Triples the control-plane cost."
                on=Memo::new(move |_| d.with(|d| d.request.ha_enabled))
                set=move |v| state.edit("haEnabled", |d| d.request.ha_enabled = v)
            />
            <Toggle
                id="f-airgap"
                title="AIR-GAP add-on: Ransomware Recovery"
                detail="+1 isolated region · +1 cluster · pull-only replication · Specter forensic mode."
                on=Memo::new(move |_| d.with(|d| d.request.airgap))
                set=move |v| {
                    state
                        .edit(
                            "airgap",
                            |d| {
                                d.request.airgap = v;
                                d.reset_regions();
                            },
                        )
                }
            />
        </div>
    }
}

/// A labelled on/off switch: a checkbox (it works before the page hydrates and without JavaScript), shown
/// as a switch and announced as one.
#[component]
fn Toggle(
    id: &'static str,
    title: &'static str,
    detail: &'static str,
    on: Memo<bool>,
    set: impl Fn(bool) + 'static,
) -> impl IntoView {
    let label_id = format!("{id}-label");
    view! {
        <div class="toggle-row">
            <div>
                <p class="toggle-title" id=label_id.clone()>
                    {title}
                </p>
                <p class="field-hint">{detail}</p>
            </div>
            <label class="switch">
                <span class="switch-knob" aria-hidden="true"></span>
                <input
                    type="checkbox"
                    role="switch"
                    class="choice-box"
                    id=id
                    name=&id[2..]
                    data-testid=id
                    aria-labelledby=label_id
                    checked=move || on.get()
                    prop:checked=live(move || on.get())
                    on:change=move |ev| {
                        let want = event_target_checked(&ev);
                        if want != on.get_untracked() {
                            set(want)
                        }
                    }
                />
            </label>
        </div>
    }
}
