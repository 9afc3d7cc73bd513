//! The `hetzner_cache` table: Hetzner answers that are the same for every project (the price list, the
//! server types not available now), one row per kind, shared by every replica. A write keeps the newer of
//! two racing answers.

use super::{Db, DbError};
use crate::db::on_db;

/// A cached answer: its JSON body and when Hetzner gave it (ms since epoch).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CachedRow {
    pub body: String,
    pub fetched_at: i64,
}

/// The row of `what` fetched from `api_url`, if any.
pub async fn get(db: &Db, what: &str, api_url: &str) -> Result<Option<CachedRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, CachedRow>("SELECT body, fetched_at FROM hetzner_cache WHERE what = $1 AND api_url = $2")
            .bind(what)
            .bind(api_url)
            .fetch_optional(pool)
            .await?
    }))
}

/// Stores an answer unless a newer one is already there. Returns whether this one was stored.
pub async fn put(db: &Db, what: &str, api_url: &str, body: &str, fetched_at: i64) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO hetzner_cache (what, api_url, body, fetched_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (what) DO UPDATE SET api_url = excluded.api_url, body = excluded.body,
                 fetched_at = excluded.fetched_at
             WHERE hetzner_cache.fetched_at < excluded.fetched_at OR hetzner_cache.api_url <> excluded.api_url",
        )
        .bind(what)
        .bind(api_url)
        .bind(body)
        .bind(fetched_at)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}
