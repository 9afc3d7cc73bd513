//! Amounts of money without floating point: Hetzner writes prices as decimal strings with 16 places
//! (`"13.9900000000000000"`); Catalyst keeps them as whole nano-units (10⁻⁹ EUR), adds them exactly and
//! rounds only to show them. (No float formatting either, so the browser's code stays small.)

use serde::{Deserialize, Serialize};

/// An amount in 10⁻⁹ of the currency unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

const NANOS: i64 = 1_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    /// A decimal string as Hetzner writes it (`"0.0595000000000000"`, `"5"`, `"-1.5"`). Digits past the ninth
    /// decimal are rounded half away from zero. `None` for anything else.
    pub fn parse(s: &str) -> Option<Money> {
        let s = s.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut nanos: i64 = 0;
        for (i, b) in frac.bytes().take(9).enumerate() {
            nanos += i64::from(b - b'0') * 10_i64.pow(8 - i as u32);
        }
        if frac.as_bytes().get(9).is_some_and(|b| *b >= b'5') {
            nanos += 1;
        }
        let v = whole.checked_mul(NANOS)?.checked_add(nanos)?;
        Some(Money(if neg { -v } else { v }))
    }

    /// Whole units and cents: `Money::eur(13, 99)`.
    pub const fn eur(units: i64, cents: i64) -> Money {
        Money(units * NANOS + cents * (NANOS / 100))
    }

    pub fn times(self, n: u64) -> Money {
        Money(self.0.saturating_mul(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    /// `self × num / den`, rounded half away from zero.
    pub fn ratio(self, num: i64, den: i64) -> Money {
        if den == 0 {
            return Money::ZERO;
        }
        let p = i128::from(self.0) * i128::from(num);
        let d = i128::from(den);
        let q = if (p >= 0) == (d > 0) {
            (p + d / 2) / d
        } else {
            (p - d / 2) / d
        };
        Money(i64::try_from(q).unwrap_or(i64::MAX))
    }

    /// The amount rounded to `decimals` places (≤ 9), as text: `13.99`, `0.0228`.
    pub fn fixed(self, decimals: u32) -> String {
        let decimals = decimals.min(9);
        let unit = 10_i64.pow(9 - decimals);
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let unit = unit as u64;
        let rounded = (abs + unit / 2) / unit;
        let scale = 10_u64.pow(decimals);
        let (whole, frac) = (rounded / scale, rounded % scale);
        let sign = if neg && rounded > 0 { "-" } else { "" };
        if decimals == 0 {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
        }
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0.saturating_add(o.0))
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// A price as Hetzner shows it: without VAT (`net`) and with it (`gross`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub net: Money,
    pub gross: Money,
}

impl Price {
    pub const ZERO: Price = Price {
        net: Money::ZERO,
        gross: Money::ZERO,
    };

    pub fn times(self, n: u64) -> Price {
        Price {
            net: self.net.times(n),
            gross: self.gross.times(n),
        }
    }

    pub fn ratio(self, num: i64, den: i64) -> Price {
        Price {
            net: self.net.ratio(num, den),
            gross: self.gross.ratio(num, den),
        }
    }
}

impl std::ops::Add for Price {
    type Output = Price;
    fn add(self, o: Price) -> Price {
        Price {
            net: self.net + o.net,
            gross: self.gross + o.gross,
        }
    }
}

impl std::ops::AddAssign for Price {
    fn add_assign(&mut self, o: Price) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Price {
    fn sum<I: Iterator<Item = Price>>(iter: I) -> Price {
        iter.fold(Price::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hetzners_decimal_strings() {
        assert_eq!(Money::parse("13.9900000000000000"), Some(Money::eur(13, 99)));
        assert_eq!(Money::parse("0.0228000000000000"), Some(Money(22_800_000)));
        assert_eq!(Money::parse("5"), Some(Money::eur(5, 0)));
        assert_eq!(Money::parse(".5"), Some(Money::eur(0, 50)));
        assert_eq!(Money::parse("-1.25"), Some(Money(-1_250_000_000)));
        // The tenth decimal rounds the ninth.
        assert_eq!(Money::parse("0.0000000015"), Some(Money(2)));
        assert_eq!(Money::parse("0.0000000014"), Some(Money(1)));
        for bad in ["", ".", "1.2.3", "1e3", "abc", "1,5", " - 1"] {
            assert_eq!(Money::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn shows_rounded_amounts() {
        assert_eq!(Money::eur(13, 99).fixed(2), "13.99");
        assert_eq!(Money(22_850_000).fixed(4), "0.0229");
        assert_eq!(Money(22_849_999).fixed(4), "0.0228");
        assert_eq!(Money(-1_005_000_000).fixed(2), "-1.01");
        assert_eq!(Money(1_500_000_000).fixed(0), "2");
        assert_eq!(Money::ZERO.fixed(2), "0.00");
    }

    #[test]
    fn ratios_round_half_away_from_zero() {
        assert_eq!(Money(10).ratio(1, 4), Money(3));
        assert_eq!(Money(-10).ratio(1, 4), Money(-3));
        assert_eq!(Money::eur(7, 30).ratio(1, 730), Money(10_000_000));
        assert_eq!(Money(5).ratio(1, 0), Money::ZERO);
    }
}
