//! The engine's interface as the app sees it. Server functions call these traits; the `server` crate
//! implements them and provides each as `Arc<dyn …>` through Leptos context, so `app` never depends on
//! the engine (no crate cycle) and the engine never depends on Leptos.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::catalog::Catalog;
use crate::error::AppError;
use crate::system::StatusReport;

#[async_trait]
pub trait SystemPort: Send + Sync + 'static {
    async fn status(&self) -> Result<StatusReport, AppError>;
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

pub fn catalog() -> Result<Arc<dyn CatalogPort>, AppError> {
    port::<dyn CatalogPort>("CatalogPort")
}
