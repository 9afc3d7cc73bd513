//! Server functions of the system status.

use leptos::prelude::*;

use super::types::StatusReport;
use crate::error::AppError;

/// Checks the database round trip and reports the backend.
#[server]
pub async fn check_system() -> Result<StatusReport, AppError> {
    crate::ports::system()?.status().await
}
