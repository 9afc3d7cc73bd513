//! The deployment pages as lazily loaded routes: with `cargo leptos build --split` the list and the live view
//! (event stream, flow canvas, timeline) are part of the `console` wasm module (with the marketplace and account
//! pages), fetched when one of those pages is first shown (docs/bundle.md).

use leptos::prelude::*;

use super::pages::{DeploymentPage, DeploymentsPage};

/// `/sovereign/deployments`.
pub struct DeploymentsRoute;

in_chunk!(
    console,
    preload_deployments_route,
    fn deployments_route_view(_this: DeploymentsRoute) -> AnyView {
        view! { <DeploymentsPage/> }.into_any()
    }
);

lazy_route_in!(
    DeploymentsRoute,
    deployments_route_view,
    preload_deployments_route
);

/// `/sovereign/provision/<id>`.
pub struct DeploymentRoute;

in_chunk!(
    console,
    preload_deployment_route,
    fn deployment_route_view(_this: DeploymentRoute) -> AnyView {
        view! { <DeploymentPage/> }.into_any()
    }
);

lazy_route_in!(DeploymentRoute, deployment_route_view, preload_deployment_route);
