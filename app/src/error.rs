//! The one error type of the app layer: every server function returns `Result<T, AppError>`, every port
//! reports through it, and the REST API renders it as `{"error": "<code>", "detail": "<sentence>"}`.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A problem with one input field, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Machine name of the field (`orgName`, `regions[1].workerCount`, …).
    pub field: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// One or more fields are invalid; each names the field and the fix.
    #[error("{}", first_message(.0))]
    Invalid(Vec<FieldError>),
    /// The request itself is malformed (not the fields in it).
    #[error("{0}")]
    BadRequest(String),
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// The signed-in user lacks a permission; the string names it.
    #[error("You do not have the permission “{0}”.")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The request body is over the size this endpoint accepts.
    #[error("{0}")]
    TooLarge(String),
    #[error("{detail}")]
    RateLimited { detail: String, retry_after_secs: u64 },
    /// A dependency (database, cloud API, …) cannot be reached right now.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed on our side. The message is safe to show: the cause stays in the server log.
    #[error("{0}")]
    Internal(String),
    /// The server function call itself failed (network, encoding).
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

fn first_message(errors: &[FieldError]) -> String {
    match errors.first() {
        Some(e) => e.message.clone(),
        None => "The input is not valid.".to_string(),
    }
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// The machine-readable code used in the REST body's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid-input",
            AppError::BadRequest(_) => "bad-request",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not-found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "too-large",
            AppError::RateLimited { .. } => "rate-limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
            AppError::ServerFn(_) => "request-failed",
        }
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Invalid(_) => S::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => S::BAD_REQUEST,
            AppError::Unauthenticated => S::UNAUTHORIZED,
            AppError::Forbidden(_) => S::FORBIDDEN,
            AppError::NotFound(_) => S::NOT_FOUND,
            AppError::Conflict(_) => S::CONFLICT,
            AppError::TooLarge(_) => S::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => S::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => S::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => S::INTERNAL_SERVER_ERROR,
            AppError::ServerFn(e) => match e {
                ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => S::BAD_REQUEST,
                _ => S::INTERNAL_SERVER_ERROR,
            },
        }
    }

    /// Field errors, if this is a validation failure.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(f) => f,
            _ => &[],
        }
    }

    /// The message for one field, if the server rejected it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        self.fields()
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.as_str())
    }

    /// The JSON body of a REST error response.
    pub fn to_body(&self) -> ApiErrorBody {
        ApiErrorBody {
            error: self.code().to_string(),
            detail: self.to_string(),
            fields: self.fields().to_vec(),
            retry_after_secs: match self {
                AppError::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
                _ => None,
            },
        }
    }
}

/// Server functions' errors travel in postcard, not JSON: the browser's main module then needs no JSON
/// parser for them (`wire.rs`). The REST API renders [`AppError::to_body`] as JSON instead.
impl FromServerFnError for AppError {
    type Encoder = crate::wire::Wire;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }
}

/// The body of every REST error: `{"error": "<machine-code>", "detail": "<sentence for a person>"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    #[serde(default, rename = "retryAfterSecs", skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_reports_first_field_message_and_422() {
        let e = AppError::Invalid(vec![
            FieldError::new("orgName", "Enter the organisation's name."),
            FieldError::new("orgEmail", "Enter an e-mail address."),
        ]);
        assert_eq!(e.to_string(), "Enter the organisation's name.");
        assert_eq!(e.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field_message("orgEmail"), Some("Enter an e-mail address."));
        let body = serde_json::to_value(e.to_body()).expect("serialises");
        assert_eq!(body["error"], "invalid-input");
        assert_eq!(body["fields"][1]["field"], "orgEmail");
    }

    #[test]
    fn body_omits_empty_extras() {
        let body = serde_json::to_value(AppError::NotFound("No such deployment.".into()).to_body())
            .expect("serialises");
        assert_eq!(
            body,
            serde_json::json!({"error": "not-found", "detail": "No such deployment."})
        );
    }

    #[test]
    fn survives_the_wire() {
        for e in [
            AppError::RateLimited {
                detail: "Try again in 30 s.".into(),
                retry_after_secs: 30,
            },
            AppError::Invalid(vec![FieldError::new("theme", "Choose “dark” or “light”.")]),
            AppError::Unauthenticated,
            AppError::ServerFn(ServerFnErrorErr::Deserialization("bad".into())),
        ] {
            let back = AppError::de(e.ser());
            assert_eq!(back, e);
        }
        // Bytes that are not the app's encoding become a readable request failure, not a panic.
        assert!(matches!(
            AppError::de(leptos::server_fn::Bytes::from_static(b"{\"error\":1}")),
            AppError::ServerFn(ServerFnErrorErr::Deserialization(_))
        ));
    }
}
