//! The wizard as a lazily loaded route: with `cargo leptos build --split` its steps, their validation and the
//! component grid are a wasm chunk fetched when the wizard is first shown, not part of the app shell
//! (DEVELOPERS.md → "How we keep the bundle small").

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::WizardPage;

/// `/sovereign/wizard` and `/sovereign/wizard/<step>`.
pub struct WizardRoute;

#[lazy_route]
impl LazyRoute for WizardRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <WizardPage/> }.into_any()
    }
}
