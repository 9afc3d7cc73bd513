//! Step 5 — Components: the marketplace grid in wizard mode, bound to the draft's selection. The grid and
//! the dependency engine come from the catalog module; until it is part of this build the step lists the
//! selection as it stands.

use leptos::prelude::*;

use super::fields::FieldMessage;
use super::state::use_wizard;

#[component]
pub fn ComponentsStep() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let selected = move || d.with(|d| d.request.components.clone());
    view! {
        <div class="stack" id="f-components" tabindex="-1">
            <p class="lead-sm">
                "The platform building blocks Flux installs on your Sovereign. Mandatory components are always included."
            </p>
            {move || {
                let ids = selected();
                if ids.is_empty() {
                    view! {
                        <p class="card muted" data-testid="components-empty">
                            "The component catalog is not installed in this console build, so the Sovereign gets the mandatory platform only."
                        </p>
                    }.into_any()
                } else {
                    view! {
                        <ul class="chips" data-testid="components-selected">
                            {ids.into_iter().map(|id| view! { <li class="wz-chip">{id}</li> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
            <FieldMessage field="components"/>
        </div>
    }
}
