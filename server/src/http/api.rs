//! The REST API under `/sovereign/api/v1`: JSON in, JSON out, errors as `{"error", "detail"}`. Each
//! capability brings its own routes (`<capability>::http::router`); this joins them and answers the rest.

use app::error::AppError;
use axum::http::{Method, Uri};
use axum::{Json, Router};

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(crate::system::http::router())
        .merge(crate::catalog::http::router())
        .merge(crate::deployments::http::router())
        .merge(crate::vouchers::http::router())
        .merge(crate::billing::http::router())
        .merge(crate::flow::http::router())
        .merge(crate::preflight::http::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError(AppError::NotFound(format!(
        "There is no API endpoint {method} {uri}."
    )))
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl axum::response::IntoResponse {
    let body = serde_json::json!({
        "error": "method-not-allowed",
        "detail": format!("{uri} does not accept {method}."),
    });
    (http::StatusCode::METHOD_NOT_ALLOWED, Json(body))
}
