//! Step 1 — Organisation: which of the user's organisations the Sovereign belongs to, then the company profile:
//! name, headquarters (drives the provider hint), industry, size, compliance.

use leptos::prelude::*;

use super::fields::{FieldMessage, aria_invalid, live};
use super::ids::error_id;
use super::state::use_wizard;
use super::types::{DEFAULT_HQ, DEFAULT_ORG_NAME};
use crate::deployments::{Compliance, Industry, OrgSize};

#[component]
pub fn OrgStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let name = Memo::new(move |_| d.with(|d| d.request.org.name.clone()));
    let hq = Memo::new(move |_| d.with(|d| d.request.org.headquarters.clone()));
    view! {
        <div class="form-grid">
            <OwnerOrg />
            <div class="field">
                <label class="label" for="f-org-name">
                    "Organisation name "
                    <span class="req">"required"</span>
                    <span class="wz-badge" hidden=move || name.with(|n| n != DEFAULT_ORG_NAME)>
                        "default"
                    </span>
                </label>
                <input
                    id="f-org-name"
                    class="input"
                    name="org.name"
                    autocomplete="organization"
                    maxlength="200"
                    value=name
                    prop:value=live(move || name.get())
                    aria-invalid=aria_invalid("org.name")
                    aria-describedby=error_id("org.name")
                    on:focus=move |ev| select_all(&ev)
                    on:input=move |ev| {
                        state.edit("org.name", |d| d.request.org.name = event_target_value(&ev))
                    }
                />
                <FieldMessage field="org.name" />
            </div>
            <div class="field">
                <label class="label" for="f-org-headquarters">
                    "Headquarters "
                    <span class="muted">"optional"</span>
                    <span class="wz-badge" hidden=move || hq.with(|h| h != DEFAULT_HQ)>
                        "default"
                    </span>
                </label>
                <input
                    id="f-org-headquarters"
                    class="input"
                    name="org.headquarters"
                    autocomplete="address-level2"
                    value=hq
                    prop:value=live(move || hq.get())
                    aria-invalid=aria_invalid("org.headquarters")
                    aria-describedby=error_id("org.headquarters")
                    on:focus=move |ev| select_all(&ev)
                    on:input=move |ev| {
                        let refresh = state.later.with_value(|l| l.map(|l| l.refresh_regions));
                        state
                            .edit(
                                "org.headquarters",
                                |d| {
                                    d.request.org.headquarters = event_target_value(&ev);
                                    if let Some(refresh) = refresh {
                                        refresh(d);
                                    }
                                },
                            )
                    }
                />
                <p class="field-hint">"City and country: used to pre-select the closest cloud regions."</p>
                <FieldMessage field="org.headquarters" />
            </div>
            <div class="field">
                <label class="label" for="f-org-industry">
                    "Industry"
                </label>
                <select
                    id="f-org-industry"
                    class="input"
                    name="org.industry"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(i) = Industry::ALL.into_iter().find(|i| i.label() == v) {
                            state.edit("org.industry", |d| d.request.org.industry = i);
                        }
                    }
                >
                    {Industry::ALL
                        .into_iter()
                        .map(|i| {
                            view! {
                                <option
                                    value=i.label()
                                    selected=move || d.with(|d| d.request.org.industry == i)
                                >
                                    {i.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label class="label" for="f-org-size">
                    "Organisation size"
                </label>
                <select
                    id="f-org-size"
                    class="input"
                    name="org.size"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(s) = OrgSize::ALL.into_iter().find(|s| s.label() == v) {
                            state.edit("org.size", |d| d.request.org.size = s);
                        }
                    }
                >
                    {OrgSize::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.label() selected=move || d.with(|d| d.request.org.size == s)>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <fieldset class="field span-2">
                <legend class="label">"Compliance frameworks " <span class="muted">"optional"</span></legend>
                <div class="chips">
                    {Compliance::ALL
                        .into_iter()
                        .map(|c| {
                            let on = Memo::new(move |_| d.with(|d| d.request.org.compliance.contains(&c)));
                            view! {
                                <label class="wz-chip">
                                    <input
                                        type="checkbox"
                                        class="choice-box"
                                        name="org.compliance"
                                        value=c.label()
                                        checked=move || on.get()
                                        prop:checked=live(move || on.get())
                                        on:change=move |ev| {
                                            let want = event_target_checked(&ev);
                                            state
                                                .edit(
                                                    "org.compliance",
                                                    |d| {
                                                        let list = &mut d.request.org.compliance;
                                                        let at = list.iter().position(|x| *x == c);
                                                        match (want, at) {
                                                            (false, Some(i)) => {
                                                                list.remove(i);
                                                            }
                                                            (true, None) => {
                                                                list.push(c);
                                                                *list = Compliance::canonical(list);
                                                            }
                                                            _ => {}
                                                        }
                                                    },
                                                )
                                        }
                                    />
                                    {c.label()}
                                </label>
                            }
                        })
                        .collect_view()}
                </div>
                <FieldMessage field="org.compliance" />
            </fieldset>
        </div>
    }
}

/// The organisation (of this console) the Sovereign will belong to: a choice when the user may create
/// Sovereigns in several, a plain statement when in one.
#[component]
fn OwnerOrg() -> impl IntoView {
    let state = use_wizard();
    let orgs = state.orgs.get_value();
    let current = move || state.draft.with(|d| d.org_id.clone());
    if orgs.len() == 1 {
        let name = orgs[0].name.clone();
        return view! {
            <div class="field span-2">
                <p class="owner-org" id="f-orgId" tabindex="-1" data-testid="owner-org">
                    <span class="muted">"Created in organisation "</span>
                    <strong>{name}</strong>
                </p>
                <FieldMessage field="orgId" />
            </div>
        }
        .into_any();
    }
    view! {
        <div class="field span-2">
            <label class="label" for="f-orgId">
                "Create in organisation "
                <span class="req">"required"</span>
            </label>
            <select
                id="f-orgId"
                class="input"
                name="orgId"
                data-testid="owner-org"
                aria-invalid=aria_invalid("orgId")
                aria-describedby=error_id("orgId")
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    state.edit("orgId", |d| d.org_id = v);
                }
            >
                {orgs
                    .into_iter()
                    .map(|o| {
                        let id = o.id.clone();
                        view! {
                            <option value=o.id.clone() selected=move || current() == id>
                                {o.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <p class="field-hint">
                "The organisation that owns the Sovereign: its members see and manage it."
            </p>
            <FieldMessage field="orgId" />
        </div>
    }
    .into_any()
}

/// On focus, select the whole value so a default can be typed over.
fn select_all(ev: &leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}
