//! The `wizard_drafts` table: one provisioning-wizard draft (JSON, no secrets) per user, for one of their
//! organisations.

use super::{Db, DbError, now_ms};
use crate::db::on_db;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DraftRow {
    pub user_id: String,
    pub org_id: String,
    pub draft: String,
    pub completed: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn get(db: &Db, user_id: &str) -> Result<Option<DraftRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, DraftRow>(
            "SELECT user_id, org_id, draft, completed, created_at, updated_at FROM wizard_drafts WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Inserts or replaces the user's draft (for organisation `org_id`).
pub async fn put(
    db: &Db,
    user_id: &str,
    org_id: &str,
    draft_json: &str,
    completed: i64,
) -> Result<(), DbError> {
    let now = now_ms();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO wizard_drafts (user_id, org_id, draft, completed, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (user_id) DO UPDATE SET org_id = excluded.org_id, draft = excluded.draft,
             completed = excluded.completed, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(draft_json)
        .bind(completed)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Removes the user's draft; returns whether there was one.
pub async fn delete(db: &Db, user_id: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("DELETE FROM wizard_drafts WHERE user_id = $1").bind(user_id).execute(pool).await?.rows_affected()
    });
    Ok(n > 0)
}

/// Removes drafts untouched since `before_ms`; returns how many.
pub async fn delete_older_than(db: &Db, before_ms: i64) -> Result<u64, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM wizard_drafts WHERE updated_at < $1").bind(before_ms).execute(pool).await?.rows_affected()
    }))
}
