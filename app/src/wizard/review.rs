//! Step 7 — Review: every section with an Edit link, the cost estimate, the selected components, masked
//! secrets, and the pre-flight (`preflight`). Launch (the footer's button) is enabled once the pre-flight
//! passed; it sends the request, and the server validates it and runs the pre-flight again.

use std::sync::Arc;

use leptos::prelude::*;

use super::components::WithCatalog;
use super::preflight::PreflightPanel;
use super::sizing::{CostSummary, WithSizing, estimate_of};
use super::state::{PreflightState, step_url, use_wizard};
use super::types::{SshKeyOrigin, control_plane_nodes};
use crate::billing::api::credit_quote;
use crate::billing::{CreditQuote, format_money, monthly_cost_cents};
use crate::cloud::AIRGAP_SLOT_LABEL;
use crate::deployments::fields::ssh_fingerprint;
use crate::deployments::{DomainMode, Secret};
use crate::preflight::SizingData;
use crate::wizard::step::Step;

#[component]
fn Section(step: Step, title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card review-section" data-testid=format!("review-{}", step.slug())>
            <header class="review-head">
                <h2 class="card-title">{title}</h2>
                <a class="btn btn-ghost" href=step_url(step) aria-label=format!("Edit {}", step.label())>
                    "Edit"
                </a>
            </header>
            {children()}
        </section>
    }
}

/// Why `q` does not pay the launch (the footer's reason next to the disabled Launch), or `None`.
fn credit_short(q: &CreditQuote) -> Option<String> {
    (!q.covered()).then(|| {
        format!(
            "Launch needs {} more credit: redeem a voucher on the billing page.",
            format_money(q.missing_cents, &q.currency)
        )
    })
}

/// A launch paid by credit: the first month's price (the estimate above, without VAT — what the server
/// charges) against the organisation's balance, or what is missing with the way to add credit. Nothing for an
/// organisation without a credit account (the console does not bill it). Sets [`WizardState::credit_short`],
/// which keeps Launch disabled: the server would refuse the launch with 409 naming the same amount.
#[component]
fn CreditCheck(org_id: String, data: Arc<SizingData>) -> impl IntoView {
    let state = use_wizard();
    let billing = format!("{}?org={}", crate::routes::page("billing"), org_id);
    // The estimate the Review step shows: the pre-flight's (Hetzner's current prices, which it stores for
    // the create path) once it ran, else the one over the prices loaded with the wizard.
    let monthly = Memo::new(move |_| {
        let checked = state.preflight.with(|p| match p {
            PreflightState::Done(r) => r.estimate.as_ref().map(monthly_cost_cents),
            _ => None,
        });
        checked.unwrap_or_else(|| {
            state
                .draft
                .with(|d| monthly_cost_cents(&estimate_of(&d.request, &data)))
        })
    });
    let quote = Resource::new(
        move || (org_id.clone(), monthly.get()),
        |(org, monthly)| credit_quote(org, monthly),
    );
    // Rendered once the page is alive: a resource suspended inside the sizing's suspense does not hydrate
    // (the server and the browser resolve them in different orders), and the quote needs the browser anyway.
    let alive = RwSignal::new(false);
    Effect::new(move |_| alive.set(true));
    move || {
        let billing = billing.clone();
        alive.get().then(move || view! {
            <Suspense>
                {move || {
                    let billing = billing.clone();
                    Suspend::new(async move {
                        let q = quote.await;
                        let short = q.as_ref().ok().and_then(credit_short);
                        if state.credit_short.get_untracked() != short {
                            state.credit_short.set(short);
                        }
                        match q {
                            Ok(q) if q.billed && q.covered() => {
                                view! {
                                    <p class="alert alert-ok review-credit" data-testid="review-credit">
                                        {format!(
                                            "Paid by credit: the first month ({}) comes out of your organisation's {} credit; {} stays after launch.",
                                            format_money(q.monthly_cents, &q.currency),
                                            format_money(q.balance_cents, &q.currency),
                                            format_money(q.balance_cents - q.monthly_cents, &q.currency),
                                        )}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(q) if q.billed => {
                                view! {
                                    <div
                                        class="alert alert-warn review-credit"
                                        role="alert"
                                        data-testid="review-credit"
                                    >
                                        <p>
                                            {format!(
                                                "Your organisation's credit ({}) does not cover the first month ({}): {} is missing.",
                                                format_money(q.balance_cents, &q.currency),
                                                format_money(q.monthly_cents, &q.currency),
                                                format_money(q.missing_cents, &q.currency),
                                            )}
                                        </p>
                                        <p>
                                            <a
                                                href=billing
                                                target="_blank"
                                                rel="noopener"
                                                data-testid="review-credit-redeem"
                                            >
                                                "Redeem a voucher code on the billing page"
                                            </a>
                                            " (opens in a new tab: the token you entered stays here), then check again; or choose smaller nodes or fewer regions."
                                        </p>
                                        <button
                                            type="button"
                                            class="btn btn-secondary"
                                            data-testid="review-credit-recheck"
                                            on:click=move |_| quote.refetch()
                                        >
                                            "Check the credit again"
                                        </button>
                                    </div>
                                }
                                    .into_any()
                            }
                            _ => ().into_any(),
                        }
                    })
                }}
            </Suspense>
        })
    }
}

#[component]
pub fn ReviewStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    // The page shows the request as it is when the step opens (edits happen on the other steps).
    let req = d.with_untracked(|d| d.request.clone());
    let origin = d.with_untracked(|d| d.ssh_key.clone());
    let org_id = d.with_untracked(|d| d.org_id.clone());
    let owner = state.orgs.with_value(|orgs| {
        orgs.iter()
            .find(|o| o.id == org_id)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| "—".into())
    });
    let compliance = if req.org.compliance.is_empty() {
        "None selected".to_string()
    } else {
        req.org
            .compliance
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let slots = req.topology.region_count();
    let ha = req.ha_enabled;
    // The same digest for a generated and a pasted key: `ssh-keygen -lf` prints it too.
    let fingerprint = match &origin {
        SshKeyOrigin::Generated { fingerprint } => Some(fingerprint.clone()),
        _ => ssh_fingerprint(&req.ssh_public_key),
    }
    .unwrap_or_else(|| "— (no valid key yet)".to_string());
    let price_org = org_id.clone();
    let (r_org, r_topo, r_prov, r_cred, r_comp, r_dom) = (
        req.clone(),
        req.clone(),
        req.clone(),
        req.clone(),
        req.clone(),
        req,
    );
    // Without JavaScript there is no token in page memory: Launch posts it from this field (never stored).
    // Once the page is alive the token from the Credentials step is used, and the field goes away.
    let alive = RwSignal::new(false);
    Effect::new(move |_| alive.set(true));
    view! {
        <PreflightPanel />
        <section class="card field launch-token" data-testid="launch-token" hidden=move || alive.get()>
            <label class="label" for="f-secrets-hetznerToken">
                "Hetzner Cloud API token "
                <span class="req">"required to launch"</span>
            </label>
            <input
                id="f-secrets-hetznerToken"
                class="input mono"
                type="password"
                name="secrets.hetznerToken"
                autocomplete="off"
                spellcheck="false"
                aria-describedby="f-secrets-hetznerToken-error"
            />
            <p class="field-hint">
                "Sent once with Launch and never saved: the one you entered on the Credentials step is not kept between pages."
            </p>
            <super::fields::FieldMessage field="secrets.hetznerToken" />
        </section>
        <div class="review-grid">
            <Section step=Step::Org title="Organisation">
                <dl class="facts">
                    <dt>"Belongs to"</dt>
                    <dd data-testid="review-owner-org">{owner}</dd>
                    <dt>"Name"</dt>
                    <dd data-testid="review-org-name">{r_org.org.name.clone()}</dd>
                    <dt>"Industry"</dt>
                    <dd>{r_org.org.industry.label()}</dd>
                    <dt>"Size"</dt>
                    <dd>{r_org.org.size.label()}</dd>
                    <dt>"Headquarters"</dt>
                    <dd>
                        {if r_org.org.headquarters.trim().is_empty() {
                            "—".to_string()
                        } else {
                            r_org.org.headquarters.clone()
                        }}
                    </dd>
                    <dt>"Compliance"</dt>
                    <dd>{compliance}</dd>
                </dl>
            </Section>
            <Section step=Step::Topology title="Topology">
                <dl class="facts">
                    <dt>"Template"</dt>
                    <dd>{format!("{} — {}", r_topo.topology.name(), r_topo.topology.tag())}</dd>
                    <dt>"Regions"</dt>
                    <dd>
                        {format!(
                            "{} ({} topology + {} air-gap)",
                            r_topo.regions.len(),
                            slots,
                            usize::from(r_topo.airgap),
                        )}
                    </dd>
                    <dt>"HA"</dt>
                    <dd>
                        {if ha {
                            "Enabled — 3-node etcd quorum per region"
                        } else {
                            "Disabled — single control-plane node"
                        }}
                    </dd>
                    <dt>"AIR-GAP"</dt>
                    <dd>{if r_topo.airgap { "Enabled — isolated recovery region" } else { "Disabled" }}</dd>
                </dl>
            </Section>
            <Section step=Step::Provider title="Cloud provider per region">
                <WithSizing children=move |data| {
                    view! {
                        <CostSummary data=data.clone() testid="review-cost" preflight=true />
                        <CreditCheck org_id=price_org.clone() data />
                    }
                } />
                <ul class="review-regions">
                    {r_prov
                        .regions
                        .iter()
                        .enumerate()
                        .map(|(i, reg)| {
                            let label = if reg.airgap {
                                AIRGAP_SLOT_LABEL
                            } else {
                                r_prov.topology.slot_labels().get(i).copied().unwrap_or("Region")
                            };
                            let city = reg
                                .provider
                                .region(&reg.cloud_region)
                                .map(|c| format!("{}, {}", c.city, c.country))
                                .unwrap_or_default();
                            let cp = reg
                                .provider
                                .size(&reg.control_plane_size)
                                .map(|s| s.spec_label())
                                .unwrap_or_default();
                            let workers = if reg.worker_count == 0 {
                                "solo — no workers".to_string()
                            } else {
                                format!(
                                    "W×{}: {} {}",
                                    reg.worker_count,
                                    reg.worker_size,
                                    reg
                                        .provider
                                        .size(&reg.worker_size)
                                        .map(|s| s.spec_label())
                                        .unwrap_or_default(),
                                )
                            };
                            view! {
                                <li class="review-region">
                                    <p>
                                        <strong>{label}</strong>
                                        " · "
                                        {reg.provider.label()}
                                    </p>
                                    <p class="muted">{format!("{} · {}", reg.cloud_region, city)}</p>
                                    <p>
                                        {format!(
                                            "CP×{}: {} {}",
                                            control_plane_nodes(ha),
                                            reg.control_plane_size,
                                            cp,
                                        )}
                                    </p>
                                    <p>{workers}</p>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </Section>
            <Section step=Step::Credentials title="Credentials">
                <dl class="facts">
                    <dt>"Hetzner project"</dt>
                    <dd>{r_cred.hetzner_project_id.clone()}</dd>
                    <dt>"API token"</dt>
                    <dd data-testid="review-token">
                        {move || {
                            state
                                .secrets
                                .with(|s| {
                                    if s.hetzner_token.trim().is_empty() {
                                        "Not entered in this session — go back to Credentials (tokens are never saved, so a reload clears it)."
                                            .to_string()
                                    } else {
                                        Secret::new(s.hetzner_token.trim()).masked()
                                    }
                                })
                        }}
                    </dd>
                    <dt>"Token validated"</dt>
                    <dd>
                        {move || {
                            if state.secrets.with(|s| s.token_check.as_ref().is_some_and(|c| c.valid)) {
                                "Yes"
                            } else {
                                "No — validate it on the Credentials step"
                            }
                        }}
                    </dd>
                    <dt>"SSH key"</dt>
                    <dd>
                        {match origin {
                            SshKeyOrigin::Generated { .. } => {
                                "Generated by Catalyst (private key offered once as a download)"
                            }
                            SshKeyOrigin::Pasted => "Pasted by you",
                            SshKeyOrigin::None => "None",
                        }}
                    </dd>
                    <dt>"Fingerprint"</dt>
                    <dd class="mono break-all" data-testid="review-ssh-fingerprint">
                        {fingerprint}
                    </dd>
                </dl>
            </Section>
            <Section step=Step::Components title="Components">
                <WithCatalog children=move |catalog| {
                    let ids = r_comp.components.clone();
                    let chosen: Vec<String> = ids
                        .iter()
                        .filter(|id| !catalog.is_mandatory(id))
                        .cloned()
                        .collect();
                    let always = ids.len() - chosen.len();
                    let names = catalog.names(&chosen);
                    view! {
                        <p data-testid="review-components-count">
                            {format!(
                                "{} selected — {} chosen, {} always included",
                                ids.len(),
                                chosen.len(),
                                always,
                            )}
                        </p>
                        {(!names.is_empty())
                            .then(|| {
                                view! {
                                    <ul class="chips" data-testid="review-component-list">
                                        {names
                                            .into_iter()
                                            .map(|n| view! { <li class="wz-chip">{n}</li> })
                                            .collect_view()}
                                    </ul>
                                }
                            })}
                    }
                } />
            </Section>
            <Section step=Step::Domain title="Domain">
                <dl class="facts">
                    <dt>"Mode"</dt>
                    <dd>{r_dom.domain.mode.label()}</dd>
                    {match r_dom.domain.mode {
                        DomainMode::Pool => {
                            view! {
                                <dt>"Subdomain"</dt>
                                <dd>
                                    {format!("{} . {}", r_dom.domain.subdomain, r_dom.domain.pool_domain)}
                                </dd>
                            }
                                .into_any()
                        }
                        _ => {
                            view! {
                                <dt>"Domain"</dt>
                                <dd>{r_dom.domain.byo_domain.clone()}</dd>
                            }
                                .into_any()
                        }
                    }}
                    <dt>"Admin e-mail"</dt>
                    <dd>{r_dom.admin_email.clone()}</dd>
                    <dt>"Sovereign domain"</dt>
                    <dd class="mono" data-testid="review-fqdn">
                        {r_dom.fqdn()}
                    </dd>
                </dl>
            </Section>
        </div>
    }
}
