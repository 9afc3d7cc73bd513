//! The `kubeconfig_bearers` table: one single-use bearer per deployment and region, kept as a SHA-256.
//!
//! A run issues a region's bearer when it hands the variables to OpenTofu ([`issue`], replacing any earlier
//! one), the cluster phase bounds it ([`cap_expiry`]: `--cluster-timeout` after the phase starts), and
//! it ends when it is used ([`deliver`]: in one transaction with storing the region's kubeconfig, so a
//! bearer carries exactly one kubeconfig) or when the cluster phase ends ([`revoke_unused`]).

use super::{Db, DbError};
use crate::db::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BearerRow {
    pub region: String,
    pub sha256: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Records a region's new bearer (replacing the previous one, used or not).
pub async fn issue(
    db: &Db,
    deployment_id: &str,
    region: &str,
    sha256: &str,
    issued_at: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO kubeconfig_bearers (deployment_id, region, sha256, issued_at, expires_at, used_at)
             VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (deployment_id, region) DO UPDATE SET
               sha256 = excluded.sha256, issued_at = excluded.issued_at, expires_at = excluded.expires_at,
               used_at = NULL",
        )
        .bind(deployment_id)
        .bind(region)
        .bind(sha256)
        .bind(issued_at)
        .bind(expires_at)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// A region's current bearer.
pub async fn get(db: &Db, deployment_id: &str, region: &str) -> Result<Option<BearerRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, BearerRow>(
            "SELECT region, sha256, issued_at, expires_at, used_at FROM kubeconfig_bearers
             WHERE deployment_id = $1 AND region = $2",
        )
        .bind(deployment_id)
        .bind(region)
        .fetch_optional(pool)
        .await?
    }))
}

/// Every region's current bearer, by region.
pub async fn list(db: &Db, deployment_id: &str) -> Result<Vec<BearerRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, BearerRow>(
            "SELECT region, sha256, issued_at, expires_at, used_at FROM kubeconfig_bearers
             WHERE deployment_id = $1 ORDER BY region",
        )
        .bind(deployment_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Unused bearers expire at `at` at the latest (the cluster phase's deadline).
pub async fn cap_expiry(db: &Db, deployment_id: &str, at: i64) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE kubeconfig_bearers SET expires_at = $2
             WHERE deployment_id = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(deployment_id)
        .bind(at)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Unused bearers stop working now (the cluster phase ended: the run moved on, failed, was cancelled or
/// the deployment is being wiped).
pub async fn revoke_unused(db: &Db, deployment_id: &str, now: i64) -> Result<(), DbError> {
    cap_expiry(db, deployment_id, now).await
}

/// How [`deliver`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The bearer was used up and the kubeconfig stored.
    Stored,
    /// The bearer is no longer usable (used, replaced or expired meanwhile): nothing stored.
    BearerGone,
    /// The region's kubeconfig was already stored: nothing changed.
    AlreadySet,
}

/// Uses the bearer (`sha256` must still be the region's, unused and unexpired at `now`) and stores the
/// sealed kubeconfig as `secret_name`, in one transaction: both happen or neither.
#[allow(clippy::too_many_arguments)]
pub async fn deliver(
    db: &Db,
    deployment_id: &str,
    region: &str,
    sha256: &str,
    now: i64,
    secret_name: &str,
    nonce: &[u8],
    ciphertext: &[u8],
) -> Result<Delivery, DbError> {
    Ok(on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let used = sqlx::query(
            "UPDATE kubeconfig_bearers SET used_at = $4
             WHERE deployment_id = $1 AND region = $2 AND sha256 = $3 AND used_at IS NULL AND expires_at > $4",
        )
        .bind(deployment_id)
        .bind(region)
        .bind(sha256)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if used != 1 {
            tx.rollback().await?;
            Delivery::BearerGone
        } else {
            let stored = sqlx::query(
                "INSERT INTO deployment_secrets (deployment_id, name, nonce, ciphertext, updated_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (deployment_id, name) DO NOTHING",
            )
            .bind(deployment_id)
            .bind(secret_name)
            .bind(nonce)
            .bind(ciphertext)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if stored == 1 {
                tx.commit().await?;
                Delivery::Stored
            } else {
                tx.rollback().await?;
                Delivery::AlreadySet
            }
        }
    }))
}
