//! The marketplace pages as lazily loaded routes: with `cargo leptos build --split` their code (and the
//! dependency engine and card grid they share) is fetched when a marketplace page is first shown, so the app
//! shell does not carry it (DEVELOPERS.md → "How we keep the bundle small").

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::pages::{FamilyPage, MarketplaceLayout, MarketplacePage, ProductPage};

/// `/sovereign/marketplace/*`: the layout (catalog and selection) of the pages below.
pub struct MarketplaceLayoutRoute;

#[lazy_route]
impl LazyRoute for MarketplaceLayoutRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <MarketplaceLayout/> }.into_any()
    }
}

/// `/sovereign/marketplace`.
pub struct MarketplaceRoute;

#[lazy_route]
impl LazyRoute for MarketplaceRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <MarketplacePage/> }.into_any()
    }
}

/// `/sovereign/marketplace/family/<id>`.
pub struct FamilyRoute;

#[lazy_route]
impl LazyRoute for FamilyRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <FamilyPage/> }.into_any()
    }
}

/// `/sovereign/marketplace/product/<id>`.
pub struct ProductRoute;

#[lazy_route]
impl LazyRoute for ProductRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <ProductPage/> }.into_any()
    }
}
