//! Extractors whose rejections are the API's JSON errors instead of axum's plain-text ones.

use app::error::{AppError, FieldError};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::Json`, rejecting with `400 bad-request` / `422 invalid-input` / `413 too-large` JSON bodies.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(json_rejection(rejection))),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(
            "Send the request body as JSON with the header Content-Type: application/json.".into(),
        ),
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest(format!(
            "The request body is not valid JSON: {}.",
            inner_message(&e.body_text())
        )),
        JsonRejection::JsonDataError(e) => AppError::Invalid(vec![FieldError::new(
            "body",
            format!(
                "The JSON body does not have the expected shape: {}.",
                inner_message(&e.body_text())
            ),
        )]),
        JsonRejection::BytesRejection(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::TooLarge("The request body is too large for this endpoint.".into())
        }
        other => AppError::BadRequest(format!(
            "The request body could not be read: {}.",
            other.body_text()
        )),
    }
}

/// The raw body (`axum::body::Bytes`), rejecting with the API's JSON errors (`413 too-large` over the limit)
/// instead of axum's plain text.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S> FromRequest<S> for ApiBytes
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|e| {
                ApiError(if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge("The request body is too large for this endpoint.".into())
                } else {
                    AppError::BadRequest(format!("The request body could not be read: {}.", e.body_text()))
                })
            })
    }
}

/// axum's messages start with a generic prefix ("Failed to deserialize the JSON body into the target type: ").
fn inner_message(text: &str) -> String {
    text.split_once(": ")
        .map(|(_, rest)| rest)
        .unwrap_or(text)
        .trim_end_matches('.')
        .to_string()
}

/// `axum::extract::Path` with a JSON rejection.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| {
                ApiError(AppError::BadRequest(format!(
                    "The URL is not valid: {}.",
                    e.body_text()
                )))
            })
    }
}

/// `axum::extract::Query` with a JSON rejection.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| {
                ApiError(AppError::invalid(
                    "query",
                    format!(
                        "The query string is not valid: {}.",
                        inner_message(&e.body_text())
                    ),
                ))
            })
    }
}
