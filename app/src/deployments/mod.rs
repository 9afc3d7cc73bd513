//! Deployments: the provisioning request a wizard run produces, the deployment records, events and state
//! machine the engine keeps, their server functions, and the deployment pages.

pub mod api;
pub mod fields;
pub mod pages;
pub mod request;
pub mod routes;
pub mod status;
pub mod types;
pub mod validate;

pub use api::*;
pub use request::*;
pub use status::*;
pub use types::*;
