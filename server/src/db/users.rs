//! The `users` table, the per-account sign-in throttle and the first-run setup tokens.

use app::auth::{PlatformRole, UserSummary};

use super::{Db, DbError, now_ms};
use crate::db::on_db;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub platform_role: Option<String>,
    pub disabled: bool,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    pub password_changed_at: Option<i64>,
}

impl UserRow {
    pub fn platform_role(&self) -> Option<PlatformRole> {
        self.platform_role.as_deref().and_then(PlatformRole::parse)
    }

    /// The label people see: display name, else e-mail.
    pub fn label(&self) -> &str {
        if self.display_name.is_empty() {
            &self.email
        } else {
            &self.display_name
        }
    }

    pub fn sign_in_methods(&self) -> String {
        match (self.password_hash.is_some(), self.oidc_subject.is_some()) {
            (true, true) => "password+oidc",
            (false, true) => "oidc",
            _ => "password",
        }
        .to_string()
    }

    pub fn into_summary(self, memberships: Vec<app::auth::Membership>) -> UserSummary {
        UserSummary {
            platform_role: self.platform_role(),
            sign_in: self.sign_in_methods(),
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            memberships,
            disabled: self.disabled,
            created_at: self.created_at,
            last_login_at: self.last_login_at,
        }
    }
}

const COLUMNS: &str = "id, email, display_name, password_hash, platform_role, disabled, oidc_issuer, oidc_subject, \
     created_at, updated_at, last_login_at, password_changed_at";

/// A user to create. `email` must already be normalised (see `auth::normalize_email`).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub platform_role: Option<PlatformRole>,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
}

/// Inserts a user and returns it. A taken e-mail is `Ok(None)`.
pub async fn create(db: &Db, u: &NewUser) -> Result<Option<UserRow>, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let role = u.platform_role.map(PlatformRole::as_str);
    let row: Option<UserRow> = on_db!(db, pool => {
        sqlx::query_as(&format!(
            "INSERT INTO users (id, email, display_name, password_hash, platform_role, disabled, oidc_issuer,
                                oidc_subject, created_at, updated_at, password_changed_at)
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $8, $8, $9)
             ON CONFLICT (email) DO NOTHING
             RETURNING {COLUMNS}"
        ))
        .bind(&id)
        .bind(&u.email)
        .bind(&u.display_name)
        .bind(&u.password_hash)
        .bind(role)
        .bind(&u.oidc_issuer)
        .bind(&u.oidc_subject)
        .bind(now)
        .bind(u.password_hash.as_ref().map(|_| now))
        .fetch_optional(pool)
        .await?
    });
    Ok(row)
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<UserRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn by_email(db: &Db, email: &str) -> Result<Option<UserRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn by_oidc(db: &Db, issuer: &str, subject: &str) -> Result<Option<UserRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2"))
            .bind(issuer)
            .bind(subject)
            .fetch_optional(pool)
            .await?
    }))
}

/// Every account, by e-mail.
pub async fn list(db: &Db) -> Result<Vec<UserRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY email"))
            .fetch_all(pool)
            .await?
    }))
}

/// The accounts that are members of any of these organisations.
pub async fn list_in_orgs(db: &Db, org_ids: &[String]) -> Result<Vec<UserRow>, DbError> {
    if org_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (1..=org_ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE id IN (SELECT user_id FROM memberships WHERE org_id IN ({placeholders}))
         ORDER BY email"
    );
    Ok(on_db!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for id in org_ids {
            q = q.bind(id);
        }
        q.fetch_all(pool).await?
    }))
}

pub async fn count(db: &Db) -> Result<i64, DbError> {
    Ok(on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?))
}

pub async fn count_with_role(db: &Db, role: PlatformRole, enabled_only: bool) -> Result<i64, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE platform_role = $1 AND ($2 = FALSE OR disabled = FALSE)")
            .bind(role.as_str())
            .bind(enabled_only)
            .fetch_one(pool)
            .await?
    }))
}

/// Sets a new password hash; every session created before now becomes void.
pub async fn set_password(db: &Db, id: &str, hash: &str) -> Result<bool, DbError> {
    let now = now_ms();
    let n = on_db!(db, pool => {
        sqlx::query("UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn set_platform_role(db: &Db, id: &str, role: Option<PlatformRole>) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("UPDATE users SET platform_role = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(role.map(PlatformRole::as_str))
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn set_disabled(db: &Db, id: &str, disabled: bool) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(disabled)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn touch_login(db: &Db, id: &str) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("UPDATE users SET last_login_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Links an existing account to an SSO identity and refreshes its display name.
pub async fn link_oidc(
    db: &Db,
    id: &str,
    issuer: &str,
    subject: &str,
    display_name: &str,
) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE users SET oidc_issuer = $2, oidc_subject = $3,
                    display_name = CASE WHEN $4 = '' THEN display_name ELSE $4 END, updated_at = $5
             WHERE id = $1",
        )
        .bind(id)
        .bind(issuer)
        .bind(subject)
        .bind(display_name)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

// ---- per-account sign-in throttle -------------------------------------------------------------------------

/// Records one failure for `key` and returns the number of failures in the current window. A window older
/// than `window_start` (ms) restarts at 1.
pub async fn throttle_fail(db: &Db, key: &str, window_start: i64) -> Result<i64, DbError> {
    let now = now_ms();
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO auth_throttle (key, failures, window_started_at, locked_until) VALUES ($1, 1, $2, 0)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN auth_throttle.window_started_at < $3 AND auth_throttle.locked_until < $2
                               THEN 1 ELSE auth_throttle.failures + 1 END,
               window_started_at = CASE WHEN auth_throttle.window_started_at < $3 AND auth_throttle.locked_until < $2
                               THEN $2 ELSE auth_throttle.window_started_at END
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window_start)
        .fetch_one(pool)
        .await?
    }))
}

pub async fn throttle_lock(db: &Db, key: &str, until: i64) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("UPDATE auth_throttle SET locked_until = $2 WHERE key = $1")
            .bind(key)
            .bind(until)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Until when `key` is locked (ms since epoch), if it is.
pub async fn throttle_locked_until(db: &Db, key: &str) -> Result<Option<i64>, DbError> {
    let until: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT locked_until FROM auth_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?
    });
    Ok(until.filter(|&t| t > now_ms()))
}

pub async fn throttle_clear(db: &Db, key: &str) -> Result<(), DbError> {
    on_db!(db, pool => sqlx::query("DELETE FROM auth_throttle WHERE key = $1").bind(key).execute(pool).await?.rows_affected());
    Ok(())
}

// ---- first-run setup tokens -------------------------------------------------------------------------------

pub async fn add_setup_token(db: &Db, token_hash: &str, instance: &str) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("INSERT INTO setup_tokens (token_hash, instance, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(token_hash)
            .bind(instance)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

pub async fn setup_token_exists(db: &Db, token_hash: &str) -> Result<bool, DbError> {
    let n: i64 = on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_one(pool)
            .await?
    });
    Ok(n > 0)
}

/// Creates the first account with a setup token: in one transaction, consumes every setup token (the
/// token given must be one of them) and inserts the user only if there is still no account. Two setups
/// racing cannot both win: the second finds the tokens gone.
pub async fn create_first(db: &Db, token_hash: &str, u: &NewUser) -> Result<Option<UserRow>, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let role = u.platform_role.map(PlatformRole::as_str);
    let row: Option<UserRow> = on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let valid: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_one(&mut *tx)
            .await?;
        let consumed = sqlx::query("DELETE FROM setup_tokens").execute(&mut *tx).await?.rows_affected();
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *tx).await?;
        if valid == 0 || consumed == 0 || users > 0 {
            tx.rollback().await?;
            None
        } else {
            let row: Option<UserRow> = sqlx::query_as(&format!(
                "INSERT INTO users (id, email, display_name, password_hash, platform_role, disabled, created_at,
                                    updated_at, password_changed_at)
                 VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6, $6)
                 RETURNING {COLUMNS}"
            ))
            .bind(&id)
            .bind(&u.email)
            .bind(&u.display_name)
            .bind(&u.password_hash)
            .bind(role)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            row
        }
    });
    Ok(row)
}

/// Removes every setup token (once an account exists they are useless).
pub async fn clear_setup_tokens(db: &Db) -> Result<(), DbError> {
    on_db!(db, pool => sqlx::query("DELETE FROM setup_tokens").execute(pool).await?.rows_affected());
    Ok(())
}
