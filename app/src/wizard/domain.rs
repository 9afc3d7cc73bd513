//! Step 6 — Domain: a subdomain of a pool domain (checked as the user types: 400 ms debounce, the
//! previous check cancelled) or the customer's own domain with our nameservers; the admin e-mail.

use std::time::Duration;

use futures::future::{AbortHandle, abortable};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api::check_subdomain;
use super::browser;
use super::fields::{FieldMessage, aria_invalid, live};
use super::ids::error_id;
use super::state::{SubdomainState, WizardState, use_wizard};
use super::types::Availability;
use crate::deployments::DomainMode;
use crate::deployments::fields::{is_reserved_subdomain, subdomain_format};

/// Debounced, cancellable availability check of the draft's subdomain.
#[derive(Clone, Copy)]
struct Checker {
    state: WizardState,
    timer: StoredValue<Option<TimeoutHandle>>,
    inflight: StoredValue<Option<AbortHandle>>,
}

impl Checker {
    fn new(state: WizardState) -> Self {
        Self {
            state,
            timer: StoredValue::new(None),
            inflight: StoredValue::new(None),
        }
    }

    fn cancel(&self) {
        if let Some(t) = self.timer.get_value() {
            t.clear();
        }
        // Dropping the request's future aborts the HTTP request.
        if let Some(a) = self.inflight.get_value() {
            a.abort();
        }
    }

    fn schedule(&self) {
        self.cancel();
        let (sub, pool) = self.state.draft.with_untracked(|d| {
            (
                d.request.domain.subdomain.clone(),
                d.request.domain.pool_domain.clone(),
            )
        });
        let s = self.state.subdomain;
        if sub.is_empty() {
            s.set(SubdomainState::Idle);
            return;
        }
        if let Some(m) = subdomain_format(&sub) {
            s.set(SubdomainState::Local(Availability::Invalid, m));
            return;
        }
        if is_reserved_subdomain(&sub) {
            s.set(SubdomainState::Local(
                Availability::Reserved,
                format!("“{sub}” is reserved for the Sovereign's own services; choose another subdomain."),
            ));
            return;
        }
        s.set(SubdomainState::Checking);
        let this = *self;
        let handle = set_timeout_with_handle(
            move || {
                let (fut, abort) = abortable(check_subdomain(pool, sub));
                this.inflight.set_value(Some(abort));
                spawn_local(async move {
                    match fut.await {
                        Ok(Ok(answer)) => s.set(SubdomainState::Answer(answer)),
                        Ok(Err(e)) => s.set(SubdomainState::Failed(format!(
                            "The availability check failed: {e}"
                        ))),
                        Err(_aborted) => {}
                    }
                });
            },
            Duration::from_millis(400),
        )
        .ok();
        self.timer.set_value(handle);
    }
}

#[component]
pub fn DomainStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let checker = Checker::new(state);
    let pools = state.config.with_value(|c| c.validation.pool_domains.clone());
    let nameservers = state.config.with_value(|c| c.nameservers.clone());
    let mode = Memo::new(move |_| d.with(|d| d.request.domain.mode));
    // Coming back to the step (or after a reload): check the saved subdomain again.
    Effect::new(move |first: Option<()>| {
        if first.is_none() && mode.get_untracked() == DomainMode::Pool {
            checker.schedule();
        }
    });
    on_cleanup(move || checker.cancel());
    let fqdn = move || {
        d.with(|d| {
            let f = d.request.fqdn();
            (!f.starts_with('.') && !f.ends_with('.') && !f.is_empty()).then_some(f)
        })
    };
    let set_mode = move |m: DomainMode| {
        state.edit("domain.mode", |d| {
            let dom = &mut d.request.domain;
            if dom.mode != m {
                dom.mode = m;
                match m {
                    DomainMode::Pool => dom.byo_domain.clear(),
                    DomainMode::ByoManual | DomainMode::ByoApi => dom.subdomain.clear(),
                }
                dom.registrar = None;
            }
        });
        checker.schedule();
    };
    let email = Memo::new(move |_| d.with(|d| d.request.admin_email.clone()));
    let no_pools = pools.is_empty();
    view! {
        <div class="stack">
            <div class="mode-grid" role="radiogroup" aria-label="Domain mode" id="f-domain-mode">
                {DomainMode::ALL
                    .into_iter()
                    .map(|m| {
                        let (sub, disabled) = match m {
                            DomainMode::Pool if no_pools => {
                                ("no pool domains configured on this console", true)
                            }
                            DomainMode::Pool => ("recommended for a first deployment", false),
                            DomainMode::ByoManual => ("we show you the records to set", false),
                            DomainMode::ByoApi => ("coming soon — not yet supported", true),
                        };
                        view! {
                            <label class="option-card" data-testid=format!("domain-mode-{}", m.id())>
                                <input
                                    type="radio"
                                    class="choice-box"
                                    name="domain.mode"
                                    value=m.id()
                                    disabled=disabled
                                    checked=move || mode.get() == m
                                    prop:checked=live(move || mode.get() == m)
                                    on:change=move |ev| {
                                        if event_target_checked(&ev) {
                                            set_mode(m)
                                        }
                                    }
                                />
                                <span class="option-name">{m.label()}</span>
                                <span class="field-hint">{sub}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <FieldMessage field="domain.mode" />
            {move || match mode.get() {
                DomainMode::Pool => view! { <PoolDomain pools=pools.clone() checker /> }.into_any(),
                _ => view! { <ByoDomain nameservers=nameservers.clone() /> }.into_any(),
            }}
            <p class="wz-chip wz-chip-accent" data-testid="sovereign-url" hidden=move || fqdn().is_none()>
                {move || fqdn().map(|f| format!("Sovereign domain: {f}"))}
            </p>
            <div class="field">
                <label class="label" for="f-adminEmail">
                    "Admin contact e-mail "
                    <span class="req">"required"</span>
                </label>
                <input
                    id="f-adminEmail"
                    class="input"
                    type="email"
                    autocomplete="email"
                    name="adminEmail"
                    value=email
                    prop:value=live(move || email.get())
                    aria-invalid=aria_invalid("adminEmail")
                    aria-describedby=error_id("adminEmail")
                    on:input=move |ev| {
                        state.edit("adminEmail", |d| d.request.admin_email = event_target_value(&ev))
                    }
                />
                <p class="field-hint">
                    "Used as the Let's Encrypt account e-mail for the Sovereign's certificate."
                </p>
                <FieldMessage field="adminEmail" />
            </div>
        </div>
    }
}

#[component]
fn PoolDomain(pools: Vec<String>, checker: Checker) -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let sub = Memo::new(move |_| d.with(|d| d.request.domain.subdomain.clone()));
    let status = state.subdomain;
    view! {
        <div class="field">
            <label class="label" for="f-domain-subdomain">
                "Subdomain"
            </label>
            <div class="input-row">
                <input
                    id="f-domain-subdomain"
                    class="input mono"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="acme"
                    maxlength="63"
                    name="domain.subdomain"
                    value=sub
                    prop:value=live(move || sub.get())
                    aria-invalid=aria_invalid("domain.subdomain")
                    aria-describedby="subdomain-status f-domain-subdomain-error"
                    on:input=move |ev| {
                        let v: String = event_target_value(&ev)
                            .chars()
                            .filter(|c| !c.is_whitespace())
                            .collect::<String>()
                            .to_lowercase();
                        state.edit("domain.subdomain", |d| d.request.domain.subdomain = v);
                        checker.schedule();
                    }
                />
                <span class="dot-sep" aria-hidden="true">
                    "."
                </span>
                <label class="sr-only" for="f-domain-poolDomain">
                    "Pool domain"
                </label>
                <select
                    id="f-domain-poolDomain"
                    class="input input-auto"
                    name="domain.poolDomain"
                    aria-invalid=aria_invalid("domain.poolDomain")
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        state.edit("domain.poolDomain", |d| d.request.domain.pool_domain = v);
                        checker.schedule();
                    }
                >
                    {pools
                        .into_iter()
                        .map(|p| {
                            let (p1, p2) = (p.clone(), p.clone());
                            view! {
                                <option
                                    value=p1
                                    selected=move || d.with(|d| d.request.domain.pool_domain == p2)
                                >
                                    {p}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <span
                    id="subdomain-status"
                    class="pill"
                    data-testid="subdomain-status"
                    data-state=move || match status.get() {
                        SubdomainState::Idle => "idle".to_string(),
                        SubdomainState::Checking => "checking".to_string(),
                        other => other.availability().map(|a| a.pill().replace(' ', "-")).unwrap_or_default(),
                    }
                    aria-live="polite"
                >
                    {move || match status.get() {
                        SubdomainState::Idle => String::new(),
                        SubdomainState::Checking => "checking…".to_string(),
                        other => other.availability().map(|a| a.pill().to_string()).unwrap_or_default(),
                    }}
                </span>
            </div>
            <FieldMessage field="domain.subdomain" />
            <FieldMessage field="domain.poolDomain" />
            {move || match status.get() {
                SubdomainState::Answer(c) if c.status != Availability::Available => {
                    Some(
                        view! {
                            <div class="error-card" data-testid="subdomain-error">
                                <p class="error-card-title">
                                    {c.status.title()} " " <span class="wz-chip">{c.fqdn.clone()}</span>
                                </p>
                                <p>{c.detail.clone()}</p>
                            </div>
                        }
                            .into_any(),
                    )
                }
                SubdomainState::Local(a, m) if a == Availability::Reserved => {
                    Some(
                        view! {
                            <div class="error-card" data-testid="subdomain-error">
                                <p class="error-card-title">{a.title()}</p>
                                <p>{m}</p>
                            </div>
                        }
                            .into_any(),
                    )
                }
                _ => None,
            }}
            <p class="field-hint">
                "One Let's Encrypt certificate covers every host of the Sovereign, issued automatically once its DNS records point at it."
            </p>
        </div>
    }
}

#[component]
fn ByoDomain(nameservers: Vec<String>) -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let domain = Memo::new(move |_| d.with(|d| d.request.domain.byo_domain.clone()));
    let copied = RwSignal::new(None::<usize>);
    view! {
        <div class="field">
            <label class="label" for="f-domain-byoDomain">
                "Your domain"
            </label>
            <input
                id="f-domain-byoDomain"
                class="input mono"
                autocomplete="off"
                spellcheck="false"
                placeholder="sovereign.example.com"
                name="domain.byoDomain"
                value=domain
                prop:value=live(move || domain.get())
                aria-invalid=aria_invalid("domain.byoDomain")
                aria-describedby=error_id("domain.byoDomain")
                on:input=move |ev| {
                    let v = event_target_value(&ev).trim().to_lowercase();
                    state.edit("domain.byoDomain", |d| d.request.domain.byo_domain = v);
                }
            />
            <FieldMessage field="domain.byoDomain" />
        </div>
        <div class="card">
            <h2 class="card-title">"Set these NS records at your registrar"</h2>
            <div class="sku-wrap">
                <table data-testid="ns-table">
                    <thead>
                        <tr>
                            <th scope="col">"Type"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Value"</th>
                            <th scope="col">
                                <span class="sr-only">"Copy"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {nameservers
                            .into_iter()
                            .enumerate()
                            .map(|(i, ns)| {
                                let ns2 = ns.clone();
                                view! {
                                    <tr>
                                        <td>"NS"</td>
                                        <td class="mono">
                                            {move || {
                                                let v = domain.get();
                                                if v.is_empty() { "your domain".to_string() } else { v }
                                            }}
                                        </td>
                                        <td class="mono">{ns.clone()}</td>
                                        <td>
                                            <button
                                                type="button"
                                                class="btn btn-ghost"
                                                aria-label=format!("Copy {ns}")
                                                on:click=move |_| {
                                                    browser::copy_text(&ns2);
                                                    copied.set(Some(i));
                                                    set_timeout(
                                                        move || copied.set(None),
                                                        Duration::from_millis(1200),
                                                    );
                                                }
                                            >
                                                {move || {
                                                    if copied.get() == Some(i) { "✓ Copied" } else { "Copy" }
                                                }}
                                            </button>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="field-hint">
                "NS changes take 1–4 hours to propagate, up to 48 hours. Certificates are issued once the delegation is visible."
            </p>
        </div>
    }
}
