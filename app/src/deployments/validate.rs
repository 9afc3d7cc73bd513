//! The one validation of a provisioning request, run in the browser as the user types and on the server on
//! submit. Every rule lives here; each failure names its field and says what to do.
//!
//! The wizard issue completes the per-step rules; the entry points and their signatures are fixed:
//! [`validate_request`] (whole request) is what the engine calls before it creates a deployment.

use crate::error::FieldError;

use super::request::DeploymentRequest;

/// Facts only the server knows, handed to the browser so both run the same rules.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationContext {
    /// Pool domains this console can allocate subdomains under.
    #[serde(rename = "poolDomains")]
    pub pool_domains: Vec<String>,
}

/// Every problem with the request (empty when it is valid). Component ids are checked against the catalog
/// separately (`catalog` module), because only the catalog knows them.
pub fn validate_request(req: &DeploymentRequest, ctx: &ValidationContext) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if req.org.name.trim().is_empty() {
        errors.push(FieldError::new("org.name", "Enter your organisation's name."));
    }
    if req.regions.is_empty() {
        errors.push(FieldError::new("regions", "Configure at least one region."));
    }
    let _ = ctx;
    errors
}
