//! The `deployment_leases` table: which replica runs a deployment's work right now.
//!
//! A run holds its lease and renews it (heartbeat); a lease past `expires_at` belongs to nobody, and any
//! replica may take it with [`acquire`]. The conditional upsert is one statement, so two replicas racing for
//! an expired lease cannot both get it.

use app::deployments::DeploymentStatus;

use super::{Db, DbError, now_ms};
use crate::db::on_db;

/// Takes the lease for `ttl_ms` if it is free, expired, or already ours. True if we hold it now.
pub async fn acquire(db: &Db, deployment_id: &str, holder: &str, ttl_ms: i64) -> Result<bool, DbError> {
    let now = now_ms();
    let n = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO deployment_leases (deployment_id, holder, acquired_at, heartbeat_at, expires_at)
             VALUES ($1, $2, $3, $3, $4)
             ON CONFLICT (deployment_id) DO UPDATE SET
               holder = excluded.holder, acquired_at = excluded.acquired_at,
               heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
             WHERE deployment_leases.expires_at < $3 OR deployment_leases.holder = excluded.holder",
        )
        .bind(deployment_id)
        .bind(holder)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Extends our lease. False if it is no longer ours (expired and taken over): the run must stop.
pub async fn renew(db: &Db, deployment_id: &str, holder: &str, ttl_ms: i64) -> Result<bool, DbError> {
    let now = now_ms();
    let n = on_db!(db, pool => {
        sqlx::query(
            "UPDATE deployment_leases SET heartbeat_at = $1, expires_at = $2
             WHERE deployment_id = $3 AND holder = $4",
        )
        .bind(now)
        .bind(now + ttl_ms)
        .bind(deployment_id)
        .bind(holder)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Gives the lease up (only if we hold it).
pub async fn release(db: &Db, deployment_id: &str, holder: &str) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM deployment_leases WHERE deployment_id = $1 AND holder = $2")
            .bind(deployment_id)
            .bind(holder)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The current holder and expiry, if any.
pub async fn holder(db: &Db, deployment_id: &str) -> Result<Option<(String, i64)>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as("SELECT holder, expires_at FROM deployment_leases WHERE deployment_id = $1")
            .bind(deployment_id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Deployments with work in flight and no live lease: their replica died (or never started the run).
pub async fn orphaned_runs(db: &Db) -> Result<Vec<String>, DbError> {
    let list = DeploymentStatus::ALL
        .into_iter()
        .filter(|s| s.in_flight())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(&format!(
            "SELECT d.id FROM deployments d LEFT JOIN deployment_leases l ON l.deployment_id = d.id
             WHERE d.status IN ({list}) AND (l.deployment_id IS NULL OR l.expires_at < $1)
             ORDER BY d.created_at"
        ))
        .bind(now_ms())
        .fetch_all(pool)
        .await?
    }))
}

/// Deployments with work owed, counted by status (metrics).
pub async fn in_flight_by_status(db: &Db) -> Result<std::collections::BTreeMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = on_db!(db, pool => {
        sqlx::query_as("SELECT status, COUNT(*) FROM deployments GROUP BY status")
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter(|(s, _)| {
            DeploymentStatus::ALL
                .iter()
                .any(|k| k.in_flight() && k.as_str() == s)
        })
        .collect())
}
