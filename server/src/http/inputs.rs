//! Strict request encodings: a server-function call must carry the `Content-Type` its function decodes
//! (`app::server_fns`). server_fn itself decodes a body with the function's codec whatever the header says,
//! so a form body labelled JSON (or `text/plain`, which any web page may send without asking) would run the
//! function. Refused here with `400` in the app's error encoding, naming the type to send.

use app::error::AppError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, header};

use super::limits::error_response;

pub async fn server_fn_content_type(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == Method::POST
        && path.starts_with(app::routes::SERVER_FN_PREFIX)
        && let Some(expected) = app::server_fns::input_content_type(path)
    {
        let sent = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if sent != expected {
            let shown = if sent.is_empty() { "none".to_string() } else { sent };
            return error_response(
                path,
                AppError::BadRequest(format!(
                    "This call takes its input as {expected} (Content-Type: {expected}), not {shown}."
                )),
            );
        }
    }
    next.run(req).await
}
