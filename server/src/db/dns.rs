//! The `dns_zones` table: one row per Sovereign zone Catalyst serves (pool subdomains and bring-your-own
//! domains), and the pool manager's state machine over it:
//!
//! ```text
//! (none) ──reserve──▶ reserved ──commit──▶ active ──release──▶ (none)
//!                        └──── run gone (no live lease) / release ──▶ (none)
//! ```
//!
//! Every transition is one statement whose `WHERE` is the rule, so racing replicas cannot both win. A
//! reservation is alive while its deployment's run holds a lease that has not expired
//! (`deployment_leases.expires_at`); a stale one may be taken over by another deployment or swept.

use super::{Db, DbError, now_ms};
use crate::db::on_db;

const COLUMNS: &str = "zone, pool_domain, subdomain, state, deployment_id, reservation_token, created_by, \
     reserved_at, committed_at, load_balancer_ip, published, tsig_key_name";

/// A reservation is stale when no live lease of its run exists at `$now`.
const NO_LIVE_LEASE: &str = "NOT EXISTS (SELECT 1 FROM deployment_leases l \
     WHERE l.deployment_id = dns_zones.deployment_id AND l.expires_at >= $now)";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ZoneRow {
    pub zone: String,
    pub pool_domain: Option<String>,
    pub subdomain: Option<String>,
    /// `reserved` or `active`.
    pub state: String,
    pub deployment_id: String,
    pub reservation_token: String,
    pub created_by: String,
    pub reserved_at: i64,
    pub committed_at: Option<i64>,
    pub load_balancer_ip: Option<String>,
    pub published: bool,
    pub tsig_key_name: String,
}

impl ZoneRow {
    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// A new reservation.
#[derive(Debug, Clone)]
pub struct NewZone<'a> {
    pub zone: &'a str,
    pub pool_domain: Option<&'a str>,
    pub subdomain: Option<&'a str>,
    pub deployment_id: &'a str,
    pub reservation_token: &'a str,
    pub created_by: &'a str,
    pub tsig_key_name: &'a str,
}

/// What [`reserve`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// A new reservation; `replaced` is the stale reservation of another deployment it took over (its
    /// PowerDNS state must be cleared first).
    New { row: ZoneRow, replaced: Option<ZoneRow> },
    /// The same deployment had reserved (or committed) it already: the existing row.
    Existing(ZoneRow),
    /// Another deployment holds it (alive or active).
    Taken(ZoneRow),
}

/// `text` with `{COLUMNS}` and `{NO_LIVE_LEASE}` filled in, the lease rule's `$now` being parameter `$n`.
fn sql(text: &str, now_param: usize) -> String {
    text.replace("{COLUMNS}", COLUMNS)
        .replace("{NO_LIVE_LEASE}", NO_LIVE_LEASE)
        .replace("$now", &format!("${now_param}"))
}

pub async fn get(db: &Db, zone: &str) -> Result<Option<ZoneRow>, DbError> {
    let q = format!("SELECT {COLUMNS} FROM dns_zones WHERE zone = $1");
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&q).bind(zone).fetch_optional(pool).await?
    }))
}

/// The zones of a deployment (one, except after a rename).
pub async fn of_deployment(db: &Db, deployment_id: &str) -> Result<Vec<ZoneRow>, DbError> {
    let q = format!("SELECT {COLUMNS} FROM dns_zones WHERE deployment_id = $1 ORDER BY zone");
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&q).bind(deployment_id).fetch_all(pool).await?
    }))
}

/// Every zone of a pool, by name.
pub async fn list_pool(db: &Db, pool_domain: &str) -> Result<Vec<ZoneRow>, DbError> {
    let q = format!("SELECT {COLUMNS} FROM dns_zones WHERE pool_domain = $1 ORDER BY zone");
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&q).bind(pool_domain).fetch_all(pool).await?
    }))
}

/// Whether a reservation's run is alive now.
pub async fn is_alive(db: &Db, row: &ZoneRow) -> Result<bool, DbError> {
    let n: i64 = on_db!(db, pool => {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM deployment_leases WHERE deployment_id = $1 AND expires_at >= $2",
        )
        .bind(&row.deployment_id)
        .bind(now_ms())
        .fetch_one(pool)
        .await?
    });
    Ok(n > 0)
}

/// Reserves `new.zone` for `new.deployment_id`: takes over a stale reservation of another deployment,
/// is idempotent for the same deployment, and reports the holder otherwise.
pub async fn reserve(db: &Db, new: &NewZone<'_>) -> Result<Reserved, DbError> {
    let now = now_ms();
    let take_over = sql(
        "DELETE FROM dns_zones WHERE zone = $1 AND state = 'reserved' AND deployment_id <> $2 \
         AND {NO_LIVE_LEASE} RETURNING {COLUMNS}",
        3,
    );
    let replaced = on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&take_over)
            .bind(new.zone)
            .bind(new.deployment_id)
            .bind(now)
            .fetch_optional(pool)
            .await?
    });
    let inserted = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO dns_zones (zone, pool_domain, subdomain, state, deployment_id, reservation_token,
                                    created_by, reserved_at, published, tsig_key_name)
             VALUES ($1, $2, $3, 'reserved', $4, $5, $6, $7, FALSE, $8)
             ON CONFLICT (zone) DO NOTHING",
        )
        .bind(new.zone)
        .bind(new.pool_domain)
        .bind(new.subdomain)
        .bind(new.deployment_id)
        .bind(new.reservation_token)
        .bind(new.created_by)
        .bind(now)
        .bind(new.tsig_key_name)
        .execute(pool)
        .await?
        .rows_affected()
    });
    // Released by someone else between the insert and this read: as if never found.
    let row = get(db, new.zone)
        .await?
        .ok_or(DbError::Query(sqlx::Error::RowNotFound))?;
    Ok(if inserted > 0 {
        Reserved::New { row, replaced }
    } else if row.deployment_id == new.deployment_id {
        Reserved::Existing(row)
    } else {
        Reserved::Taken(row)
    })
}

/// Why a commit did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitRefused {
    NotFound,
    /// Active for another reservation.
    AlreadyActive(ZoneRow),
    TokenMismatch,
    /// The reserving run is gone.
    Expired(ZoneRow),
}

/// reserved → active for the holder of `token` while its run is alive; repeating the commit with the same
/// token returns the active row (a run retries it). The record set is owed until [`mark_published`].
pub async fn commit(
    db: &Db,
    zone: &str,
    token: &str,
    load_balancer_ip: &str,
) -> Result<Result<ZoneRow, CommitRefused>, DbError> {
    let now = now_ms();
    let q = sql(
        "UPDATE dns_zones SET state = 'active', committed_at = $2, load_balancer_ip = $3, published = FALSE \
         WHERE zone = $1 AND state = 'reserved' AND reservation_token = $4 AND NOT ({NO_LIVE_LEASE})",
        2,
    );
    let n = on_db!(db, pool => {
        sqlx::query(&q)
            .bind(zone)
            .bind(now)
            .bind(load_balancer_ip)
            .bind(token)
            .execute(pool)
            .await?
            .rows_affected()
    });
    let row = get(db, zone).await?;
    Ok(match row {
        None => Err(CommitRefused::NotFound),
        Some(row) if n > 0 => Ok(row),
        Some(row) if row.reservation_token != token => {
            if row.is_active() {
                Err(CommitRefused::AlreadyActive(row))
            } else {
                Err(CommitRefused::TokenMismatch)
            }
        }
        Some(row) if row.is_active() => {
            // The same reservation committed before: the run repeats its commit. A new address means the
            // record set is owed again.
            if row.load_balancer_ip.as_deref() != Some(load_balancer_ip) {
                set_address(db, zone, load_balancer_ip).await?;
                return Ok(get(db, zone).await?.ok_or(CommitRefused::NotFound));
            }
            Ok(row)
        }
        Some(row) => Err(CommitRefused::Expired(row)),
    })
}

async fn set_address(db: &Db, zone: &str, ip: &str) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query("UPDATE dns_zones SET load_balancer_ip = $2, published = FALSE WHERE zone = $1")
            .bind(zone)
            .bind(ip)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Records that the record set for `ip` is written (only if the address is still the committed one).
pub async fn mark_published(db: &Db, zone: &str, ip: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "UPDATE dns_zones SET published = TRUE WHERE zone = $1 AND state = 'active' AND load_balancer_ip = $2",
        )
        .bind(zone)
        .bind(ip)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Deletes the row and returns it (any state).
pub async fn release(db: &Db, zone: &str) -> Result<Option<ZoneRow>, DbError> {
    let q = format!("DELETE FROM dns_zones WHERE zone = $1 RETURNING {COLUMNS}");
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&q).bind(zone).fetch_optional(pool).await?
    }))
}

/// Deletes the row if `deployment_id` still holds it, and returns it (any state).
pub async fn release_of(db: &Db, zone: &str, deployment_id: &str) -> Result<Option<ZoneRow>, DbError> {
    let q = format!("DELETE FROM dns_zones WHERE zone = $1 AND deployment_id = $2 RETURNING {COLUMNS}");
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&q)
            .bind(zone)
            .bind(deployment_id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Reservations whose run is gone at `now`.
pub async fn stale(db: &Db, now: i64) -> Result<Vec<ZoneRow>, DbError> {
    let q = sql(
        "SELECT {COLUMNS} FROM dns_zones WHERE state = 'reserved' AND {NO_LIVE_LEASE} ORDER BY zone",
        1,
    );
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, ZoneRow>(&q).bind(now).fetch_all(pool).await?
    }))
}

/// Deletes `row` if it is still the same stale reservation (not committed or taken over meanwhile).
pub async fn delete_if_stale(db: &Db, row: &ZoneRow, now: i64) -> Result<bool, DbError> {
    let q = sql(
        "DELETE FROM dns_zones WHERE zone = $1 AND reservation_token = $2 AND state = 'reserved' \
         AND {NO_LIVE_LEASE}",
        3,
    );
    let n = on_db!(db, pool => {
        sqlx::query(&q)
            .bind(&row.zone)
            .bind(&row.reservation_token)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

/// Deletes `row` if it is still that reservation (undoing a reservation whose setup failed).
pub async fn release_reserved(db: &Db, row: &ZoneRow) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("DELETE FROM dns_zones WHERE zone = $1 AND reservation_token = $2 AND state = 'reserved'")
            .bind(&row.zone)
            .bind(&row.reservation_token)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}
