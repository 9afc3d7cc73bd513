//! The marketplace pages as lazily loaded routes: with `cargo leptos build --split` their code (and the
//! dependency engine and card grid they share) is part of the `console` wasm module (with the deployment and
//! account pages), fetched when one of those pages is first shown, so the app shell does not carry it
//! (docs/bundle.md).

use leptos::prelude::*;

use super::pages::{FamilyPage, MarketplaceLayout, MarketplacePage, ProductPage};

/// `/sovereign/marketplace/*`: the layout (catalog and selection) of the pages below.
pub struct MarketplaceLayoutRoute;

in_chunk!(
    console,
    preload_marketplace_layout_route,
    fn marketplace_layout_route_view(_this: MarketplaceLayoutRoute) -> AnyView {
        view! { <MarketplaceLayout/> }.into_any()
    }
);

lazy_route_in!(
    MarketplaceLayoutRoute,
    marketplace_layout_route_view,
    preload_marketplace_layout_route
);

/// `/sovereign/marketplace`.
pub struct MarketplaceRoute;

in_chunk!(
    console,
    preload_marketplace_route,
    fn marketplace_route_view(_this: MarketplaceRoute) -> AnyView {
        view! { <MarketplacePage/> }.into_any()
    }
);

lazy_route_in!(
    MarketplaceRoute,
    marketplace_route_view,
    preload_marketplace_route
);

/// `/sovereign/marketplace/family/<id>`.
pub struct FamilyRoute;

in_chunk!(
    console,
    preload_family_route,
    fn family_route_view(_this: FamilyRoute) -> AnyView {
        view! { <FamilyPage/> }.into_any()
    }
);

lazy_route_in!(FamilyRoute, family_route_view, preload_family_route);

/// `/sovereign/marketplace/product/<id>`.
pub struct ProductRoute;

in_chunk!(
    console,
    preload_product_route,
    fn product_route_view(_this: ProductRoute) -> AnyView {
        view! { <ProductPage/> }.into_any()
    }
);

lazy_route_in!(ProductRoute, product_route_view, preload_product_route);
