//! The voucher pages as lazily loaded routes: the administrators' pages in the `console` module, the public
//! landing page with the sign-in pages it leads to (`signin`; DEVELOPERS.md → "How we keep the bundle
//! small").

use leptos::prelude::*;

use super::pages::{RedeemPage, VoucherPage, VouchersPage};

/// `/sovereign/vouchers`.
pub struct VouchersRoute;

in_chunk!(
    console,
    preload_vouchers_route,
    fn vouchers_route_view(_this: VouchersRoute) -> AnyView {
        view! { <VouchersPage/> }.into_any()
    }
);

lazy_route_in!(VouchersRoute, vouchers_route_view, preload_vouchers_route);

/// `/sovereign/vouchers/:code`.
pub struct VoucherRoute;

in_chunk!(
    console,
    preload_voucher_route,
    fn voucher_route_view(_this: VoucherRoute) -> AnyView {
        view! { <VoucherPage/> }.into_any()
    }
);

lazy_route_in!(VoucherRoute, voucher_route_view, preload_voucher_route);

/// `/redeem` (outside `/sovereign`).
pub struct RedeemRoute;

in_chunk!(
    signin,
    preload_redeem_route,
    fn redeem_route_view(_this: RedeemRoute) -> AnyView {
        view! { <RedeemPage/> }.into_any()
    }
);

lazy_route_in!(RedeemRoute, redeem_route_view, preload_redeem_route);
