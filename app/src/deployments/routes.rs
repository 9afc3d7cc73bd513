//! The deployment pages as lazily loaded routes: with `cargo leptos build --split` the list and the live view
//! (event stream, flow canvas, timeline) are wasm chunks of their own (DEVELOPERS.md → "How we keep the bundle
//! small").

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::pages::{DeploymentPage, DeploymentsPage};

/// `/sovereign/deployments`.
pub struct DeploymentsRoute;

#[lazy_route]
impl LazyRoute for DeploymentsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <DeploymentsPage/> }.into_any()
    }
}

/// `/sovereign/provision/<id>`.
pub struct DeploymentRoute;

#[lazy_route]
impl LazyRoute for DeploymentRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <DeploymentPage/> }.into_any()
    }
}
