//! Server functions of the billing page and the wizard's Review step. Thin: caller, `BillingPort`, answer.

use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

/// The billing page of an organisation (default: the caller's first).
#[server(name = BillingOverviewFn, endpoint = "billing/overview")]
pub async fn billing_overview(org: Option<String>) -> Result<BillingOverview, AppError> {
    let me = crate::auth::principal()?;
    let org = org.filter(|o| !o.trim().is_empty());
    crate::ports::billing()?.overview(&me, org.as_deref()).await
}

/// Redeems a voucher code for an organisation.
#[server(endpoint = "billing/redeem")]
pub async fn redeem_voucher(org_id: String, code: String) -> Result<Redemption, AppError> {
    let meta = crate::auth::request_meta();
    let me = crate::auth::principal()?;
    let r = crate::ports::vouchers()?
        .redeem(&me, &org_id, &code, &meta)
        .await?;
    crate::auth::redirect_form_post(&format!("{}?org={}", crate::routes::page("billing"), r.org_id));
    Ok(r)
}

/// A launch costing `monthly_cents` a month against the organisation's credit (the Review step).
#[server(name = CreditQuoteFn, endpoint = "billing/quote")]
pub async fn credit_quote(org_id: String, monthly_cents: i64) -> Result<CreditQuote, AppError> {
    let me = crate::auth::principal()?;
    crate::ports::billing()?.quote(&me, &org_id, monthly_cents).await
}
