//! Reads of credit accounts, the ledger and orders (the writes are [`super::ledger`]'s).

use app::billing::{LedgerEntry, Order};

use crate::db::on_db;
use crate::db::{Db, DbError};

/// An organisation's credit account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub org_id: String,
    pub currency: String,
    pub balance_cents: i64,
    pub updated_at: i64,
}

pub async fn account(db: &Db, org_id: &str) -> Result<Option<Account>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, Account>(
            "SELECT org_id, currency, balance_cents, updated_at FROM credit_accounts WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(pool)
        .await?
    }))
}

#[derive(Debug, sqlx::FromRow)]
struct LedgerRow {
    id: String,
    amount_cents: i64,
    currency: String,
    reason: String,
    order_id: String,
    balance_after_cents: i64,
    created_at: i64,
}

/// The organisation's ledger, newest first (at most `limit` lines).
pub async fn ledger(db: &Db, org_id: &str, limit: i64) -> Result<Vec<LedgerEntry>, DbError> {
    let rows: Vec<LedgerRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, amount_cents, currency, reason, order_id, balance_after_cents, created_at
             FROM credit_ledger WHERE org_id = $1 ORDER BY created_at DESC, balance_after_cents ASC LIMIT $2",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| LedgerEntry {
            id: r.id,
            amount_cents: r.amount_cents,
            currency: r.currency,
            reason: r.reason,
            order_id: r.order_id,
            balance_after_cents: r.balance_after_cents,
            created_at: r.created_at,
        })
        .collect())
}

/// Σ of the organisation's ledger: what the account's balance must equal (tests and benchmarks check it).
pub async fn ledger_sum(db: &Db, org_id: &str) -> Result<i64, DbError> {
    let sum: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT CAST(SUM(amount_cents) AS BIGINT) FROM credit_ledger WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(pool)
            .await?
    });
    Ok(sum.unwrap_or(0))
}

#[derive(Debug, sqlx::FromRow)]
struct OrderRow {
    id: String,
    kind: String,
    voucher_code: Option<String>,
    deployment_id: Option<String>,
    amount_cents: i64,
    currency: String,
    paid_by_credit: bool,
    status: String,
    description: String,
    created_at: i64,
}

impl From<OrderRow> for Order {
    fn from(r: OrderRow) -> Self {
        Order {
            id: r.id,
            kind: r.kind,
            voucher_code: r.voucher_code,
            deployment_id: r.deployment_id,
            amount_cents: r.amount_cents,
            currency: r.currency,
            paid_by_credit: r.paid_by_credit,
            status: r.status,
            description: r.description,
            created_at: r.created_at,
        }
    }
}

/// The organisation's orders, newest first (at most `limit`).
pub async fn orders(db: &Db, org_id: &str, limit: i64) -> Result<Vec<Order>, DbError> {
    let rows: Vec<OrderRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, kind, voucher_code, deployment_id, amount_cents, currency, paid_by_credit, status,
               description, created_at
             FROM orders WHERE org_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(org_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(Order::from).collect())
}

/// The order of a deployment, if it was paid by credit.
pub async fn deployment_order(db: &Db, deployment_id: &str) -> Result<Option<Order>, DbError> {
    let row: Option<OrderRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, kind, voucher_code, deployment_id, amount_cents, currency, paid_by_credit, status,
               description, created_at
             FROM orders WHERE deployment_id = $1 AND kind = 'deployment'",
        )
        .bind(deployment_id)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(Order::from))
}
