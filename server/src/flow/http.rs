//! `/sovereign/api/v1/deployments/{id}/jobs…`: a run's jobs, one job with its executions, and an
//! execution's log lines in pages. Whoever may read the deployment's events may read these (the same
//! check: someone outside the deployment's organisation gets 404).

use app::auth::{Action, policy};
use app::deployments::Actor;
use app::error::AppError;
use app::flow::{DEFAULT_LINES_PER_PAGE, Job, JobDetail, LogPage, MAX_LINES_PER_PAGE};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::db::jobs;
use crate::deployments::Engine;
use crate::deployments::http::Meta;
use crate::error::ApiResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deployments/{id}/jobs", get(list))
        .route("/deployments/{id}/jobs/{job}", get(show))
        .route("/deployments/{id}/executions/{execution}/lines", get(lines))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<Job>,
}

async fn readable(engine: &Engine, caller: Caller, meta: Meta, id: &str) -> Result<(), AppError> {
    let Caller(me) = caller;
    policy::require(&me, Action::DeploymentEventsRead, None)?;
    let actor = Actor::new(me, meta.0);
    engine.row_for(&actor, id, Action::DeploymentEventsRead).await?;
    Ok(())
}

async fn list(
    State(engine): State<Engine>,
    caller: Caller,
    meta: Meta,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobList>> {
    readable(&engine, caller, meta, &id).await?;
    let jobs = jobs::list(engine.db(), &id).await?;
    Ok(Json(JobList { jobs }))
}

async fn show(
    State(engine): State<Engine>,
    caller: Caller,
    meta: Meta,
    ApiPath((id, job)): ApiPath<(String, String)>,
) -> ApiResult<Json<JobDetail>> {
    readable(&engine, caller, meta, &id).await?;
    let detail = jobs::get(engine.db(), &id, &job)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("The deployment has no job “{job}”.")))?;
    Ok(Json(detail))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinesQuery {
    /// Lines after this line number (0: from the first).
    #[serde(default, rename = "fromLine")]
    from_line: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

async fn lines(
    State(engine): State<Engine>,
    caller: Caller,
    meta: Meta,
    ApiPath((id, execution)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LinesQuery>,
) -> ApiResult<Json<LogPage>> {
    readable(&engine, caller, meta, &id).await?;
    let from = q.from_line.unwrap_or(0);
    if from < 0 {
        return Err(AppError::invalid("fromLine", "`fromLine` is a line number: 0 or more.").into());
    }
    let limit = q
        .limit
        .unwrap_or(DEFAULT_LINES_PER_PAGE)
        .clamp(1, MAX_LINES_PER_PAGE);
    let page = jobs::lines(engine.db(), &id, &execution, from, limit)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("The deployment has no execution “{execution}”.")))?;
    Ok(Json(page))
}
