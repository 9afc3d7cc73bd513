//! The backend behind the app's ports. Nothing here depends on Leptos; `http::leptos_context` hands these
//! implementations to server functions as `Arc<dyn …Port>`.

pub mod catalog;
pub mod deployments;
pub mod system;
pub mod wizard;
