//! An organisation's credit: the billing page (balance, ledger, orders) and what a launch would cost against
//! the credit. An organisation with a credit account is one that redeemed a voucher.

pub mod http;
pub mod ledger;
pub mod store;

use app::auth::Principal;
use app::auth::policy::{self, Action};
use app::billing::{BillingOverview, CURRENCY, CreditQuote, format_money};
use app::error::AppError;
use app::ports::BillingPort;
use async_trait::async_trait;

use crate::db::{self, Db};
use crate::error::Error;

/// Lines of the ledger and orders the billing page shows.
const PAGE_LINES: i64 = 200;

/// The billing capability behind [`BillingPort`].
#[derive(Clone)]
pub struct Billing {
    pub db: Db,
}

impl Billing {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The organisations whose billing `me` may read, `(id, name)`, their own first.
    async fn readable_orgs(&self, me: &Principal) -> Result<Vec<(String, String)>, AppError> {
        let mut orgs: Vec<(String, String)> = me
            .memberships
            .iter()
            .filter(|m| policy::allowed(me, Action::BillingRead, Some(&m.org_id)))
            .map(|m| (m.org_id.clone(), m.org_name.clone()))
            .collect();
        if policy::allowed_everywhere(me, Action::BillingRead) {
            for o in db::orgs::list(&self.db).await.map_err(Error::from)? {
                if !orgs.iter().any(|(id, _)| *id == o.id) {
                    orgs.push((o.id, o.name));
                }
            }
        }
        Ok(orgs)
    }
}

/// What a launch of `monthly_cents` does to an organisation's credit: not billed (no account), covered, or
/// refused with the amount missing.
pub fn quote(account: Option<&store::Account>, monthly_cents: i64) -> CreditQuote {
    match account {
        None => CreditQuote {
            billed: false,
            balance_cents: 0,
            monthly_cents,
            currency: CURRENCY.to_string(),
            missing_cents: 0,
        },
        Some(a) => CreditQuote {
            billed: true,
            balance_cents: a.balance_cents,
            monthly_cents,
            currency: a.currency.clone(),
            missing_cents: (monthly_cents - a.balance_cents).max(0),
        },
    }
}

/// The refusal of a launch the credit does not cover: the amount missing, and what to do.
pub fn not_covered(q: &CreditQuote) -> AppError {
    AppError::Conflict(format!(
        "Your organisation's credit ({}) does not cover this Sovereign's first month ({}): {} is missing. \
         Redeem another voucher on the billing page, or choose smaller nodes or fewer regions.",
        format_money(q.balance_cents, &q.currency),
        format_money(q.monthly_cents, &q.currency),
        format_money(q.missing_cents, &q.currency),
    ))
}

/// What launching a request costing `monthly` cents a month as deployment `deployment_id` charges organisation
/// `org_id`: `None` when the organisation is not billed (no credit account) or the launch costs nothing; the
/// posting to make in the deployment's insert transaction (`db::deployments::insert_charged`) when the credit
/// covers the first month (`Engine::launch_price_cents`, the figure the Review step shows); [`not_covered`]
/// when it does not.
/// The insert checks the balance again in its own transaction, so a spend racing this launch refuses it there.
pub async fn launch_charge(
    db: &Db,
    org_id: &str,
    deployment_id: &str,
    fqdn: &str,
    monthly: i64,
    user_id: &str,
) -> Result<Option<ledger::Posting>, AppError> {
    let Some(account) = store::account(db, org_id).await.map_err(Error::from)? else {
        return Ok(None);
    };
    if monthly <= 0 {
        return Ok(None);
    }
    let q = quote(Some(&account), monthly);
    if !q.covered() {
        return Err(not_covered(&q));
    }
    Ok(Some(ledger::Posting {
        org_id: org_id.to_string(),
        amount_cents: -monthly,
        currency: account.currency.clone(),
        reason: format!("deployment:{deployment_id}"),
        open_account: false,
        order: ledger::NewOrder {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "deployment",
            voucher_code: None,
            deployment_id: Some(deployment_id.to_string()),
            amount_cents: monthly,
            paid_by_credit: true,
            description: format!("Sovereign {fqdn}: first month (730 h at Hetzner's prices, without VAT)"),
            created_by: Some(user_id.to_string()),
        },
        ledger_id: uuid::Uuid::new_v4().to_string(),
        now: db::now_ms(),
    }))
}

/// The refusal when the insert's own transaction found the credit short (a spend raced this launch).
pub async fn not_covered_now(db: &Db, org_id: &str, monthly_cents: i64) -> AppError {
    match store::account(db, org_id).await {
        Ok(account) => not_covered(&quote(account.as_ref(), monthly_cents)),
        Err(e) => Error::from(e).into(),
    }
}

#[async_trait]
impl BillingPort for Billing {
    async fn overview(&self, me: &Principal, org_id: Option<&str>) -> Result<BillingOverview, AppError> {
        let orgs = self.readable_orgs(me).await?;
        let (org_id, org_name) = match org_id {
            Some(id) => {
                policy::require(me, Action::BillingRead, Some(id))?;
                let org = db::orgs::by_id(&self.db, id)
                    .await
                    .map_err(Error::from)?
                    .ok_or_else(|| AppError::NotFound("There is no such organisation.".into()))?;
                (org.id, org.name)
            }
            None => orgs
                .first()
                .cloned()
                .ok_or_else(|| AppError::Forbidden(Action::BillingRead.name().into()))?,
        };
        let account = store::account(&self.db, &org_id).await.map_err(Error::from)?;
        Ok(BillingOverview {
            has_account: account.is_some(),
            balance_cents: account.as_ref().map_or(0, |a| a.balance_cents),
            currency: account
                .as_ref()
                .map_or_else(|| CURRENCY.to_string(), |a| a.currency.clone()),
            ledger: store::ledger(&self.db, &org_id, PAGE_LINES)
                .await
                .map_err(Error::from)?,
            orders: store::orders(&self.db, &org_id, PAGE_LINES)
                .await
                .map_err(Error::from)?,
            can_redeem: policy::allowed(me, Action::BillingRedeem, Some(&org_id)),
            orgs,
            org_id,
            org_name,
        })
    }

    async fn quote(&self, me: &Principal, org_id: &str, monthly_cents: i64) -> Result<CreditQuote, AppError> {
        // Whoever may launch in the organisation may see what the launch costs it.
        if !policy::allowed(me, Action::BillingRead, Some(org_id)) {
            policy::require(me, Action::DeploymentCreate, Some(org_id))?;
        }
        let account = store::account(&self.db, org_id).await.map_err(Error::from)?;
        Ok(quote(account.as_ref(), monthly_cents.max(0)))
    }
}
