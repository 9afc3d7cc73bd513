//! Catalyst's Leptos app. Compiled twice: with `ssr` into the server, with `hydrate` into the browser,
//! so the domain types and validation in here are the same code on both sides.

// Release builds keep every view's full type (debug builds erase them); the wizard's and the marketplace
// grid's views nest deeper than the default limit of 128.
#![recursion_limit = "256"]

#[macro_use]
pub mod split;

pub mod app;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod catalog;
pub mod cloud;
pub mod deployments;
pub mod dns;
pub mod error;
pub mod flow;
pub mod home;
pub mod paging;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod preflight;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server_fns;
pub mod system;
pub mod theme;
pub mod time;
pub mod ui;
pub mod vouchers;
pub mod wire;
pub mod wizard;

pub use app::{App, shell};
