//! The rules of vouchers, shared by the admin form (browser), the server functions and the REST API.

use super::types::NewVoucher;
use crate::billing::{CURRENCY, MAX_CENTS};
use crate::error::FieldError;

pub const MIN_CODE: usize = 3;
pub const MAX_CODE: usize = 64;
pub const MAX_DESCRIPTION: usize = 500;
pub const MAX_REDEMPTIONS_LIMIT: i64 = 1_000_000;

/// A code as stored and compared: trimmed and upper-cased. Codes are ASCII (issuing refuses anything
/// else), so ASCII folding makes every comparison case-insensitive without Unicode case tables.
pub fn normalize_code(raw: &str) -> String {
    raw.trim().to_ascii_uppercase()
}

/// Whether a normalised code could be a voucher at all (length and characters); previews of codes that
/// could not are simply "not valid".
pub fn plausible_code(code: &str) -> bool {
    (MIN_CODE..=MAX_CODE).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The issuing rules; every problem names its field (`code`, `credit`, `currency`, `description`,
/// `max_redemptions`, `recipient_email`).
pub fn new_voucher(v: &NewVoucher) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let code = normalize_code(&v.code);
    if code.is_empty() {
        errors.push(FieldError::new("code", "Enter a code, e.g. SPRING-2027."));
    } else if !plausible_code(&code) {
        errors.push(FieldError::new(
            "code",
            format!("A code is {MIN_CODE}–{MAX_CODE} letters (A–Z), digits, “-” or “_”, e.g. SPRING-2027."),
        ));
    }
    if v.credit_cents <= 0 {
        errors.push(FieldError::new(
            "credit",
            "Give the voucher some credit, e.g. 100.",
        ));
    } else if v.credit_cents > MAX_CENTS {
        errors.push(FieldError::new(
            "credit",
            format!(
                "A voucher gives at most {}.",
                crate::billing::format_money(MAX_CENTS, CURRENCY)
            ),
        ));
    }
    if v.currency.trim().to_ascii_uppercase() != CURRENCY {
        errors.push(FieldError::new(
            "currency",
            format!("Vouchers are issued in {CURRENCY}, the currency of Catalyst's price table."),
        ));
    }
    if v.description.chars().count() > MAX_DESCRIPTION {
        errors.push(FieldError::new(
            "description",
            format!("Keep the description under {MAX_DESCRIPTION} characters."),
        ));
    } else if v.description.chars().any(|c| c.is_control() && c != '\n') {
        errors.push(FieldError::new(
            "description",
            "The description may not contain control characters.",
        ));
    }
    if !(0..=MAX_REDEMPTIONS_LIMIT).contains(&v.max_redemptions) {
        errors.push(FieldError::new(
            "max_redemptions",
            format!("Enter 0 for unlimited, or a number up to {MAX_REDEMPTIONS_LIMIT}."),
        ));
    }
    if let Some(email) = v.recipient_email.as_deref().filter(|e| !e.trim().is_empty())
        && let Err(e) = crate::auth::validate::email("recipient_email", email)
    {
        errors.push(e);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher(code: &str, credit: i64) -> NewVoucher {
        NewVoucher {
            code: code.into(),
            credit_cents: credit,
            currency: "EUR".into(),
            description: String::new(),
            active: true,
            max_redemptions: 0,
            recipient_email: None,
        }
    }

    #[test]
    fn codes_fold_to_upper_case() {
        assert_eq!(normalize_code("  spring-2027 "), "SPRING-2027");
        assert!(plausible_code("SPRING_2027"));
        for bad in ["AB", "SPRÍNG", "A B C", "ABC!", &"A".repeat(65), "abc"] {
            assert!(!plausible_code(bad), "{bad}");
        }
    }

    #[test]
    fn issuing_names_each_bad_field() {
        assert!(new_voucher(&voucher("spring-2027", 10_000)).is_empty());
        let fields = |v: &NewVoucher| new_voucher(v).into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(fields(&voucher("", 10_000)), ["code"]);
        assert_eq!(fields(&voucher("no spaces", 10_000)), ["code"]);
        assert_eq!(fields(&voucher("OK1", 0)), ["credit"]);
        assert_eq!(fields(&voucher("OK1", MAX_CENTS + 1)), ["credit"]);
        let mut v = voucher("OK1", 100);
        v.currency = "omr".into();
        v.max_redemptions = -1;
        v.recipient_email = Some("not-an-address".into());
        v.description = "x".repeat(MAX_DESCRIPTION + 1);
        assert_eq!(
            fields(&v),
            ["currency", "description", "max_redemptions", "recipient_email"]
        );
        v = voucher("OK1", 100);
        v.currency = "eur".into();
        v.recipient_email = Some("  ".into());
        assert!(new_voucher(&v).is_empty(), "an empty recipient means none");
    }
}
