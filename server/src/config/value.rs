//! What every option's validation shares: the error that names the option ([`ConfigError`]) and the one
//! duration syntax ([`parse_duration`]). A leaf: the capabilities' own option groups (`auth::config`,
//! `gitops::config`) use it without reaching back into the whole configuration.

use std::time::Duration;

/// A configuration problem: which option, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {problem}")]
pub struct ConfigError {
    pub option: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(option: &'static str, problem: impl Into<String>) -> Self {
        Self {
            option,
            problem: problem.into(),
        }
    }
}

/// The one duration syntax of every option: a whole number and a unit — `500ms`, `90s`, `15m`, `2h`, `7d` —
/// or plain seconds (`42`). Zero and anything over [`MAX_DURATION`] (366 days) are refused: no option needs
/// more, and a deadline that far away could overflow a clock.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let not_a_duration =
        || format!("“{s}” is not a duration; use a number and ms, s, m, h or d, e.g. 90s, 15m or 2h");
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| not_a_duration())?;
    let (per, millis) = match unit.trim() {
        "" | "s" => (1, false),
        "ms" => (1, true),
        "m" | "min" => (60, false),
        "h" => (3600, false),
        "d" => (86_400, false),
        _ => return Err(not_a_duration()),
    };
    let d = n
        .checked_mul(per)
        .map(|n| {
            if millis {
                Duration::from_millis(n)
            } else {
                Duration::from_secs(n)
            }
        })
        .filter(|d| *d <= MAX_DURATION)
        .ok_or_else(|| format!("“{s}” is too long a duration; use at most 366d"))?;
    if d.is_zero() {
        return Err(format!("“{s}” is zero; give a positive duration such as 90s"));
    }
    Ok(d)
}

/// The longest duration any option takes.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);
