//! Wire types of vouchers. JSON field names follow the voucher API's snake_case (`accepting_redemptions`,
//! `max_redemptions`), as the redeem-preview contract names them.

use serde::{Deserialize, Serialize};

/// A voucher as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    /// Upper-case; compared case-insensitively everywhere.
    pub code: String,
    pub credit_cents: i64,
    pub currency: String,
    pub description: String,
    pub active: bool,
    /// 0 = unlimited.
    pub max_redemptions: i64,
    pub times_redeemed: i64,
    pub created_at: i64,
    /// E-mail of the issuer, when known.
    pub created_by: Option<String>,
    /// Set when revoked.
    pub deleted_at: Option<i64>,
}

impl Voucher {
    /// `active && (max == 0 || times < max)`, and not revoked.
    pub fn accepting_redemptions(&self) -> bool {
        self.deleted_at.is_none()
            && self.active
            && (self.max_redemptions == 0 || self.times_redeemed < self.max_redemptions)
    }

    /// One word for lists: Active, Ended (switched off or used up), Revoked.
    pub fn state_label(&self) -> &'static str {
        if self.deleted_at.is_some() {
            "Revoked"
        } else if !self.active {
            "Off"
        } else if self.accepting_redemptions() {
            "Active"
        } else {
            "Used up"
        }
    }
}

/// What issuing takes (REST body and the admin form, after parsing the amount).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVoucher {
    pub code: String,
    pub credit_cents: i64,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default)]
    pub max_redemptions: i64,
    /// Someone to e-mail the voucher to (request-only: not stored with the voucher; the queued message
    /// holds it until it is sent).
    #[serde(default)]
    pub recipient_email: Option<String>,
}

fn default_currency() -> String {
    crate::billing::CURRENCY.to_string()
}

fn default_true() -> bool {
    true
}

/// The answer to issuing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedVoucher {
    pub voucher: Voucher,
    /// A message to the recipient was queued (it is sent in the background, retried on failure).
    pub email_queued: bool,
}

/// What anyone may learn about a code (the public redeem preview): no counts, no dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedeemPreview {
    pub code: String,
    pub credit_cents: i64,
    pub currency: String,
    pub description: String,
    pub active: bool,
    pub accepting_redemptions: bool,
}

/// The one answer of the redeem page and the preview behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RedeemState {
    /// No code given: the page asks for one.
    Missing,
    /// No such code, or revoked (indistinguishable on purpose).
    NotValid,
    /// The voucher exists but is switched off or used up.
    Ended(RedeemPreview),
    Valid(RedeemPreview),
    /// The preview could not be made (rate limit, database): the sentence says what to do.
    Unavailable(String),
}

/// One organisation's redemption of a voucher (the history kept after a revoke).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherRedemption {
    pub org_id: String,
    pub org_name: String,
    pub user_email: Option<String>,
    pub order_id: String,
    pub created_at: i64,
}

/// A queued or sent voucher e-mail, for the voucher's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherMail {
    pub recipient: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// A voucher with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherDetail {
    pub voucher: Voucher,
    pub redemptions: Vec<VoucherRedemption>,
    pub mails: Vec<VoucherMail>,
}

/// The admin list's query.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VoucherQuery {
    /// Part of a code or description, any case.
    #[serde(default)]
    pub q: Option<String>,
    /// Include revoked vouchers.
    #[serde(default)]
    pub revoked: bool,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default, rename = "perPage")]
    pub per_page: Option<i64>,
}
