//! Credit accounts, the append-only credit ledger and orders: the writes, inside a caller's transaction.
//!
//! Contract: an organisation's `credit_accounts.balance_cents` is always the sum of its `credit_ledger`
//! rows, and never below zero. Every change goes through [`post`], inside the caller's transaction: the
//! balance row is changed by one conditional `UPDATE … WHERE balance_cents + amount >= 0`, then the order
//! and the ledger line are inserted. Two spends racing for the last euros cannot both pass: on Postgres the
//! second `UPDATE` waits for the first's row lock and re-checks its `WHERE` on the committed row; SQLite runs
//! one writer at a time. The ledger itself refuses `UPDATE` and `DELETE` (triggers in the migration).
//!
//! [`post`] and its helpers are generic over the sqlx backend so that other capabilities' transactions
//! (a voucher redemption, a deployment's insert) can include them; they import nothing of `crate`.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

/// One change of an organisation's credit, with the order that explains it.
#[derive(Debug, Clone)]
pub struct Posting {
    pub org_id: String,
    /// `+` grant, `−` spend; never 0.
    pub amount_cents: i64,
    pub currency: String,
    /// `voucher:<CODE>` or `deployment:<id>`.
    pub reason: String,
    /// Open the account if the organisation has none (grants); spends need an existing account.
    pub open_account: bool,
    pub order: NewOrder,
    pub ledger_id: String,
    /// ms since epoch.
    pub now: i64,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: String,
    /// `voucher` | `deployment`.
    pub kind: &'static str,
    pub voucher_code: Option<String>,
    pub deployment_id: Option<String>,
    pub amount_cents: i64,
    pub paid_by_credit: bool,
    pub description: String,
    pub created_by: Option<String>,
}

/// The balance after a posting, or `None` when it could not be made: no account (and none to open), another
/// currency, or not enough credit. The caller rolls its transaction back.
pub async fn post<DB>(tx: &mut sqlx::Transaction<'_, DB>, p: &Posting) -> Result<Option<i64>, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    if p.open_account {
        sqlx::query::<DB>(
            "INSERT INTO credit_accounts (org_id, currency, balance_cents, updated_at) VALUES ($1, $2, 0, $3)
             ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(p.org_id.clone())
        .bind(p.currency.clone())
        .bind(p.now)
        .execute(&mut **tx)
        .await?;
    }
    let balance: Option<i64> = sqlx::query_scalar::<DB, i64>(
        "UPDATE credit_accounts SET balance_cents = balance_cents + $2, updated_at = $3
         WHERE org_id = $1 AND currency = $4 AND balance_cents + $2 >= 0
         RETURNING balance_cents",
    )
    .bind(p.org_id.clone())
    .bind(p.amount_cents)
    .bind(p.now)
    .bind(p.currency.clone())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(balance) = balance else {
        return Ok(None);
    };
    let o = &p.order;
    sqlx::query::<DB>(
        "INSERT INTO orders (id, org_id, kind, voucher_code, deployment_id, amount_cents, currency,
           paid_by_credit, status, description, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'completed', $9, $10, $11)",
    )
    .bind(o.id.clone())
    .bind(p.org_id.clone())
    .bind(o.kind.to_string())
    .bind(o.voucher_code.clone())
    .bind(o.deployment_id.clone())
    .bind(o.amount_cents)
    .bind(p.currency.clone())
    .bind(o.paid_by_credit)
    .bind(o.description.clone())
    .bind(o.created_by.clone())
    .bind(p.now)
    .execute(&mut **tx)
    .await?;
    sqlx::query::<DB>(
        "INSERT INTO credit_ledger (id, org_id, amount_cents, currency, reason, order_id, balance_after_cents, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(p.ledger_id.clone())
    .bind(p.org_id.clone())
    .bind(p.amount_cents)
    .bind(p.currency.clone())
    .bind(p.reason.clone())
    .bind(o.id.clone())
    .bind(balance)
    .bind(p.now)
    .execute(&mut **tx)
    .await?;
    Ok(Some(balance))
}
