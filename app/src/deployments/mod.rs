//! Deployments: the provisioning request a wizard run produces, and (later) the deployment records, events
//! and state machine the engine keeps.

pub mod request;
pub mod validate;

pub use request::*;
