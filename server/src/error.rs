//! The server's error type and how errors become HTTP responses.
//!
//! [`Error`] keeps the source of every failure until the boundary. Converting it to [`AppError`] logs the
//! source and hands the client a safe sentence; input problems pass through with their own message.

use app::error::AppError;
use axum::Json;
use axum::response::{IntoResponse, Response};

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Already safe to show (validation, not found, forbidden …).
    #[error(transparent)]
    App(#[from] AppError),
}

impl Error {
    /// A short label for logs and metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Db(_) | Error::Sqlx(_) => "database",
            Error::Io(_) => "io",
            Error::App(e) => e.code(),
        }
    }
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        match e {
            Error::App(app) => app,
            Error::Db(DbError::Connect { .. }) | Error::Sqlx(sqlx::Error::PoolTimedOut) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(&e), "database unavailable");
                AppError::Unavailable(
                    "The database is not answering right now; try again in a moment.".into(),
                )
            }
            other => {
                tracing::error!(error = %other, kind = other.metric_label(), detail = ?other, "internal error");
                AppError::Internal(
                    "Something failed on our side. It has been logged; try again in a moment.".into(),
                )
            }
        }
    }
}

/// An error as a REST response: status from the error, body `{"error", "detail"}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e.into())
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError(Error::from(e).into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let mut response = (status, Json(self.0.to_body())).into_response();
        if let AppError::RateLimited { retry_after_secs, .. } = &self.0
            && let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
