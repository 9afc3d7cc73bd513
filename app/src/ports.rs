//! The engine's interface as the app sees it. Server functions call these traits; the `server` crate
//! implements them and provides each as `Arc<dyn …>` through Leptos context, so `app` never depends on
//! the engine (no crate cycle) and the engine never depends on Leptos.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::catalog::Catalog;
use crate::deployments::{
    Actor, CreateDeployment, Created, Deployment, DeploymentSummary, EventPage, ListQuery, RetryRequest,
    WipeRequest,
};
use crate::error::AppError;
use crate::paging::Page;
use crate::system::StatusReport;

#[async_trait]
pub trait SystemPort: Send + Sync + 'static {
    async fn status(&self) -> Result<StatusReport, AppError>;
}

/// The provisioning engine: deployments, their events and their lifecycle. The REST API and the server
/// functions both go through this one implementation.
#[async_trait]
pub trait DeploymentsPort: Send + Sync + 'static {
    /// Validates, stores (secrets encrypted), and starts the run. `Invalid` names every bad field.
    async fn create(&self, actor: &Actor, body: CreateDeployment) -> Result<Created, AppError>;
    async fn get(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError>;
    async fn list(&self, actor: &Actor, query: ListQuery) -> Result<Page<DeploymentSummary>, AppError>;
    /// Events with `seq > after`, oldest first.
    async fn events(
        &self,
        actor: &Actor,
        id: &str,
        after: i64,
        limit: Option<i64>,
    ) -> Result<EventPage, AppError>;
    /// Re-runs a failed phase (Phase 0 from `tofu init` with the stored secrets).
    async fn retry(&self, actor: &Actor, id: &str, body: RetryRequest) -> Result<Deployment, AppError>;
    /// Stops the run in flight (kills OpenTofu's process group) and records the deployment as failed.
    async fn cancel(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError>;
    /// Removes the record only; refused while work is in flight.
    async fn delete(&self, actor: &Actor, id: &str) -> Result<(), AppError>;
    /// `tofu destroy`, then a sweep of left-overs, then a teardown report.
    async fn wipe(&self, actor: &Actor, id: &str, body: WipeRequest) -> Result<Deployment, AppError>;
}

/// The validated component catalog and its dependency engine.
pub trait CatalogPort: Send + Sync + 'static {
    fn catalog(&self) -> Arc<Catalog>;
}

fn port<T: ?Sized + Send + Sync + 'static>(name: &str) -> Result<Arc<T>, AppError> {
    use_context::<Arc<T>>().ok_or_else(|| {
        leptos::logging::error!("port {name} was not provided to the Leptos context");
        AppError::Internal("The console is misconfigured; see the server log.".into())
    })
}

pub fn system() -> Result<Arc<dyn SystemPort>, AppError> {
    port::<dyn SystemPort>("SystemPort")
}

pub fn deployments() -> Result<Arc<dyn DeploymentsPort>, AppError> {
    port::<dyn DeploymentsPort>("DeploymentsPort")
}

pub fn catalog() -> Result<Arc<dyn CatalogPort>, AppError> {
    port::<dyn CatalogPort>("CatalogPort")
}
