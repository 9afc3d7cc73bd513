//! Hetzner Cloud: a typed API client (`client`: the wizard's token check, listing, deleting), the wipe's
//! orphan sweep (`sweep`), and the resource naming `infra/hetzner` and the sweep share.
//!
//! The engine calls:
//! - [`HetznerClient::new`]`(api_url, token)` then [`HetznerClient::validate_token`] for the credentials step;
//! - [`sweep`]`(&client, &SweepTarget { deployment_id, name_prefix: name_prefix(fqdn) }, &SweepOptions::default())`
//!   after `tofu destroy` in a wipe, and [`inventory`] to show what a wipe would remove.

pub mod catalogue;
pub mod client;
pub mod sweep;

pub use client::{DEFAULT_API_URL, HetznerClient, HetznerError, TokenProblem};
pub use sweep::{Resource, ResourceKind, SweepOptions, SweepTarget, TeardownReport, inventory, sweep};

use sha2::{Digest, Sha256};

/// Longest prefix, so that `<prefix>-<region key>-cp<n>` stays within Hetzner's 63-character server names.
const MAX_PREFIX: usize = 41;

/// The prefix of every Hetzner resource name of a Sovereign: `catalyst-<fqdn with dots as dashes>`, e.g.
/// `catalyst-acme-omani-works`. A long FQDN is cut and given 8 hex characters of its SHA-256, so the prefix
/// stays unique and at most 41 characters. `infra/hetzner` receives it as `name_prefix`; the sweep matches
/// on it.
pub fn name_prefix(fqdn: &str) -> String {
    let mut slug = String::new();
    for c in fqdn.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let full = format!("catalyst-{slug}");
    if full.len() <= MAX_PREFIX && !slug.is_empty() {
        return full;
    }
    let hash = Sha256::digest(fqdn.trim().to_ascii_lowercase().as_bytes());
    let hex: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    // "catalyst-" + head + "-" + 8 hex = MAX_PREFIX
    let keep = MAX_PREFIX - "catalyst-".len() - 1 - hex.len();
    let head: String = slug.chars().take(keep).collect();
    let head = head.trim_end_matches('-');
    if head.is_empty() {
        format!("catalyst-{hex}")
    } else {
        format!("catalyst-{head}-{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_fqdns_read_as_they_are() {
        assert_eq!(name_prefix("acme.omani.works"), "catalyst-acme-omani-works");
        assert_eq!(name_prefix(" Acme.Example.COM "), "catalyst-acme-example-com");
    }

    #[test]
    fn long_fqdns_are_cut_and_stay_distinct() {
        let a = name_prefix("platform.very-long-company-name-for-testing.example.com");
        let b = name_prefix("platform.very-long-company-name-for-testing.example.org");
        assert!(a.len() <= MAX_PREFIX, "{a}");
        assert!(a.starts_with("catalyst-platform-very-long"), "{a}");
        assert_ne!(a, b);
        assert!(!a.contains("--"));
        assert_eq!(
            a,
            name_prefix("platform.very-long-company-name-for-testing.example.com")
        );
    }
}
