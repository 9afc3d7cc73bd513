//! API tokens: stored as SHA-256 hashes, listed by prefix, revoked by setting `revoked_at`.

use app::auth::ApiTokenInfo;

use super::{Db, DbError, now_ms};
use crate::db::on_db;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct TokenRow {
    id: String,
    name: String,
    prefix: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
}

impl From<TokenRow> for ApiTokenInfo {
    fn from(r: TokenRow) -> Self {
        ApiTokenInfo {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }
    }
}

pub struct NewToken<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub prefix: &'a str,
    pub expires_at: Option<i64>,
}

pub async fn create(db: &Db, t: &NewToken<'_>) -> Result<ApiTokenInfo, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let row: TokenRow = on_db!(db, pool => {
        sqlx::query_as(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             RETURNING id, name, prefix, created_at, last_used_at, expires_at",
        )
        .bind(&id)
        .bind(t.user_id)
        .bind(t.name)
        .bind(t.token_hash)
        .bind(t.prefix)
        .bind(now_ms())
        .bind(t.expires_at)
        .fetch_one(pool)
        .await?
    });
    Ok(row.into())
}

/// A user's live tokens (not revoked, not expired), newest first.
pub async fn list_for_user(db: &Db, user_id: &str) -> Result<Vec<ApiTokenInfo>, DbError> {
    let rows: Vec<TokenRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at, expires_at FROM api_tokens
             WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
             ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .bind(now_ms())
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn count_live_for_user(db: &Db, user_id: &str) -> Result<i64, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(user_id)
        .bind(now_ms())
        .fetch_one(pool)
        .await?
    }))
}

/// Revokes one of a user's tokens; returns its name if it was live.
pub async fn revoke(db: &Db, user_id: &str, id: &str) -> Result<Option<String>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
             RETURNING name",
        )
        .bind(id)
        .bind(user_id)
        .bind(now_ms())
        .fetch_optional(pool)
        .await?
    }))
}

/// A live token by secret hash, with its user: (token id, last used, session-equivalent user facts).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TokenUser {
    pub token_id: String,
    pub last_used_at: Option<i64>,
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub platform_role: Option<String>,
    pub disabled: bool,
    pub has_password: bool,
}

const TOKEN_USER: &str = "SELECT t.id AS token_id, t.last_used_at, u.id AS user_id, u.email, u.display_name,
            u.platform_role, u.disabled, (u.password_hash IS NOT NULL) AS has_password
     FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)";

pub async fn lookup(db: &Db, token_hash: &str) -> Result<Option<TokenUser>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("{TOKEN_USER} AND t.token_hash = $1"))
            .bind(token_hash)
            .bind(now_ms())
            .fetch_optional(pool)
            .await?
    }))
}

/// A live token by id, with its user (an open stream re-checks its caller).
pub async fn lookup_by_id(db: &Db, id: &str) -> Result<Option<TokenUser>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("{TOKEN_USER} AND t.id = $1"))
            .bind(id)
            .bind(now_ms())
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn touch(db: &Db, id: &str, at: i64) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}
