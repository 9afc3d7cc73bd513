//! The engine's interface as the app sees it. Server functions call these traits; the `server` crate
//! implements them and provides each as `Arc<dyn …>` through Leptos context, so `app` never depends on
//! the engine (no crate cycle) and the engine never depends on Leptos.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::error::AppError;
use crate::system::StatusReport;

#[async_trait]
pub trait SystemPort: Send + Sync + 'static {
    async fn status(&self) -> Result<StatusReport, AppError>;
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

/// The wizard's server side: drafts per user (never secrets), console facts, SSH key generation.
#[async_trait]
pub trait WizardPort: Send + Sync + 'static {
    /// Pool domains, nameservers and the default component selection.
    fn config(&self) -> crate::wizard::WizardConfig;
    async fn load_draft(&self, owner: &str) -> Result<Option<crate::wizard::WizardDraft>, AppError>;
    async fn save_draft(&self, owner: &str, draft: &crate::wizard::WizardDraft) -> Result<(), AppError>;
    async fn delete_draft(&self, owner: &str) -> Result<(), AppError>;
    /// A fresh Ed25519 pair; the private key is returned once and kept nowhere.
    async fn generate_ssh_key(&self, comment: &str) -> Result<crate::wizard::GeneratedKey, AppError>;
}

/// Whether `<subdomain>.<pool>` can be given to a new Sovereign. Swappable: today format, reserved names,
/// configured pools and existing deployments; later the PowerDNS pool manager.
#[async_trait]
pub trait SubdomainCheckPort: Send + Sync + 'static {
    async fn check(
        &self,
        pool_domain: &str,
        subdomain: &str,
    ) -> Result<crate::wizard::SubdomainCheck, AppError>;
}

/// Asks the cloud whether a token works. Never logs or returns the token.
#[async_trait]
pub trait CloudCredentialsPort: Send + Sync + 'static {
    async fn check_hetzner_token(&self, token: &crate::deployments::Secret) -> crate::wizard::TokenCheck;
}

pub fn wizard() -> Result<Arc<dyn WizardPort>, AppError> {
    port::<dyn WizardPort>("WizardPort")
}

pub fn subdomain_check() -> Result<Arc<dyn SubdomainCheckPort>, AppError> {
    port::<dyn SubdomainCheckPort>("SubdomainCheckPort")
}

pub fn cloud_credentials() -> Result<Arc<dyn CloudCredentialsPort>, AppError> {
    port::<dyn CloudCredentialsPort>("CloudCredentialsPort")
}
