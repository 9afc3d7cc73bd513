//! OpenTofu: the inputs Catalyst hands the `infra/hetzner` module (`tfvars`: variables file and work
//! directory).

pub mod tfvars;

pub use tfvars::{TFVARS_FILE, TfContext, TfRegion, TfVars, prepare_workdir, region_keys, write_tfvars};
