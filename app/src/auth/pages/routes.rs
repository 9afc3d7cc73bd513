//! The auth pages as lazily loaded routes: with `cargo leptos build --split` their code is fetched when one of
//! them is first shown, so the app shell does not carry it. Signing in, signing up and the first-run setup are
//! the `signin` wasm module; the signed-in account and administration pages are part of the `console`
//! module with the marketplace and deployment pages (docs/bundle.md).

use leptos::prelude::*;

use super::{AccountPage, AuditPage, LoginPage, SetupPage, SignupPage, TokensPage, UsersPage};

/// `/sovereign/login`.
pub struct LoginRoute;

in_chunk!(
    signin,
    preload_login_route,
    fn login_route_view(_this: LoginRoute) -> AnyView {
        view! { <LoginPage/> }.into_any()
    }
);

lazy_route_in!(LoginRoute, login_route_view, preload_login_route);

/// `/sovereign/signup`.
pub struct SignupRoute;

in_chunk!(
    signin,
    preload_signup_route,
    fn signup_route_view(_this: SignupRoute) -> AnyView {
        view! { <SignupPage/> }.into_any()
    }
);

lazy_route_in!(SignupRoute, signup_route_view, preload_signup_route);

/// `/sovereign/setup`.
pub struct SetupRoute;

in_chunk!(
    signin,
    preload_setup_route,
    fn setup_route_view(_this: SetupRoute) -> AnyView {
        view! { <SetupPage/> }.into_any()
    }
);

lazy_route_in!(SetupRoute, setup_route_view, preload_setup_route);

/// `/sovereign/users`.
pub struct UsersRoute;

in_chunk!(
    console,
    preload_users_route,
    fn users_route_view(_this: UsersRoute) -> AnyView {
        view! { <UsersPage/> }.into_any()
    }
);

lazy_route_in!(UsersRoute, users_route_view, preload_users_route);

/// `/sovereign/audit`.
pub struct AuditRoute;

in_chunk!(
    console,
    preload_audit_route,
    fn audit_route_view(_this: AuditRoute) -> AnyView {
        view! { <AuditPage/> }.into_any()
    }
);

lazy_route_in!(AuditRoute, audit_route_view, preload_audit_route);

/// `/sovereign/settings/account`.
pub struct AccountRoute;

in_chunk!(
    console,
    preload_account_route,
    fn account_route_view(_this: AccountRoute) -> AnyView {
        view! { <AccountPage/> }.into_any()
    }
);

lazy_route_in!(AccountRoute, account_route_view, preload_account_route);

/// `/sovereign/settings/tokens`.
pub struct TokensRoute;

in_chunk!(
    console,
    preload_tokens_route,
    fn tokens_route_view(_this: TokensRoute) -> AnyView {
        view! { <TokensPage/> }.into_any()
    }
);

lazy_route_in!(TokensRoute, tokens_route_view, preload_tokens_route);
