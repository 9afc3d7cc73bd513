//! `POST /sovereign/api/v1/deployments/preflight`: the pre-flight of a create body, without creating
//! anything. The body is the create call's (`CreateDeployment`, its token included: used for Hetzner's answers
//! only). 200 with the report — failures and warnings are findings, not errors; 422 naming fields for a
//! request the shared validation refuses (the checks assume a valid request); 403 without
//! `deployments.create` (in `orgId`, when named).

use app::auth::{Action, policy};
use app::deployments::CreateDeployment;
use app::deployments::validate::validate_create;
use app::error::AppError;
use app::preflight::PreflightReport;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

use crate::auth::Caller;
use crate::deployments::Engine;
use crate::error::ApiResult;
use crate::http::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/deployments/preflight", post(preflight))
}

async fn preflight(
    State(engine): State<Engine>,
    Caller(me): Caller,
    ApiJson(body): ApiJson<CreateDeployment>,
) -> ApiResult<Json<PreflightReport>> {
    policy::require(&me, Action::DeploymentCreate, None)?;
    if let Some(org) = body.org_id.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        policy::require(&me, Action::DeploymentCreate, Some(org))?;
    }
    let mut errors = validate_create(&body, &engine.config().validation);
    if errors.iter().all(|e| e.field != "components") {
        errors.extend(
            engine
                .config()
                .catalog
                .validate_selection(&body.request.components),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors).into());
    }
    Ok(Json(engine.preflight().run(&body).await))
}
