//! Server functions of the system status.

use crate::wire::Postcard;
use leptos::prelude::*;

use super::types::StatusReport;
use crate::error::AppError;

/// Checks the database round trip and reports the backend.
// Postcard answer: the shell decodes it in the main wasm module (`crate::wire`).
#[server(output = Postcard)]
pub async fn check_system() -> Result<StatusReport, AppError> {
    let me = crate::auth::require(crate::auth::Action::SystemStatusRead, None)?;
    Ok(crate::ports::system()?.status().await?.for_viewer(&me))
}
