//! The frame of a wide table.

use leptos::prelude::*;

/// A table's frame that scrolls sideways on a phone. Whatever scrolls must be reachable by keyboard, so the
/// frame is a focusable region named `label` (WCAG 2.1.1; axe's `scrollable-region-focusable`). `card` draws
/// it as a card.
#[component]
pub fn TableRegion(label: &'static str, #[prop(optional)] card: bool, children: Children) -> impl IntoView {
    view! {
        <div class="table-wrap" class:card=card tabindex="0" role="region" aria-label=label>
            {children()}
        </div>
    }
}
