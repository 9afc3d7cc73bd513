//! The 7-step provisioning wizard: Organisation → Topology → Provider → Credentials → Components → Domain →
//! Review, each at `/sovereign/wizard/<step>`. One [`state::WizardState`] (context) holds the draft, the
//! in-memory secrets and the field errors; every rule comes from `deployments::validate` (the steps: `step`).

pub mod api;
mod browser;
mod components;
mod credentials;
mod domain;
mod fields;
pub mod form;
mod ids;
mod later;
mod org;
mod preflight;
mod provider;
mod review;
pub mod routes;
mod shell;
mod sizing;
pub mod state;
pub mod step;
mod topology;
pub mod types;

pub use shell::{WizardPage, preload_step_of};
pub use types::*;
