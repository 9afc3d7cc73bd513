//! `/healthz` (the process is up) and `/readyz` (the database answers and its schema is current; no versions: the probe is public).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::db::Db;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(db): State<Db>) -> Response {
    let problem = match db.ping().await {
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            Some("The database does not answer.".to_string())
        }
        Ok(()) => match db.applied_migration().await {
            Ok(applied) if applied >= db.latest_known_migration() => None,
            Ok(applied) => {
                // The migration numbers go to the log only: the probe is public (issue 18.8).
                tracing::warn!(
                    applied,
                    needed = db.latest_known_migration(),
                    "readiness: the database schema is older than this build"
                );
                Some("The database schema is older than this build; run the migrations.".to_string())
            }
            Err(e) => {
                tracing::warn!(error = %e, "readiness: cannot read migrations");
                Some("The database schema cannot be read.".to_string())
            }
        },
    };
    match problem {
        None => Json(json!({
            "status": "ready",
            "database": db.backend().as_str(),
        }))
        .into_response(),
        Some(detail) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "not-ready", "detail": detail })),
        )
            .into_response(),
    }
}
