//! Wire types of an organisation's credit: its balance, the append-only ledger, orders, and what a launch
//! would cost against the credit.

use serde::{Deserialize, Serialize};

use crate::preflight::CostEstimate;

/// One line of the credit ledger: a grant (+, a redeemed voucher) or a spend (−, a launch paid by credit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub amount_cents: i64,
    pub currency: String,
    /// `voucher:<CODE>` or `deployment:<id>`.
    pub reason: String,
    pub order_id: String,
    /// The balance right after this entry.
    pub balance_after_cents: i64,
    pub created_at: i64,
}

/// What an organisation acquired and how it was paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    /// `voucher` (a redemption: amount 0, credit granted) or `deployment` (a launch paid by credit).
    pub kind: String,
    pub voucher_code: Option<String>,
    pub deployment_id: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub paid_by_credit: bool,
    pub status: String,
    pub description: String,
    pub created_at: i64,
}

/// The billing page of one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOverview {
    pub org_id: String,
    pub org_name: String,
    /// Whether the organisation has a credit account (it redeemed a voucher): only then are launches paid
    /// by credit and refused when it does not cover them.
    pub has_account: bool,
    pub balance_cents: i64,
    pub currency: String,
    /// Newest first.
    pub ledger: Vec<LedgerEntry>,
    /// Newest first.
    pub orders: Vec<Order>,
    /// Whether the caller may redeem a voucher for this organisation.
    pub can_redeem: bool,
    /// The organisations the caller may look at (for the switcher), `(id, name)`.
    pub orgs: Vec<(String, String)>,
}

/// What redeeming a voucher did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub code: String,
    pub org_id: String,
    pub order_id: String,
    pub credit_cents: i64,
    pub currency: String,
    pub balance_cents: i64,
}

/// A launch's monthly cost against an organisation's credit (the wizard's Review step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditQuote {
    /// The organisation pays launches with credit (it has a credit account).
    pub billed: bool,
    pub balance_cents: i64,
    pub monthly_cents: i64,
    pub currency: String,
    /// `monthly − balance` when the credit does not cover it; 0 otherwise.
    pub missing_cents: i64,
}

impl CreditQuote {
    pub fn covered(&self) -> bool {
        !self.billed || self.missing_cents == 0
    }
}

/// What a launch paid by credit is charged for its first month, in cents: the pre-flight estimate's monthly
/// total without VAT (everything `infra/hetzner` creates, at Hetzner's monthly caps — the figure the Review
/// step shows), rounded half up to the cent.
pub fn monthly_cost_cents(estimate: &CostEstimate) -> i64 {
    let nanos = estimate.monthly.net.0;
    if nanos <= 0 {
        return 0;
    }
    (nanos + 5_000_000) / 10_000_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::{Money, Price, PriceSource};

    fn monthly(nanos: i64) -> CostEstimate {
        CostEstimate {
            regions: Vec::new(),
            hourly: Price::ZERO,
            monthly: Price {
                net: Money(nanos),
                gross: Money(nanos * 2),
            },
            currency: "EUR".into(),
            vat_rate: "19.00".into(),
            source: PriceSource::BuiltIn,
            as_of_ms: None,
        }
    }

    #[test]
    fn the_charge_is_the_net_monthly_estimate_in_cents() {
        assert_eq!(monthly_cost_cents(&monthly(84_214_999_999)), 8_421);
        assert_eq!(monthly_cost_cents(&monthly(84_215_000_000)), 8_422);
        assert_eq!(monthly_cost_cents(&monthly(0)), 0);
        assert_eq!(monthly_cost_cents(&monthly(-5)), 0);
    }
}
