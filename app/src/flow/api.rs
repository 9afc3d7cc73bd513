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

/// What the job page renders: the run (for the neighbourhood and the causes) and the job with its log tail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobView {
    pub deployment: Deployment,
    pub jobs: Vec<Job>,
    pub log: super::JobLog,
}

#[server]
pub async fn load_job(id: String, job: String) -> Result<JobView, AppError> {
    let actor = crate::deployments::api::actor_for(crate::auth::Action::DeploymentEventsRead)?;
    let port = crate::ports::deployments()?;
    let deployment = port.get(&actor, &id).await?;
    let log = port.job_log(&actor, &id, &job).await?;
    let jobs = port.jobs(&actor, &id).await?;
    Ok(JobView {
        deployment,
        jobs,
        log,
    })
}
