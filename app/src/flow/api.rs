//! Server functions of the flow canvas.

use leptos::prelude::*;

use super::Job;
use crate::deployments::types::Deployment;
use crate::error::AppError;

/// What the flow page renders: the deployment (name, status, stream) and its jobs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlowView {
    pub deployment: Deployment,
    pub jobs: Vec<Job>,
}

#[server]
pub async fn load_flow(id: String) -> Result<FlowView, AppError> {
    let actor = crate::deployments::api::actor_for(crate::auth::Action::DeploymentEventsRead)?;
    let port = crate::ports::deployments()?;
    let deployment = port.get(&actor, &id).await?;
    let jobs = port.jobs(&actor, &id).await?;
    Ok(FlowView { deployment, jobs })
}

#[server]
pub async fn list_jobs(id: String) -> Result<Vec<Job>, AppError> {
    let actor = crate::deployments::api::actor_for(crate::auth::Action::DeploymentEventsRead)?;
    crate::ports::deployments()?.jobs(&actor, &id).await
}

#[server]
pub async fn job_tail(id: String, job: String) -> Result<super::JobLog, AppError> {
    let actor = crate::deployments::api::actor_for(crate::auth::Action::DeploymentEventsRead)?;
    crate::ports::deployments()?.job_log(&actor, &id, &job).await
}
