//! Accounts, sessions and access control on the server side.
//!
//! - [`service`]: the account engine (`AuthPort`): sign-in, sessions, sign-up, setup, roles, API tokens.
//! - [`middleware`]: resolves the caller of every request and enforces the public list and same-origin rule.
//! - [`public`]: the routes anyone may reach.
//! - [`password`]: Argon2id hashing; [`secrets`]: random tokens and their digests; [`session`]: the cookie.
//! - [`ratelimit`]: per-address and per-account limits; [`oidc`]: single sign-on; [`admin`]: the CLI.
//! - [`config`]: the options.
//!
//! Authorisation decisions are not made here but in `app::auth::policy`, the one policy module REST
//! handlers and server functions share.

pub mod admin;
pub mod config;
pub mod middleware;
pub mod oidc;
pub mod password;
pub mod public;
pub mod ratelimit;
pub mod secrets;
pub mod service;
pub mod session;

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
