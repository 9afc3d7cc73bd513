//! The metrics listener (`--metrics-bind`): `GET /metrics` in the Prometheus text format — the process-wide
//! series `crate::metrics` records, and what is read from the engine at scrape time.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::process_series;
use crate::state::AppState;

/// The metrics listener's router: `GET /metrics`.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let mut out = process_series();
    let engine = &state.engine;
    let _ = writeln!(
        out,
        "# HELP catalyst_sse_subscribers Live event streams open on this replica.\n# TYPE catalyst_sse_subscribers gauge\ncatalyst_sse_subscribers {}",
        engine.hubs().subscribers()
    );
    let _ = writeln!(
        out,
        "# HELP catalyst_runs_held Runs this replica holds the lease of and works on.\n# TYPE catalyst_runs_held gauge\ncatalyst_runs_held {}",
        engine.runs_held()
    );
    match crate::db::leases::in_flight_by_status(engine.db()).await {
        Ok(counts) => {
            let _ = writeln!(
                out,
                "# HELP catalyst_runs_in_flight Deployments with work owed, by status (the whole console's).\n# TYPE catalyst_runs_in_flight gauge"
            );
            for status in app::deployments::DeploymentStatus::ALL {
                if status.in_flight() {
                    let n = counts.get(status.as_str()).copied().unwrap_or(0);
                    let _ = writeln!(
                        out,
                        "catalyst_runs_in_flight{{status=\"{}\"}} {n}",
                        status.as_str()
                    );
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count deployments by status"),
    }
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
