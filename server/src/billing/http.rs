//! `/sovereign/api/v1/orgs/{org_id}/billing`: an organisation's credit balance, ledger and orders
//! (`billing.read`). Redeeming a voucher is the vouchers capability's (`POST …/vouchers/redeem`).

use app::billing::BillingOverview;
use app::ports::BillingPort;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::http::extract::ApiPath;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/orgs/{org_id}/billing", get(overview))
}

async fn overview(
    State(state): State<AppState>,
    Caller(me): Caller,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<BillingOverview>> {
    Ok(Json(state.billing.overview(&me, Some(&org_id)).await?))
}
