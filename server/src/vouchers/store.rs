//! Vouchers, their redemptions, and redeeming one.
//!
//! Contract of [`redeem`] — one transaction holds the claim on the voucher, the redemption, the order and
//! the ledger entry, so either all of them exist or none does:
//! 1. `UPDATE vouchers SET times_redeemed = times_redeemed + 1 WHERE code = $1 AND deleted_at IS NULL AND
//!    active AND (max_redemptions = 0 OR times_redeemed < max_redemptions)`: a **conditional update**, not
//!    a read-then-write. On Postgres the row lock it takes makes a concurrent redeemer wait and then
//!    re-evaluate the `WHERE` against the committed row (READ COMMITTED), so the cap cannot be overshot;
//!    SQLite has one writer at a time, and the `UPDATE` is the transaction's first statement, so it takes
//!    the write lock before reading anything (no stale snapshot to upgrade). Chosen over `SELECT … FOR
//!    UPDATE` because it is one statement on both backends (SQLite has no `FOR UPDATE`) and the cap check
//!    *is* the write.
//! 2. `INSERT INTO voucher_redemptions … ON CONFLICT (org_id, code) DO NOTHING`: the primary key is the
//!    one-per-organisation rule; a second try rolls step 1 back.
//! 3. The order and the ledger's grant ([`crate::billing::ledger::post`]).
//!
//! Codes are upper-cased by the caller ([`app::vouchers::validate::normalize_code`]) before any lookup.

use app::paging::{Page, PageRequest};
use app::vouchers::{Voucher, VoucherMail, VoucherRedemption};

use crate::billing::ledger::{self, NewOrder, Posting};
use crate::db::on_db;
use crate::db::{Db, DbError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VoucherRow {
    pub code: String,
    pub credit_cents: i64,
    pub currency: String,
    pub description: String,
    pub active: bool,
    pub max_redemptions: i64,
    pub times_redeemed: i64,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub creator_email: Option<String>,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

const COLUMNS: &str = "v.code, v.credit_cents, v.currency, v.description, v.active, v.max_redemptions, \
     v.times_redeemed, v.created_at, v.created_by, u.email AS creator_email, v.updated_at, v.deleted_at";
const FROM: &str = "vouchers v LEFT JOIN users u ON u.id = v.created_by";

impl From<VoucherRow> for Voucher {
    fn from(r: VoucherRow) -> Self {
        Voucher {
            code: r.code,
            credit_cents: r.credit_cents,
            currency: r.currency,
            description: r.description,
            active: r.active,
            max_redemptions: r.max_redemptions,
            times_redeemed: r.times_redeemed,
            created_at: r.created_at,
            created_by: r.creator_email,
            deleted_at: r.deleted_at,
        }
    }
}

/// A voucher to insert (already validated and normalised).
#[derive(Debug, Clone)]
pub struct NewVoucherRow {
    pub code: String,
    pub credit_cents: i64,
    pub currency: String,
    pub description: String,
    pub active: bool,
    pub max_redemptions: i64,
    pub created_by: Option<String>,
    pub now: i64,
}

/// Inserts a voucher. A code that exists (live or revoked: codes are never reused, so a revoked code's
/// history stays unambiguous) is `Ok(false)`.
pub async fn insert(db: &Db, v: &NewVoucherRow) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO vouchers (code, credit_cents, currency, description, active, max_redemptions,
               times_redeemed, created_at, created_by, updated_at, deleted_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $7, NULL)
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(&v.code)
        .bind(v.credit_cents)
        .bind(&v.currency)
        .bind(&v.description)
        .bind(v.active)
        .bind(v.max_redemptions)
        .bind(v.now)
        .bind(&v.created_by)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// The voucher with this (normalised) code, revoked or not.
pub async fn get(db: &Db, code: &str) -> Result<Option<VoucherRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, VoucherRow>(&format!("SELECT {COLUMNS} FROM {FROM} WHERE v.code = $1"))
            .bind(code)
            .fetch_optional(pool)
            .await?
    }))
}

/// `%`, `_` and `\` taken literally in a `LIKE … ESCAPE '\'` pattern.
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.trim().to_uppercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Newest first; `q` matches part of a code or description in any case; revoked vouchers only with
/// `revoked`.
pub async fn list(
    db: &Db,
    q: Option<&str>,
    revoked: bool,
    page: PageRequest,
) -> Result<Page<VoucherRow>, DbError> {
    let mut filter = String::from("WHERE 1 = 1");
    if !revoked {
        filter.push_str(" AND v.deleted_at IS NULL");
    }
    let pattern = q.filter(|q| !q.trim().is_empty()).map(like_pattern);
    if pattern.is_some() {
        filter.push_str(" AND (v.code LIKE $1 ESCAPE '\\' OR UPPER(v.description) LIKE $1 ESCAPE '\\')");
    }
    let (limit_at, offset_at) = if pattern.is_some() { (2, 3) } else { (1, 2) };
    let (items, total): (Vec<VoucherRow>, i64) = on_db!(db, pool => {
        let list_sql = format!(
            "SELECT {COLUMNS} FROM {FROM} {filter} ORDER BY v.created_at DESC, v.code DESC LIMIT ${limit_at} OFFSET ${offset_at}"
        );
        let count_sql = format!("SELECT COUNT(*) FROM {FROM} {filter}");
        let mut list = sqlx::query_as::<_, VoucherRow>(&list_sql);
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        if let Some(p) = &pattern {
            list = list.bind(p.clone());
            count = count.bind(p.clone());
        }
        let items = list
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
        (items, count.fetch_one(pool).await?)
    });
    Ok(Page {
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// Switches a live voucher on or off. `None` if there is no live voucher with this code.
pub async fn set_active(db: &Db, code: &str, active: bool, now: i64) -> Result<Option<VoucherRow>, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("UPDATE vouchers SET active = $2, updated_at = $3 WHERE code = $1 AND deleted_at IS NULL")
            .bind(code)
            .bind(active)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if n == 0 {
        return Ok(None);
    }
    get(db, code).await
}

/// Revokes a live voucher: a tombstone, switched off. The redemptions, orders and ledger lines stay.
pub async fn revoke(db: &Db, code: &str, now: i64) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "UPDATE vouchers SET deleted_at = $2, active = FALSE, updated_at = $2 WHERE code = $1 AND deleted_at IS NULL",
        )
        .bind(code)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

#[derive(Debug, sqlx::FromRow)]
struct RedemptionRow {
    org_id: String,
    org_name: Option<String>,
    user_email: Option<String>,
    order_id: String,
    created_at: i64,
}

/// Who redeemed a voucher, newest first.
pub async fn redemptions(db: &Db, code: &str) -> Result<Vec<VoucherRedemption>, DbError> {
    let rows: Vec<RedemptionRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT r.org_id, o.name AS org_name, u.email AS user_email, r.order_id, r.created_at
             FROM voucher_redemptions r
             LEFT JOIN organisations o ON o.id = r.org_id
             LEFT JOIN users u ON u.id = r.user_id
             WHERE r.code = $1 ORDER BY r.created_at DESC, r.org_id",
        )
        .bind(code)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| VoucherRedemption {
            org_name: r.org_name.unwrap_or_else(|| r.org_id.clone()),
            org_id: r.org_id,
            user_email: r.user_email,
            order_id: r.order_id,
            created_at: r.created_at,
        })
        .collect())
}

#[derive(Debug, sqlx::FromRow)]
struct MailRow {
    recipient: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
}

/// The e-mails about a voucher, newest first.
pub async fn mails(db: &Db, code: &str) -> Result<Vec<VoucherMail>, DbError> {
    let rows: Vec<MailRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT recipient, status, attempts, last_error, created_at, sent_at FROM mail_outbox
             WHERE subject_ref = $1 ORDER BY created_at DESC, id",
        )
        .bind(format!("voucher:{code}"))
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| VoucherMail {
            recipient: r.recipient,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
        .collect())
}

/// One redemption to make.
#[derive(Debug, Clone)]
pub struct Redeem {
    /// Normalised.
    pub code: String,
    pub org_id: String,
    pub user_id: Option<String>,
    pub order_id: String,
    pub ledger_id: String,
    pub now: i64,
}

/// What a redemption gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub credit_cents: i64,
    pub currency: String,
    pub balance_cents: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    /// No live voucher with this code (unknown or revoked).
    #[error("no such voucher")]
    NotFound,
    /// Switched off.
    #[error("the voucher is switched off")]
    Inactive,
    /// Every redemption it allows has been made.
    #[error("the voucher is used up")]
    UsedUp,
    #[error("this organisation has redeemed the voucher already")]
    AlreadyRedeemed,
    /// The organisation's credit account is in another currency.
    #[error("the organisation's credit is in another currency")]
    Currency,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Redeems a voucher for an organisation; see the module's contract.
pub async fn redeem(db: &Db, r: &Redeem) -> Result<Redeemed, RedeemError> {
    let outcome: Result<Redeemed, RedeemError> = on_db!(db, pool => {
        async {
            let mut tx = pool.begin().await?;
            // 1. Claim one redemption of the cap (the write comes first; see the module header).
            let claimed: Option<(i64, String, String)> = sqlx::query_as(
                "UPDATE vouchers SET times_redeemed = times_redeemed + 1, updated_at = $2
                 WHERE code = $1 AND deleted_at IS NULL AND active = TRUE
                   AND (max_redemptions = 0 OR times_redeemed < max_redemptions)
                 RETURNING credit_cents, currency, code",
            )
            .bind(&r.code)
            .bind(r.now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((credit_cents, currency, code)) = claimed else {
                return Err(RedeemError::NotFound);
            };
            // 2. One redemption per organisation per code.
            let inserted = sqlx::query(
                "INSERT INTO voucher_redemptions (org_id, code, user_id, order_id, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, code) DO NOTHING",
            )
            .bind(&r.org_id)
            .bind(&code)
            .bind(&r.user_id)
            .bind(&r.order_id)
            .bind(r.now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(RedeemError::AlreadyRedeemed);
            }
            // 3. The order and the ledger's grant.
            let posting = Posting {
                org_id: r.org_id.clone(),
                amount_cents: credit_cents,
                currency: currency.clone(),
                reason: format!("voucher:{code}"),
                open_account: true,
                order: NewOrder {
                    id: r.order_id.clone(),
                    kind: "voucher",
                    voucher_code: Some(code.clone()),
                    deployment_id: None,
                    amount_cents: 0,
                    paid_by_credit: false,
                    description: format!("Voucher {code} redeemed"),
                    created_by: r.user_id.clone(),
                },
                ledger_id: r.ledger_id.clone(),
                now: r.now,
            };
            let Some(balance_cents) = ledger::post(&mut tx, &posting).await? else {
                return Err(RedeemError::Currency);
            };
            tx.commit().await?;
            Ok(Redeemed {
                credit_cents,
                currency,
                balance_cents,
            })
        }
        .await
    });
    match outcome {
        // The claim found no voucher that accepts redemptions: say which case it is.
        Err(RedeemError::NotFound) => match get(db, &r.code).await.map_err(db_error)? {
            None => Err(RedeemError::NotFound),
            Some(v) if v.deleted_at.is_some() => Err(RedeemError::NotFound),
            Some(v) if !v.active => Err(RedeemError::Inactive),
            Some(_) => Err(RedeemError::UsedUp),
        },
        other => other,
    }
}

fn db_error(e: DbError) -> RedeemError {
    match e {
        DbError::Query(e) => RedeemError::Db(e),
        other => RedeemError::Db(sqlx::Error::Protocol(other.to_string())),
    }
}
