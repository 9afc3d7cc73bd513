//! The built site's static files (wasm, JS, CSS, logos), served from the site root before anything renders.
//!
//! leptos_axum's `file_and_error_handler` serves files inside a reactive owner that it creates as a child of
//! whatever owner the worker thread last left behind; after a 404 page, that parent's `ResponseOptions`
//! gave the next wasm file on the same thread a 404 status (seen in CI and reproduced with a browser
//! walking two unknown product pages). Files are therefore served here, outside any owner, and only a path
//! that names no file falls through to the 404 page.

use std::path::Path;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE, RANGE,
    VARY,
};
use http::{HeaderValue, Method, Request, StatusCode};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The file under `site_root` that the request names, or `None` when there is none (the caller renders the 404
/// page). Precompressed `.br` / `.gz` copies are used when the browser accepts them; conditional and range
/// requests are honoured.
///
/// Every file is sent with `Cache-Control: no-cache`: the names are not content-hashed, so a browser must
/// revalidate (a cheap 304) rather than keep a heuristic copy — after an upgrade, old wasm would call
/// server functions that no longer exist. And with `Vary: Accept-Encoding`: the body depends on that header
/// (brotli, gzip or none), so a cache in front of the console (a CDN, a corporate proxy) must not hand one
/// client's encoding to another.
pub async fn serve(site_root: &Path, req: &http::request::Parts) -> Option<Response> {
    if !matches!(req.method, Method::GET | Method::HEAD) {
        return None;
    }
    let mut file_req = Request::builder().method(req.method.clone()).uri(req.uri.clone());
    for name in [
        ACCEPT_ENCODING,
        IF_MODIFIED_SINCE,
        IF_UNMODIFIED_SINCE,
        IF_NONE_MATCH,
        RANGE,
        IF_RANGE,
    ] {
        if let Some(value) = req.headers.get(&name) {
            file_req = file_req.header(name, value);
        }
    }
    let file_req = file_req.body(Body::empty()).ok()?;
    let res = ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .oneshot(file_req)
        .await;
    let mut res = match res {
        Ok(res) => res.into_response(),
        Err(never) => match never {},
    };
    if matches!(
        res.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) {
        return None;
    }
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res.headers_mut()
        .insert(VARY, HeaderValue::from_static("accept-encoding"));
    Some(res)
}
