//! Money as integer minor units (cents) and its one text form, the same in the browser and on the server.
//! No floats: parsing and formatting are integer arithmetic (and keep float formatting out of the wasm).

/// The currency of Catalyst's price table (`crate::cloud`: EUR list prices), and so of every credit.
pub const CURRENCY: &str = "EUR";

/// `1234` EUR → `€12.34`; other currencies → `12.34 XYZ`. Negative amounts get a leading minus sign.
pub fn format_money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (units, rest) = (abs / 100, abs % 100);
    let units = group_thousands(units);
    if currency == "EUR" {
        format!("{sign}€{units}.{rest:02}")
    } else {
        format!("{sign}{units}.{rest:02} {currency}")
    }
}

/// `1234567` → `1,234,567`.
fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The largest amount a form accepts: a million in the currency's units.
pub const MAX_CENTS: i64 = 100_000_000;

/// Parses what a person types for an amount: `100`, `100.5`, `100.50`, `1,000.00`, `€25`. Returns cents, or
/// a sentence saying what to type instead.
pub fn parse_money(text: &str) -> Result<i64, String> {
    let t = text.trim().trim_start_matches('€').trim();
    let t: String = t.chars().filter(|c| *c != ',' && *c != ' ').collect();
    let bad = || format!("“{}” is not an amount; type e.g. 100 or 12.50.", text.trim());
    if t.is_empty() {
        return Err("Enter an amount, e.g. 100 or 12.50.".into());
    }
    let (units, fraction) = match t.split_once('.') {
        Some((u, f)) => (u, f),
        None => (t.as_str(), ""),
    };
    if units.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    if !units.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if fraction.len() > 2 {
        return Err(format!(
            "“{}” has more than two decimals; amounts are in cents.",
            text.trim()
        ));
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units
            .parse()
            .map_err(|_| format!("“{}” is too large.", text.trim()))?
    };
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().map_err(|_| bad())? * 10,
        _ => fraction.parse::<i64>().map_err(|_| bad())?,
    };
    let total = units
        .checked_mul(100)
        .and_then(|u| u.checked_add(cents))
        .filter(|c| *c <= MAX_CENTS)
        .ok_or_else(|| {
            format!(
                "“{}” is too large; at most {}.",
                text.trim(),
                format_money(MAX_CENTS, CURRENCY)
            )
        })?;
    Ok(total)
}

/// Cents as a form's initial text: `10000` → `100.00`.
pub fn cents_to_input(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_floats() {
        assert_eq!(format_money(0, "EUR"), "€0.00");
        assert_eq!(format_money(10_000, "EUR"), "€100.00");
        assert_eq!(format_money(1_694, "EUR"), "€16.94");
        assert_eq!(format_money(-1_694, "EUR"), "-€16.94");
        assert_eq!(format_money(123_456_789, "EUR"), "€1,234,567.89");
        assert_eq!(format_money(5, "OMR"), "0.05 OMR");
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(parse_money("100"), Ok(10_000));
        assert_eq!(parse_money(" 100.5 "), Ok(10_050));
        assert_eq!(parse_money("100.05"), Ok(10_005));
        assert_eq!(parse_money("1,000.00"), Ok(100_000));
        assert_eq!(parse_money("€25"), Ok(2_500));
        assert_eq!(parse_money(".5"), Ok(50));
        for bad in [
            "",
            "abc",
            "1.234",
            "-5",
            "1e3",
            "1.2.3",
            ".",
            "99999999999999999999",
        ] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
        assert!(parse_money("1000001").is_err(), "over the maximum");
        assert_eq!(cents_to_input(10_000), "100.00");
        assert_eq!(cents_to_input(1_205), "12.05");
    }
}
