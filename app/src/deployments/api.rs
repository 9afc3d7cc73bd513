//! Server functions of deployments: thin — who is calling, which port, the port's answer. Only what the pages
//! call: creating is the wizard's Launch (`wizard::api::launch`, through the same `DeploymentsPort::create` as
//! REST); listing events, deleting and wiping are REST only (`/sovereign/api/v1/deployments/…`).

use leptos::prelude::*;

use super::types::{Deployment, ListQuery};
use crate::error::AppError;

/// The caller, if they may do `action` in at least one organisation (a cheap early answer: the engine then
/// checks the role in the deployment's own organisation through `auth::policy`), with the request's origin
/// for the audit log. Anonymous → `Unauthenticated`; no such permission anywhere → `Forbidden`.
#[cfg(feature = "ssr")]
pub fn actor_for(action: crate::auth::Action) -> Result<super::types::Actor, AppError> {
    Ok(super::types::Actor::new(
        crate::auth::require(action, None)?,
        crate::auth::request_meta(),
    ))
}

#[server]
pub async fn get_deployment(id: String) -> Result<Deployment, AppError> {
    let actor = actor_for(crate::auth::Action::DeploymentRead)?;
    crate::ports::deployments()?.get(&actor, &id).await
}

#[server(input = leptos::server_fn::codec::Json)]
pub async fn list_deployments(query: ListQuery) -> Result<super::types::DeploymentList, AppError> {
    let actor = actor_for(crate::auth::Action::DeploymentRead)?;
    crate::ports::deployments()?.list(&actor, query).await
}

/// Per-status counts for the deployments list (its search applies, its status filter does not).
#[server]
pub async fn deployment_status_counts(query: ListQuery) -> Result<Vec<super::types::StatusCount>, AppError> {
    let actor = actor_for(crate::auth::Action::DeploymentRead)?;
    crate::ports::deployments()?.status_counts(&actor, query).await
}

/// Retries the failed phase (empty `phase`: the one that failed).
#[server]
pub async fn retry_deployment(id: String, phase: Option<String>) -> Result<Deployment, AppError> {
    let actor = actor_for(crate::auth::Action::DeploymentRetry)?;
    let phase = phase.filter(|p| !p.trim().is_empty());
    crate::ports::deployments()?
        .retry(
            &actor,
            &id,
            super::types::RetryRequest {
                phase,
                component: None,
            },
        )
        .await
}

#[server]
pub async fn cancel_deployment(id: String) -> Result<Deployment, AppError> {
    let actor = actor_for(crate::auth::Action::DeploymentCancel)?;
    crate::ports::deployments()?.cancel(&actor, &id).await
}

/// How many of the newest events the deployment page renders on the server; the live stream continues
/// from the last of them.
pub const PAGE_EVENTS: i64 = 500;

/// What the deployment page needs to render: the deployment and its newest events.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentView {
    pub deployment: Deployment,
    pub events: Vec<super::types::DeploymentEvent>,
}

#[server]
pub async fn load_deployment(id: String) -> Result<DeploymentView, AppError> {
    let actor = actor_for(crate::auth::Action::DeploymentRead)?;
    let port = crate::ports::deployments()?;
    let deployment = port.get(&actor, &id).await?;
    let after = (deployment.last_seq - PAGE_EVENTS).max(0);
    let page = port.events(&actor, &id, after, Some(PAGE_EVENTS)).await?;
    Ok(DeploymentView {
        deployment,
        events: page.events,
    })
}
