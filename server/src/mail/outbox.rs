//! The `mail_outbox` table: messages waiting to be sent, sent, or given up on; and `worker_leases`, which
//! makes one replica at a time the sender.

use crate::db::on_db;
use crate::db::{Db, DbError};

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// `voucher-issued`.
    pub kind: String,
    /// What it is about (`voucher:<CODE>`), for status lookups.
    pub subject_ref: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailRow {
    pub id: String,
    pub kind: String,
    pub subject_ref: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, subject_ref, recipient, subject, body_text, body_html, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

/// Queues a message, due now. Returns its id.
pub async fn enqueue(db: &Db, m: &NewMail, now: i64) -> Result<String, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO mail_outbox (id, kind, subject_ref, recipient, subject, body_text, body_html, status,
               attempts, next_attempt_at, last_error, created_at, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, NULL, $8, NULL)",
        )
        .bind(&id)
        .bind(&m.kind)
        .bind(&m.subject_ref)
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.body_text)
        .bind(&m.body_html)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(id)
}

/// Pending messages due at `now`, oldest first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<MailRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, MailRow>(&format!(
            "SELECT {COLUMNS} FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at, created_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

pub async fn get(db: &Db, id: &str) -> Result<Option<MailRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, MailRow>(&format!("SELECT {COLUMNS} FROM mail_outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// When the next pending message is due, if any (the sender sleeps until then).
pub async fn next_due(db: &Db) -> Result<Option<i64>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MIN(next_attempt_at) FROM mail_outbox WHERE status = 'pending'",
        )
        .fetch_one(pool)
        .await?
    }))
}

pub async fn mark_sent(db: &Db, id: &str, now: i64) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $2, last_error = NULL
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Records a failed attempt: due again at `retry_at`, or given up on (`None`).
pub async fn mark_failed(db: &Db, id: &str, error: &str, retry_at: Option<i64>) -> Result<(), DbError> {
    let (status, next) = match retry_at {
        Some(at) => ("pending", at),
        None => ("failed", 0),
    };
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE mail_outbox SET status = $2, attempts = attempts + 1, last_error = $3,
               next_attempt_at = CASE WHEN $2 = 'pending' THEN $4 ELSE next_attempt_at END
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(status)
        .bind(error)
        .bind(next)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Takes the named worker lease for `ttl_ms` if it is free, expired, or already ours (one conditional
/// upsert, as `deployment_leases`: two replicas racing cannot both get it). True if we hold it now.
pub async fn acquire_lease(
    db: &Db,
    name: &str,
    holder: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO worker_leases (name, holder, acquired_at, heartbeat_at, expires_at)
             VALUES ($1, $2, $3, $3, $4)
             ON CONFLICT (name) DO UPDATE SET
               holder = excluded.holder,
               acquired_at = CASE WHEN worker_leases.holder = excluded.holder THEN worker_leases.acquired_at ELSE excluded.acquired_at END,
               heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
             WHERE worker_leases.expires_at < $3 OR worker_leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Gives the lease up (only if we hold it), so another replica can take over at once.
pub async fn release_lease(db: &Db, name: &str, holder: &str) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM worker_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}
