//! Server functions of the voucher pages. Thin: resolve the caller, call `VouchersPort`, shape the answer.
//! `redeem_state` is public (the `/redeem` landing page calls it signed out); the others need a session.

use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;
use crate::paging::Page;

/// What the redeem page shows for `code`: missing, not valid, ended or valid. Never an error: a problem
/// looking the code up is the `Unavailable` state, with what to do.
#[server(name = RedeemStateFn, endpoint = "vouchers/redeem_state")]
pub async fn redeem_state(code: Option<String>) -> Result<RedeemState, AppError> {
    let code = code.unwrap_or_default();
    if code.trim().is_empty() {
        return Ok(RedeemState::Missing);
    }
    let meta = crate::auth::request_meta();
    Ok(match crate::ports::vouchers()?.preview(&code, &meta).await {
        Ok(p) if p.accepting_redemptions => RedeemState::Valid(p),
        Ok(p) => RedeemState::Ended(p),
        Err(AppError::NotFound(_)) | Err(AppError::BadRequest(_)) => RedeemState::NotValid,
        Err(e @ AppError::RateLimited { .. }) => RedeemState::Unavailable(e.to_string()),
        Err(_) => RedeemState::Unavailable(
            "Could not validate the voucher right now. Try again in a minute.".into(),
        ),
    })
}

/// One page of vouchers, newest first; `q` matches part of a code or description in any case.
#[server(endpoint = "vouchers/list")]
pub async fn list_vouchers(
    q: Option<String>,
    revoked: Option<bool>,
    page: Option<i64>,
) -> Result<Page<Voucher>, AppError> {
    let me = crate::auth::principal()?;
    let query = VoucherQuery {
        q: q.filter(|q| !q.trim().is_empty()),
        revoked: revoked.unwrap_or(false),
        page,
        per_page: Some(20),
    };
    crate::ports::vouchers()?.list(&me, query).await
}

/// A voucher with its redemption history and e-mails.
#[server(name = VoucherDetailFn, endpoint = "vouchers/detail")]
pub async fn voucher_detail(code: String) -> Result<VoucherDetail, AppError> {
    let me = crate::auth::principal()?;
    crate::ports::vouchers()?.detail(&me, &code).await
}

/// Issues a voucher from the admin form. `credit` is an amount as typed (`100`, `12.50`); `active` is the
/// checkbox (present = on); an empty `max_redemptions` means unlimited.
#[server(endpoint = "vouchers/issue")]
pub async fn issue_voucher(
    code: String,
    credit: String,
    description: Option<String>,
    active: Option<String>,
    max_redemptions: Option<String>,
    recipient_email: Option<String>,
) -> Result<IssuedVoucher, AppError> {
    use crate::error::FieldError;
    let meta = crate::auth::request_meta();
    let me = crate::auth::principal()?;
    let mut errors = Vec::new();
    let credit_cents = crate::billing::parse_money(&credit).unwrap_or_else(|message| {
        errors.push(FieldError::new("credit", message));
        0
    });
    let max = match max_redemptions.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(n) => n.parse::<i64>().unwrap_or_else(|_| {
            errors.push(FieldError::new(
                "max_redemptions",
                "Enter a whole number: 0 for unlimited.",
            ));
            0
        }),
    };
    let input = NewVoucher {
        code,
        credit_cents,
        currency: crate::billing::CURRENCY.to_string(),
        description: description.unwrap_or_default().trim().to_string(),
        active: active.is_some_and(|a| a != "false"),
        max_redemptions: max,
        recipient_email: recipient_email.filter(|e| !e.trim().is_empty()),
    };
    if !errors.is_empty() {
        // Report the form's own problems together with the shared rules' others.
        for e in super::validate::new_voucher(&input) {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
        return Err(AppError::Invalid(errors));
    }
    let issued = crate::ports::vouchers()?.issue(&me, input, &meta).await?;
    crate::auth::redirect_form_post(&crate::routes::page("vouchers"));
    Ok(issued)
}

/// Switches a voucher on (`active = true`) or off.
#[server(endpoint = "vouchers/set_active")]
pub async fn set_voucher_active(code: String, active: bool) -> Result<Voucher, AppError> {
    let meta = crate::auth::request_meta();
    let me = crate::auth::principal()?;
    let v = crate::ports::vouchers()?
        .set_active(&me, &code, active, &meta)
        .await?;
    crate::auth::redirect_form_post(&crate::routes::page("vouchers"));
    Ok(v)
}

/// Revokes a voucher for good (the confirm step of the admin page sends the code again as `confirm`).
#[server(endpoint = "vouchers/revoke")]
pub async fn revoke_voucher(code: String, confirm: String) -> Result<(), AppError> {
    let meta = crate::auth::request_meta();
    let me = crate::auth::principal()?;
    if super::validate::normalize_code(&confirm) != super::validate::normalize_code(&code) {
        return Err(AppError::invalid(
            "confirm",
            "Confirm by revoking the voucher from its own row.",
        ));
    }
    crate::ports::vouchers()?.revoke(&me, &code, &meta).await?;
    crate::auth::redirect_form_post(&crate::routes::page("vouchers"));
    Ok(())
}
