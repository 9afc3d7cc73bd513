//! Franchise vouchers: issuing and administering them, the public preview of a code, and redeeming one for
//! an organisation. One service behind `VouchersPort` and `SignupVouchers`; the REST API (`http.rs`),
//! the server functions and sign-up all call it. Codes are case-insensitive: every entry point
//! upper-cases (ASCII) the code it is given before anything else.

pub mod email;
pub mod http;
pub mod store;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use app::audit::Outcome;
use app::auth::policy::{self, Action};
use app::auth::{Principal, RequestMeta};
use app::billing::{Redemption, format_money};
use app::error::AppError;
use app::paging::{Page, PageRequest};
use app::ports::{SignupVouchers, VouchersPort};
use app::vouchers::validate::{new_voucher, normalize_code, plausible_code};
use app::vouchers::{IssuedVoucher, NewVoucher, RedeemPreview, Voucher, VoucherDetail, VoucherQuery};
use async_trait::async_trait;

use crate::auth::Auth;
use crate::auth::audit::Actor;
use crate::auth::ratelimit::{AddressLimit, IpQuota};
use crate::db::{self, Db, now_ms};
use crate::error::Error;
use crate::mail::Mailer;
use store::{NewVoucherRow, Redeem, RedeemError};

/// Redeem previews per client address: 30 at once, then one every 2 s (a person typing codes never
/// notices; guessing codes gets slow).
pub const PREVIEW_QUOTA: IpQuota = IpQuota {
    burst: 30,
    every: Duration::from_secs(2),
};

/// The vouchers capability.
pub struct Vouchers {
    db: Db,
    auth: Auth,
    mailer: Arc<Mailer>,
    preview_limit: AddressLimit,
}

impl Vouchers {
    pub fn new(db: Db, auth: Auth, mailer: Arc<Mailer>) -> Self {
        Self::with_preview_quota(db, auth, mailer, PREVIEW_QUOTA)
    }

    pub fn with_preview_quota(db: Db, auth: Auth, mailer: Arc<Mailer>, quota: IpQuota) -> Self {
        Self {
            db,
            auth,
            mailer,
            preview_limit: AddressLimit::new(quota, "voucher checks"),
        }
    }

    /// Forgets client addresses whose preview bucket is full again (keeps memory bounded).
    pub fn sweep(&self) {
        self.preview_limit.sweep();
    }

    async fn audit(&self, me: &Principal, action: &str, target: &str, detail: &str, meta: &RequestMeta) {
        self.auth
            .record(Actor::of(me), action, target, Outcome::Success, detail, meta)
            .await;
    }

    /// Queues the voucher e-mail. A failure is logged and reported as "not queued", never returned.
    async fn queue_mail(&self, v: &Voucher, recipient: &str) -> bool {
        let mail = email::voucher_mail(
            self.mailer.public_origin(),
            recipient,
            &v.code,
            v.credit_cents,
            &v.currency,
            &v.description,
        );
        match self.mailer.queue(&mail).await {
            Ok(Some(_)) => true,
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(voucher = %v.code, error = %e, "cannot queue the voucher e-mail");
                false
            }
        }
    }

    /// Redeems for `org_id`; every refusal names the `field` the code was typed into.
    async fn redeem_as(
        &self,
        field: &str,
        org_id: &str,
        user_id: Option<&str>,
        code: &str,
    ) -> Result<Redemption, AppError> {
        let code = normalize_code(code);
        if code.is_empty() {
            return Err(AppError::invalid(field, "Enter a voucher code."));
        }
        let not_valid = || {
            AppError::invalid(
                field,
                format!("The voucher {code} is not valid: it does not exist or has been retired."),
            )
        };
        if !plausible_code(&code) {
            return Err(not_valid());
        }
        let order_id = uuid::Uuid::new_v4().to_string();
        let redeemed = store::redeem(
            &self.db,
            &Redeem {
                code: code.clone(),
                org_id: org_id.to_string(),
                user_id: user_id.map(str::to_string),
                order_id: order_id.clone(),
                ledger_id: uuid::Uuid::new_v4().to_string(),
                now: now_ms(),
            },
        )
        .await;
        match redeemed {
            Ok(r) => Ok(Redemption {
                code,
                org_id: org_id.to_string(),
                order_id,
                credit_cents: r.credit_cents,
                currency: r.currency,
                balance_cents: r.balance_cents,
            }),
            Err(RedeemError::NotFound) => Err(not_valid()),
            Err(RedeemError::Inactive | RedeemError::UsedUp) => Err(AppError::invalid(
                field,
                format!("This campaign has ended: the voucher {code} no longer accepts redemptions."),
            )),
            Err(RedeemError::AlreadyRedeemed) => Err(AppError::invalid(
                field,
                format!(
                    "This organisation has redeemed {code} already; each organisation can redeem a voucher once."
                ),
            )),
            Err(RedeemError::Currency) => Err(AppError::invalid(
                field,
                "This organisation's credit is kept in another currency than this voucher's.",
            )),
            Err(RedeemError::Db(e)) => Err(Error::from(e).into()),
        }
    }

    async fn live(&self, code: &str) -> Result<Option<store::VoucherRow>, AppError> {
        let code = normalize_code(code);
        if !plausible_code(&code) {
            return Ok(None);
        }
        Ok(store::get(&self.db, &code)
            .await
            .map_err(Error::from)?
            .filter(|v| v.deleted_at.is_none()))
    }
}

fn preview_of(v: &Voucher) -> RedeemPreview {
    RedeemPreview {
        code: v.code.clone(),
        credit_cents: v.credit_cents,
        currency: v.currency.clone(),
        description: v.description.clone(),
        active: v.active,
        accepting_redemptions: v.accepting_redemptions(),
    }
}

fn no_voucher(code: &str) -> AppError {
    AppError::NotFound(format!("There is no voucher {}.", normalize_code(code)))
}

fn limits_sentence(v: &Voucher) -> String {
    let cap = match v.max_redemptions {
        0 => "unlimited redemptions".to_string(),
        1 => "1 redemption".to_string(),
        n => format!("up to {n} redemptions"),
    };
    format!(
        "{} credit, {cap}, {}",
        format_money(v.credit_cents, &v.currency),
        if v.active { "active" } else { "off" }
    )
}

#[async_trait]
impl VouchersPort for Vouchers {
    async fn issue(
        &self,
        me: &Principal,
        input: NewVoucher,
        meta: &RequestMeta,
    ) -> Result<IssuedVoucher, AppError> {
        policy::require(me, Action::VoucherIssue, None)?;
        let errors = new_voucher(&input);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let code = normalize_code(&input.code);
        let inserted = store::insert(
            &self.db,
            &NewVoucherRow {
                code: code.clone(),
                credit_cents: input.credit_cents,
                currency: input.currency.trim().to_ascii_uppercase(),
                description: input.description.trim().to_string(),
                active: input.active,
                max_redemptions: input.max_redemptions,
                created_by: Some(me.user_id.clone()),
                now: now_ms(),
            },
        )
        .await
        .map_err(Error::from)?;
        if !inserted {
            return Err(AppError::invalid(
                "code",
                format!(
                    "The code {code} is taken (codes are never reused, revoked ones included); choose another."
                ),
            ));
        }
        let voucher: Voucher = store::get(&self.db, &code)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::Internal("The voucher vanished right after it was issued.".into()))?
            .into();
        let recipient = input
            .recipient_email
            .as_deref()
            .map(app::auth::validate::normalize_email)
            .filter(|e| !e.is_empty());
        let email_queued = match &recipient {
            Some(to) => self.queue_mail(&voucher, to).await,
            None => false,
        };
        let mut detail = format!("Voucher {code} issued: {}.", limits_sentence(&voucher));
        match (&recipient, email_queued) {
            (Some(to), true) => detail.push_str(&format!(" E-mail to {to} queued.")),
            (Some(to), false) => detail.push_str(&format!(
                " E-mail to {to} NOT queued (no SMTP server configured, or the outbox failed)."
            )),
            _ => {}
        }
        self.audit(me, "vouchers.issue", &code, &detail, meta).await;
        Ok(IssuedVoucher {
            voucher,
            email_queued,
        })
    }

    async fn list(&self, me: &Principal, query: VoucherQuery) -> Result<Page<Voucher>, AppError> {
        policy::require(me, Action::VoucherRead, None)?;
        let page = PageRequest::new(query.page, query.per_page);
        let rows = store::list(&self.db, query.q.as_deref(), query.revoked, page)
            .await
            .map_err(Error::from)?;
        Ok(Page {
            items: rows.items.into_iter().map(Into::into).collect(),
            total: rows.total,
            page: rows.page,
            per_page: rows.per_page,
        })
    }

    async fn detail(&self, me: &Principal, code: &str) -> Result<VoucherDetail, AppError> {
        policy::require(me, Action::VoucherRead, None)?;
        let code = normalize_code(code);
        let voucher = store::get(&self.db, &code)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| no_voucher(&code))?;
        Ok(VoucherDetail {
            voucher: voucher.into(),
            redemptions: store::redemptions(&self.db, &code).await.map_err(Error::from)?,
            mails: store::mails(&self.db, &code).await.map_err(Error::from)?,
        })
    }

    async fn set_active(
        &self,
        me: &Principal,
        code: &str,
        active: bool,
        meta: &RequestMeta,
    ) -> Result<Voucher, AppError> {
        policy::require(me, Action::VoucherUpdate, None)?;
        let code = normalize_code(code);
        let v: Voucher = store::set_active(&self.db, &code, active, now_ms())
            .await
            .map_err(Error::from)?
            .ok_or_else(|| no_voucher(&code))?
            .into();
        let detail = format!("Voucher {code} switched {}.", if active { "on" } else { "off" });
        self.audit(me, "vouchers.update", &code, &detail, meta).await;
        Ok(v)
    }

    async fn revoke(&self, me: &Principal, code: &str, meta: &RequestMeta) -> Result<(), AppError> {
        policy::require(me, Action::VoucherRevoke, None)?;
        let code = normalize_code(code);
        if !store::revoke(&self.db, &code, now_ms())
            .await
            .map_err(Error::from)?
        {
            return Err(no_voucher(&code));
        }
        let detail = format!("Voucher {code} revoked; its redemption history is kept.");
        self.audit(me, "vouchers.revoke", &code, &detail, meta).await;
        Ok(())
    }

    async fn preview(&self, code: &str, meta: &RequestMeta) -> Result<RedeemPreview, AppError> {
        self.preview_limit.check(meta.ip.parse::<IpAddr>().ok())?;
        if code.trim().is_empty() {
            return Err(AppError::BadRequest(
                "code is required: send {\"code\": \"<your voucher code>\"}.".into(),
            ));
        }
        // Unknown and revoked codes are indistinguishable on purpose.
        match self.live(code).await? {
            Some(v) => Ok(preview_of(&v.into())),
            None => Err(AppError::NotFound(
                "voucher not valid: this code does not exist or has been retired.".into(),
            )),
        }
    }

    async fn redeem(
        &self,
        me: &Principal,
        org_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Redemption, AppError> {
        policy::require(me, Action::BillingRedeem, Some(org_id))?;
        let org = db::orgs::by_id(&self.db, org_id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("There is no such organisation.".into()))?;
        let r = self.redeem_as("code", &org.id, Some(&me.user_id), code).await?;
        let detail = format!(
            "Voucher {} redeemed for {}: +{} credit, balance {}.",
            r.code,
            org.name,
            format_money(r.credit_cents, &r.currency),
            format_money(r.balance_cents, &r.currency)
        );
        self.audit(me, "billing.redeem", &org.id, &detail, meta).await;
        Ok(r)
    }
}

#[async_trait]
impl SignupVouchers for Vouchers {
    async fn check(&self, code: &str) -> Result<RedeemPreview, AppError> {
        let code_upper = normalize_code(code);
        match self.live(code).await? {
            None => Err(AppError::invalid(
                "voucher",
                format!("The voucher {code_upper} is not valid: it does not exist or has been retired."),
            )),
            Some(v) => {
                let p = preview_of(&v.into());
                if p.accepting_redemptions {
                    Ok(p)
                } else {
                    Err(AppError::invalid(
                        "voucher",
                        format!(
                            "This campaign has ended: the voucher {code_upper} no longer accepts redemptions."
                        ),
                    ))
                }
            }
        }
    }

    async fn redeem_for_new_account(
        &self,
        user_id: &str,
        user_email: &str,
        org_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Redemption, AppError> {
        let r = self.redeem_as("voucher", org_id, Some(user_id), code).await?;
        self.auth
            .record(
                Actor::User {
                    id: user_id,
                    label: user_email,
                },
                "billing.redeem",
                org_id,
                Outcome::Success,
                &format!(
                    "Voucher {} redeemed at sign-up: +{} credit.",
                    r.code,
                    format_money(r.credit_cents, &r.currency)
                ),
                meta,
            )
            .await;
        Ok(r)
    }
}
