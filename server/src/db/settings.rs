//! The `settings` table: console-wide key → JSON value.

use super::{Db, DbError, now_ms};
use crate::db::on_db;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SettingRow {
    pub key: String,
    pub value: String,
    pub updated_at: i64,
    pub updated_by: String,
}

pub async fn get(db: &Db, key: &str) -> Result<Option<serde_json::Value>, DbError> {
    let raw: Option<String> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(pool).await?
    });
    Ok(raw.and_then(|v| serde_json::from_str(&v).ok()))
}

/// Inserts or replaces a setting.
pub async fn put(db: &Db, key: &str, value: &serde_json::Value, by: &str) -> Result<(), DbError> {
    let value = value.to_string();
    let now = now_ms();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by",
        )
        .bind(key)
        .bind(&value)
        .bind(now)
        .bind(by)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<SettingRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, SettingRow>("SELECT key, value, updated_at, updated_by FROM settings ORDER BY key")
            .fetch_all(pool)
            .await?
    }))
}

/// Removes a setting; returns whether it existed.
pub async fn delete(db: &Db, key: &str) -> Result<bool, DbError> {
    let done = on_db!(db, pool => sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(pool).await?.rows_affected());
    Ok(done > 0)
}
