//! Server functions of the pre-flight, for the wizard's steps 2–7 (never step 1's code): the Review step's
//! run and the Provider step's sizing data. Thin: the caller's permission, then the port.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::types::{PreflightReport, SizingData};
use crate::deployments::CreateDeployment;
use crate::error::AppError;

/// Runs the pre-flight of `create` in organisation `org_id`: the caller must be allowed to create
/// deployments there. The token in `create` is used for Hetzner's answers only and kept nowhere.
#[server(input = Json, output = Json, endpoint = "wizard/preflight")]
pub async fn run_preflight(org_id: String, create: CreateDeployment) -> Result<PreflightReport, AppError> {
    crate::auth::require(crate::auth::Action::DeploymentCreate, Some(&org_id))?;
    crate::ports::preflight()?.run(&create).await
}

/// Every component's footprint and the last known Hetzner prices, for the Provider step's fit bar and cost.
#[server(input = Json, output = Json, endpoint = "wizard/sizing")]
pub async fn sizing() -> Result<SizingData, AppError> {
    crate::auth::require(crate::auth::Action::WizardUse, None)?;
    crate::ports::preflight()?.sizing().await
}
