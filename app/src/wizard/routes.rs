//! The wizard as a lazily loaded route: with `cargo leptos build --split` its frame, its validation and the
//! first step are the `wizard` wasm module, fetched when the wizard is first shown, not part of the app shell;
//! the later steps are the `wizard_steps` module (`shell.rs`; docs/bundle.md).

use leptos::prelude::*;

use super::WizardPage;

/// `/sovereign/wizard` and `/sovereign/wizard/<step>`.
pub struct WizardRoute;

in_chunk!(
    wizard,
    preload_wizard_route,
    fn wizard_view(_this: WizardRoute) -> AnyView {
        view! { <WizardPage/> }.into_any()
    }
);

lazy_route_in!(WizardRoute, wizard_view, preload_wizard_route);
