//! Browser sessions and OpenID Connect logins in flight.

use super::{Db, DbError, now_ms};
use crate::db::on_db;

/// A session joined with its user: everything the per-request lookup needs in one round trip.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionUser {
    pub session_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub platform_role: Option<String>,
    pub disabled: bool,
    pub has_password: bool,
    pub password_changed_at: Option<i64>,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub method: &'a str,
}

/// Stores a session and returns its public id.
pub async fn create(db: &Db, s: &NewSession<'_>) -> Result<String, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, method)
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(s.token_hash)
        .bind(s.user_id)
        .bind(now)
        .bind(s.expires_at)
        .bind(s.ip)
        .bind(s.user_agent)
        .bind(s.method)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(id)
}

const SESSION_USER: &str = "SELECT s.id AS session_id, s.created_at, s.last_seen_at, s.expires_at, u.id AS user_id,
            u.email, u.display_name, u.platform_role, u.disabled, (u.password_hash IS NOT NULL) AS has_password,
            u.password_changed_at
     FROM sessions s JOIN users u ON u.id = s.user_id";

/// The session with this secret hash and its user, whatever their state (the caller judges expiry).
pub async fn lookup(db: &Db, token_hash: &str) -> Result<Option<SessionUser>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("{SESSION_USER} WHERE s.token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
    }))
}

/// The session with this id and its user, whatever their state (an open stream re-checks its caller).
pub async fn lookup_by_id(db: &Db, id: &str) -> Result<Option<SessionUser>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("{SESSION_USER} WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Marks the session as used now (the idle timer restarts).
pub async fn touch(db: &Db, id: &str, at: i64) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

pub async fn delete(db: &Db, id: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(pool).await?.rows_affected());
    Ok(n > 0)
}

/// Ends every session of a user except `keep` (e.g. the one that changed the password).
pub async fn delete_for_user(db: &Db, user_id: &str, keep: Option<&str>) -> Result<u64, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

/// Removes sessions past their absolute expiry or idle for longer than `idle_ms`.
pub async fn delete_expired(db: &Db, idle_ms: i64) -> Result<u64, DbError> {
    let now = now_ms();
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now - idle_ms)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

// ---- OpenID Connect logins in flight ----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OidcLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub next: String,
    pub created_at: i64,
}

pub async fn put_oidc_login(
    db: &Db,
    state_hash: &str,
    nonce: &str,
    pkce_verifier: &str,
    next: &str,
) -> Result<(), DbError> {
    let now = now_ms();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, next, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(state_hash)
        .bind(nonce)
        .bind(pkce_verifier)
        .bind(next)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    // Logins abandoned at the provider are swept as new ones start.
    on_db!(db, pool => {
        sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1")
            .bind(now - 3_600_000)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Takes (reads and deletes) a login in flight: each state works once.
pub async fn take_oidc_login(db: &Db, state_hash: &str) -> Result<Option<OidcLogin>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, next, created_at",
        )
        .bind(state_hash)
        .fetch_optional(pool)
        .await?
    }))
}

// ---- single sign-on identities waiting for their account's password -----------------------------------------

/// A single sign-on identity that may be linked to `user_id` once its password is given.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OidcPendingLink {
    pub user_id: String,
    pub issuer: String,
    pub subject: String,
    pub display_name: String,
    /// JSON list of the role claim's values.
    pub roles: String,
    pub next: String,
    pub created_at: i64,
}

/// Stores a pending link under the SHA-256 of its browser secret; sweeps ones older than an hour.
pub async fn put_oidc_pending_link(db: &Db, token_hash: &str, l: &OidcPendingLink) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO oidc_pending_links (token_hash, user_id, issuer, subject, display_name, roles, next, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token_hash)
        .bind(&l.user_id)
        .bind(&l.issuer)
        .bind(&l.subject)
        .bind(&l.display_name)
        .bind(&l.roles)
        .bind(&l.next)
        .bind(l.created_at)
        .execute(pool)
        .await?
        .rows_affected()
    });
    on_db!(db, pool => {
        sqlx::query("DELETE FROM oidc_pending_links WHERE created_at < $1")
            .bind(now_ms() - 3_600_000)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The pending link of this browser secret's hash, created after `since` (ms since epoch).
pub async fn oidc_pending_link(
    db: &Db,
    token_hash: &str,
    since: i64,
) -> Result<Option<OidcPendingLink>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT user_id, issuer, subject, display_name, roles, next, created_at FROM oidc_pending_links
             WHERE token_hash = $1 AND created_at >= $2",
        )
        .bind(token_hash)
        .bind(since)
        .fetch_optional(pool)
        .await?
    }))
}

/// Removes a pending link; true if it was there (each one links once).
pub async fn delete_oidc_pending_link(db: &Db, token_hash: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("DELETE FROM oidc_pending_links WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}
