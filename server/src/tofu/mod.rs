//! OpenTofu: the inputs Catalyst hands the `infra/hetzner` module (`tfvars`: variables file and work
//! directory), running its commands for a deployment (`runner`) and reading its machine-readable output
//! (`json`).

pub mod json;
pub mod runner;
pub mod tfvars;

pub use tfvars::{
    OwnRepo, TFVARS_FILE, TfContext, TfRegion, TfVars, prepare_workdir, region_keys, write_tfvars,
};
