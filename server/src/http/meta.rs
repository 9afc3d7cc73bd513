//! Where a request came from — client address, user agent, request id — as the audit log and the rate
//! limits see it: a layer puts it into the request's extensions as `app::auth::RequestMeta`, before the
//! auth middleware and every handler run.

use std::net::{IpAddr, SocketAddr};

use app::auth::RequestMeta;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderName, header};

/// The request-id header: set on every request that comes without one, echoed on the response, logged.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The layer: `from_fn_with_state(<--trust-forwarded-for>, meta::attach)`.
pub async fn attach(State(trust_forwarded_for): State<bool>, mut req: Request, next: Next) -> Response {
    let meta = request_meta(&req, trust_forwarded_for);
    req.extensions_mut().insert(meta);
    next.run(req).await
}

fn request_meta(req: &Request, trust_forwarded_for: bool) -> RequestMeta {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = trust_forwarded_for
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back()
        })
        .flatten();
    RequestMeta {
        ip: forwarded.or(peer).map(|ip| ip.to_string()).unwrap_or_default(),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect(),
        request_id: req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
    }
}
