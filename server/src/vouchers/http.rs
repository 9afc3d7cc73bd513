//! `/sovereign/api/v1/vouchers…`: issue, list, read, switch and revoke vouchers (`vouchers.*`), the public
//! redeem preview, and redeeming a code for an organisation. Thin: extractors → caller → one service call.
//!
//! Redeem preview (`POST /vouchers/redeem-preview`, public, rate-limited per client address), body `{code}`
//! (any case): 200 with `{code, credit_cents, currency, description, active, accepting_redemptions}`; 410
//! with the same body and `accepting_redemptions: false` when the voucher is switched off or used up; 404
//! for an unknown and a revoked code alike; 400 for a body that is not a JSON object or has no code. No
//! counts and no dates ever.

use app::auth::RequestMeta;
use app::billing::Redemption;
use app::error::AppError;
use app::paging::Page;
use app::ports::VouchersPort;
use app::vouchers::{IssuedVoucher, NewVoucher, Voucher, VoucherDetail, VoucherQuery};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::StatusCode;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// The largest preview body read (a code is at most 64 characters).
const MAX_PREVIEW_BODY: usize = 4 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/vouchers", get(list).post(issue))
        .route("/vouchers/redeem-preview", post(preview))
        .route("/vouchers/{code}", get(detail).patch(update).delete(revoke))
        .route("/orgs/{org_id}/vouchers/redeem", post(redeem))
}

async fn issue(
    State(state): State<AppState>,
    Caller(me): Caller,
    Extension(meta): Extension<RequestMeta>,
    ApiJson(body): ApiJson<NewVoucher>,
) -> ApiResult<(StatusCode, Json<IssuedVoucher>)> {
    let issued = state.vouchers.issue(&me, body, &meta).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn list(
    State(state): State<AppState>,
    Caller(me): Caller,
    ApiQuery(query): ApiQuery<VoucherQuery>,
) -> ApiResult<Json<Page<Voucher>>> {
    Ok(Json(state.vouchers.list(&me, query).await?))
}

async fn detail(
    State(state): State<AppState>,
    Caller(me): Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<VoucherDetail>> {
    Ok(Json(state.vouchers.detail(&me, &code).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetActive {
    active: bool,
}

async fn update(
    State(state): State<AppState>,
    Caller(me): Caller,
    Extension(meta): Extension<RequestMeta>,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<SetActive>,
) -> ApiResult<Json<Voucher>> {
    Ok(Json(
        state.vouchers.set_active(&me, &code, body.active, &meta).await?,
    ))
}

async fn revoke(
    State(state): State<AppState>,
    Caller(me): Caller,
    Extension(meta): Extension<RequestMeta>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.vouchers.revoke(&me, &code, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeemBody {
    code: String,
}

async fn redeem(
    State(state): State<AppState>,
    Caller(me): Caller,
    Extension(meta): Extension<RequestMeta>,
    ApiPath(org_id): ApiPath<String>,
    ApiJson(body): ApiJson<RedeemBody>,
) -> ApiResult<(StatusCode, Json<Redemption>)> {
    let r = state.vouchers.redeem(&me, &org_id, &body.code, &meta).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Public: no `Caller` (the middleware lets anonymous callers through to this one route).
async fn preview(State(state): State<AppState>, req: Request) -> Response {
    let meta = req.extensions().get::<RequestMeta>().cloned().unwrap_or_default();
    let bytes = match axum::body::to_bytes(req.into_body(), MAX_PREVIEW_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError(AppError::TooLarge(
                "The request body is too large: send {\"code\": \"<your voucher code>\"}.".into(),
            ))
            .into_response();
        }
    };
    let code = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(body)) => match body.get("code") {
            Some(serde_json::Value::String(code)) => code.clone(),
            None | Some(serde_json::Value::Null) => String::new(),
            Some(_) => {
                return ApiError(AppError::BadRequest(
                    "code must be a string: send {\"code\": \"<your voucher code>\"}.".into(),
                ))
                .into_response();
            }
        },
        _ => {
            return ApiError(AppError::BadRequest(
                "invalid JSON body: send {\"code\": \"<your voucher code>\"} as JSON.".into(),
            ))
            .into_response();
        }
    };
    match state.vouchers.preview(&code, &meta).await {
        Ok(p) if p.accepting_redemptions => (StatusCode::OK, Json(p)).into_response(),
        Ok(p) => (StatusCode::GONE, Json(p)).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
