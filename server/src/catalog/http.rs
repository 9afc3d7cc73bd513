//! `GET /sovereign/api/v1/catalog`: the whole catalog as JSON for automation, with an ETag so clients can
//! poll cheaply (`If-None-Match` → 304).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/catalog", get(get_catalog))
}

pub async fn get_catalog(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let store = &state.settings.catalog;
    let etag = HeaderValue::from_str(&store.etag).unwrap_or_else(|_| HeaderValue::from_static("\"catalog\""));
    let cache = HeaderValue::from_static("no-cache");
    if matches_etag(&headers, &store.etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        store.document_json.clone(),
    )
        .into_response()
}

/// `If-None-Match` holds `*` or a list of tags, weak (`W/"…"`) or strong; any equal tag matches.
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let tag = "\"abc\"";
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).expect("header"));
            m
        };
        assert!(matches_etag(&h("\"abc\""), tag));
        assert!(matches_etag(&h("W/\"abc\""), tag));
        assert!(matches_etag(&h("\"x\", \"abc\""), tag));
        assert!(matches_etag(&h("*"), tag));
        assert!(!matches_etag(&h("\"abd\""), tag));
        assert!(!matches_etag(&HeaderMap::new(), tag));
    }
}
