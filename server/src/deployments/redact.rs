//! Removes secret values from text before it becomes an event: OpenTofu marks its sensitive variables, but
//! a provider's error message or a wrapper script may still echo a token. Every line of a run passes here.

/// What a secret is replaced with.
pub const MASK: &str = "[redacted]";

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Secrets shorter than 6 characters are ignored: masking them would shred ordinary words.
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(|s| s.as_ref().trim().to_string())
            .filter(|s| s.len() >= 6)
            .collect();
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// The same, masking `secret` too.
    pub fn and(self, secret: &str) -> Self {
        Self::new(self.secrets.into_iter().chain([secret.to_string()]))
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let r = Redactor::new(["abcdef123456", "abcdef", "xy"]);
        assert_eq!(
            r.apply("token abcdef123456 and abcdef and xy"),
            "token [redacted] and [redacted] and xy"
        );
        assert_eq!(Redactor::default().apply("plain"), "plain");
    }
}
