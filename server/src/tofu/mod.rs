//! OpenTofu: running its commands for a deployment (`runner`) and reading its machine-readable output
//! (`json`).

pub mod json;
pub mod runner;
