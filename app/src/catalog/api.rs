//! Server functions of the catalog.

use leptos::prelude::*;

use super::types::CatalogData;
use crate::error::AppError;

/// The validated catalog (families and blueprints), for the marketplace and the wizard to run the engine on.
#[server(endpoint = "catalog")]
pub async fn get_catalog() -> Result<CatalogData, AppError> {
    Ok(crate::ports::catalog()?.catalog().data().clone())
}
