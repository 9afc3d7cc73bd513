//! An organisation's credit: the billing page (balance, ledger, orders) and what a launch would cost against
//! the credit. An organisation with a credit account is one that redeemed a voucher.

pub mod http;
pub mod ledger;
pub mod store;

use app::auth::Principal;
use app::auth::policy::{self, Action};
use app::billing::{BillingOverview, CURRENCY, CreditQuote};
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
