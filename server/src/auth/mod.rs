//! Accounts, sessions and access control on the server side.
//!
//! - [`service`]: the account engine's core ([`AuthService`]: database, options, hasher, limits), first run.
//! - The app's ports, one use case each: [`signin`] (`SessionsPort`: sign-in, sign-out, sign-up, setup, own
//!   password), [`accounts`] (`AccountsPort`: the users page, invitations, disabling), [`orgs`]
//!   (`OrganisationsPort`: organisations, member and platform roles), [`tokens`] (`ApiTokensPort`), [`audit`]
//!   (`AuditPort`, and the one writer of audit entries).
//! - [`callers`]: a session cookie or API token → the acting `Principal` (one path for both), and its cache.
//! - [`middleware`]: resolves the caller of every request and enforces the public list and same-origin rule.
//! - [`public`]: the routes anyone may reach.
//! - [`password`]: Argon2id hashing; [`session`]: the cookie (random tokens and their digests: `crate::crypto`).
//! - [`ratelimit`]: per-address and per-account limits; [`admin`]: the CLI.
//! - Single sign-on: [`oidc`] speaks the protocol, [`sso`] decides which account an identity is.
//! - [`config`]: the options.
//!
//! Authorisation decisions are not made here but in `app::auth::policy`, the one policy module REST
//! handlers and server functions share.

pub mod accounts;
pub mod admin;
pub mod audit;
mod cache;
pub mod callers;
pub mod config;
pub mod middleware;
pub mod oidc;
pub mod orgs;
pub mod password;
pub mod public;
pub mod ratelimit;
pub mod service;
pub mod session;
pub mod signin;
pub mod sso;
pub mod tokens;

pub use service::{Auth, AuthService};

use app::auth::Principal;
use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::error::ApiError;

/// The signed-in caller, for REST handlers: `async fn h(Caller(me): Caller, …)`. The middleware has already
/// refused anonymous requests to protected routes; this extracts what it resolved.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or(ApiError(app::error::AppError::Unauthenticated))
    }
}
