//! The auth pages as lazily loaded routes: with `cargo leptos build --split` each page's code is its own wasm
//! chunk, fetched when the page is first shown, so the app shell does not carry it (DEVELOPERS.md → "How we
//! keep the bundle small").

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use super::{AccountPage, AuditPage, LoginPage, SetupPage, SignupPage, TokensPage, UsersPage};

/// `/sovereign/login`.
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage/> }.into_any()
    }
}

/// `/sovereign/signup`.
pub struct SignupRoute;

#[lazy_route]
impl LazyRoute for SignupRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SignupPage/> }.into_any()
    }
}

/// `/sovereign/setup`.
pub struct SetupRoute;

#[lazy_route]
impl LazyRoute for SetupRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <SetupPage/> }.into_any()
    }
}

/// `/sovereign/users`.
pub struct UsersRoute;

#[lazy_route]
impl LazyRoute for UsersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <UsersPage/> }.into_any()
    }
}

/// `/sovereign/audit`.
pub struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AuditPage/> }.into_any()
    }
}

/// `/sovereign/settings/account`.
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <AccountPage/> }.into_any()
    }
}

/// `/sovereign/settings/tokens`.
pub struct TokensRoute;

#[lazy_route]
impl LazyRoute for TokensRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <TokensPage/> }.into_any()
    }
}
