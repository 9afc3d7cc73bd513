//! Catalyst's Leptos app. Compiled twice: with `ssr` into the server, with `hydrate` into the browser,
//! so the domain types and validation in here are the same code on both sides.

// The wizard's views are deeply nested types; the default limit (128) is too low for their layout.
#![recursion_limit = "256"]

pub mod app;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod cloud;
pub mod deployments;
pub mod error;
pub mod home;
pub mod paging;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod routes;
pub mod system;
pub mod theme;
pub mod time;
pub mod ui;
pub mod wizard;

pub use app::{App, shell};
