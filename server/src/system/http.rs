//! `/sovereign/api/v1/status` (the console's own status) and `/sovereign/api/v1/settings…` (console-wide
//! settings, superadmins only).

use app::auth::policy::{self, Action};
use app::error::AppError;
use app::system::StatusReport;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::System;
use crate::auth::Caller;
use crate::db::{self, Db, audit::NewAudit};
use crate::error::ApiResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/status", get(status))
        .route("/settings", get(list_settings))
        .route(
            "/settings/{key}",
            get(get_setting).put(put_setting).delete(delete_setting),
        )
}

async fn status(State(state): State<AppState>, Caller(me): Caller) -> ApiResult<Json<StatusReport>> {
    policy::require(&me, Action::SystemStatusRead, None)?;
    let system = System::new(state.db.clone(), state.instance.clone());
    Ok(Json(system.report().await?.for_viewer(&me)))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: serde_json::Value,
    #[serde(rename = "updatedAt")]
    pub updated_at: i64,
    #[serde(rename = "updatedBy")]
    pub updated_by: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutSetting {
    pub value: serde_json::Value,
}

/// Keys are lowercase dotted names: `console.name`, `dns.default_pool`.
pub fn validate_setting_key(key: &str) -> Result<(), AppError> {
    let valid = !key.is_empty()
        && key.len() <= 64
        && key.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    if valid {
        Ok(())
    } else {
        Err(AppError::invalid(
            "key",
            "A setting key is 1–64 characters of lowercase dotted names, e.g. console.name.",
        ))
    }
}

const MAX_SETTING_BYTES: usize = 16 * 1024;

async fn list_settings(State(db): State<Db>, Caller(me): Caller) -> ApiResult<Json<Vec<Setting>>> {
    policy::require(&me, Action::SettingsManage, None)?;
    let rows = db::settings::list(&db).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| Setting {
                value: serde_json::from_str(&r.value).unwrap_or(serde_json::Value::Null),
                key: r.key,
                updated_at: r.updated_at,
                updated_by: r.updated_by,
            })
            .collect(),
    ))
}

async fn get_setting(
    State(db): State<Db>,
    Caller(me): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    policy::require(&me, Action::SettingsManage, None)?;
    validate_setting_key(&key)?;
    match db::settings::get(&db, &key).await? {
        Some(value) => Ok(Json(serde_json::json!({ "key": key, "value": value }))),
        None => Err(AppError::NotFound(format!("There is no setting “{key}”.")).into()),
    }
}

async fn put_setting(
    State(db): State<Db>,
    Caller(me): Caller,
    axum::Extension(meta): axum::Extension<app::auth::RequestMeta>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<PutSetting>,
) -> ApiResult<Json<serde_json::Value>> {
    policy::require(&me, Action::SettingsManage, None)?;
    validate_setting_key(&key)?;
    if body.value.to_string().len() > MAX_SETTING_BYTES {
        return Err(AppError::invalid("value", "A setting's value must be at most 16 KiB of JSON.").into());
    }
    db::settings::put(&db, &key, &body.value, &me.user_id).await?;
    db::audit::append(
        &db,
        &NewAudit::by(&me, &meta, "settings.update", &key, "Setting changed."),
    )
    .await?;
    Ok(Json(serde_json::json!({ "key": key, "value": body.value })))
}

async fn delete_setting(
    State(db): State<Db>,
    Caller(me): Caller,
    axum::Extension(meta): axum::Extension<app::auth::RequestMeta>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<http::StatusCode> {
    policy::require(&me, Action::SettingsManage, None)?;
    validate_setting_key(&key)?;
    if db::settings::delete(&db, &key).await? {
        db::audit::append(
            &db,
            &NewAudit::by(&me, &meta, "settings.delete", &key, "Setting removed."),
        )
        .await?;
        Ok(http::StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound(format!("There is no setting “{key}”.")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting_keys() {
        for ok in ["console.name", "a", "dns.default_pool", "x1.y2"] {
            assert!(validate_setting_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Console", ".a", "a.", "a..b", "1a", "a-b", &"a".repeat(65)] {
            assert!(validate_setting_key(bad).is_err(), "{bad}");
        }
    }
}
