//! The `deployment_secrets` table: ciphertexts only (see `crate::crypto`). Names: `request`,
//! `kubeconfig:<region>`, `tfstate`, `gitops-deploy-key` (a Sovereign's own read-only deploy key).

use super::{Db, DbError, now_ms};
use crate::db::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SealedRow {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

pub async fn get(db: &Db, deployment_id: &str, name: &str) -> Result<Option<SealedRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, SealedRow>(
            "SELECT nonce, ciphertext FROM deployment_secrets WHERE deployment_id = $1 AND name = $2",
        )
        .bind(deployment_id)
        .bind(name)
        .fetch_optional(pool)
        .await?
    }))
}

/// Inserts or replaces.
pub async fn put(
    db: &Db,
    deployment_id: &str,
    name: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO deployment_secrets (deployment_id, name, nonce, ciphertext, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (deployment_id, name) DO UPDATE SET
               nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        )
        .bind(deployment_id)
        .bind(name)
        .bind(nonce)
        .bind(ciphertext)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Inserts only if absent (single-use values such as a region's kubeconfig). True if inserted.
pub async fn insert_once(
    db: &Db,
    deployment_id: &str,
    name: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO deployment_secrets (deployment_id, name, nonce, ciphertext, updated_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (deployment_id, name) DO NOTHING",
        )
        .bind(deployment_id)
        .bind(name)
        .bind(nonce)
        .bind(ciphertext)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Names starting with `prefix`, sorted.
pub async fn names(db: &Db, deployment_id: &str, prefix: &str) -> Result<Vec<String>, DbError> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT name FROM deployment_secrets WHERE deployment_id = $1 AND name LIKE $2 ESCAPE '\\' ORDER BY name",
        )
        .bind(deployment_id)
        .bind(&pattern)
        .fetch_all(pool)
        .await?
    }))
}

/// Removes one secret; true if it existed.
pub async fn delete(db: &Db, deployment_id: &str, name: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("DELETE FROM deployment_secrets WHERE deployment_id = $1 AND name = $2")
            .bind(deployment_id)
            .bind(name)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}
