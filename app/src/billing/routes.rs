//! The billing page as a lazily loaded route, in the `console` module with the other signed-in pages.

use leptos::prelude::*;

use super::pages::BillingPage;

/// `/sovereign/billing`.
pub struct BillingRoute;

in_chunk!(
    console,
    preload_billing_route,
    fn billing_route_view(_this: BillingRoute) -> AnyView {
        view! { <BillingPage/> }.into_any()
    }
);

lazy_route_in!(BillingRoute, billing_route_view, preload_billing_route);
