//! The flow page as a lazily loaded route in the `console` wasm module (with the other deployment pages).

use leptos::prelude::*;

use super::page::FlowPage;

/// `/sovereign/provision/<id>/flow`.
pub struct FlowRoute;

in_chunk!(
    console,
    preload_flow_route,
    fn flow_route_view(_this: FlowRoute) -> AnyView {
        view! { <FlowPage/> }.into_any()
    }
);

lazy_route_in!(FlowRoute, flow_route_view, preload_flow_route);
