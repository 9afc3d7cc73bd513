//! The pool manager's refusals (reference §F.1's error kinds, with sentences that say what to do) and the
//! canonical record set.

use serde::{Deserialize, Serialize};

/// TTL of every record of a Sovereign's record set (seconds).
pub const RECORD_TTL: u32 = 300;

/// The names of the canonical record set, relative to the Sovereign's zone, each an `A` record of the load
/// balancer's IPv4 address: the apex, the wildcard (every service host: `gitea`, `harbor`, `keycloak`, …)
/// and `console` explicitly (a wildcard does not match a name that exists for another reason, e.g. an
/// ACME challenge under it, and the console is the one host Catalyst itself links to).
pub const CANONICAL_NAMES: &[&str] = &["@", "*", "console"];

/// Why the pool manager refused a reservation, commit or release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "detail", rename_all = "kebab-case")]
pub enum PoolError {
    /// The subdomain breaks the label rule (the rule's own sentence).
    #[error("{0}")]
    InvalidFormat(String),
    /// Not one of this console's pool domains.
    #[error(
        "{0} is not a pool domain of this console — pick one of the offered pools or use your own domain."
    )]
    UnsupportedPool(String),
    /// A name kept for the Sovereign's own services.
    #[error("“{0}” is reserved for the Sovereign control plane — choose another subdomain.")]
    Reserved(String),
    /// Another deployment holds the name (a reservation in progress or a live Sovereign).
    #[error(
        "{0} is already taken by another Sovereign or a deployment in progress — choose another subdomain."
    )]
    Conflict(String),
    /// No reservation of that name.
    #[error("{0} is not reserved; reserve it first.")]
    NotFound(String),
    /// Committed already, by another reservation.
    #[error("{0} is already active for another Sovereign.")]
    AlreadyActive(String),
    /// The commit presented another reservation's token.
    #[error("the reservation token does not match the reservation of {0}.")]
    TokenMismatch(String),
    /// The reserving run stopped holding its lease; the name may have gone to someone else.
    #[error(
        "the reservation of {0} expired because its run stopped; retry the deployment to reserve it again."
    )]
    ReservationExpired(String),
    /// A commit needs the load balancer's IPv4 address.
    #[error(
        "{0} cannot be published without the load balancer's IPv4 address; retry once OpenTofu reported it."
    )]
    MissingLbIp(String),
    /// Catalyst's DNS server did not do its part (a sentence without internals).
    #[error("{0}")]
    DnsUnavailable(String),
}

impl PoolError {
    /// The kebab-case kind, as the REST API's `error` field.
    pub fn kind(&self) -> &'static str {
        match self {
            PoolError::InvalidFormat(_) => "invalid-format",
            PoolError::UnsupportedPool(_) => "unsupported-pool",
            PoolError::Reserved(_) => "reserved",
            PoolError::Conflict(_) => "conflict",
            PoolError::NotFound(_) => "not-found",
            PoolError::AlreadyActive(_) => "already-active",
            PoolError::TokenMismatch(_) => "token-mismatch",
            PoolError::ReservationExpired(_) => "reservation-expired",
            PoolError::MissingLbIp(_) => "missing-lb-ip",
            PoolError::DnsUnavailable(_) => "dns-unavailable",
        }
    }

    /// The HTTP status of §F.1 for this kind.
    pub fn status(&self) -> u16 {
        match self {
            PoolError::InvalidFormat(_)
            | PoolError::UnsupportedPool(_)
            | PoolError::Reserved(_)
            | PoolError::MissingLbIp(_) => 422,
            PoolError::Conflict(_) | PoolError::AlreadyActive(_) => 409,
            PoolError::NotFound(_) => 404,
            PoolError::TokenMismatch(_) => 403,
            PoolError::ReservationExpired(_) => 410,
            PoolError::DnsUnavailable(_) => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_follow_the_pool_api() {
        let f = "acme.omani.works".to_string();
        let all = [
            (PoolError::InvalidFormat("x".into()), "invalid-format", 422),
            (
                PoolError::UnsupportedPool("x.example".into()),
                "unsupported-pool",
                422,
            ),
            (PoolError::Reserved("console".into()), "reserved", 422),
            (PoolError::Conflict(f.clone()), "conflict", 409),
            (PoolError::NotFound(f.clone()), "not-found", 404),
            (PoolError::AlreadyActive(f.clone()), "already-active", 409),
            (PoolError::TokenMismatch(f.clone()), "token-mismatch", 403),
            (
                PoolError::ReservationExpired(f.clone()),
                "reservation-expired",
                410,
            ),
            (PoolError::MissingLbIp(f.clone()), "missing-lb-ip", 422),
            (PoolError::DnsUnavailable("down".into()), "dns-unavailable", 503),
        ];
        for (e, kind, status) in all {
            assert_eq!(e.kind(), kind);
            assert_eq!(e.status(), status);
            let json = serde_json::to_value(&e).expect("json");
            assert_eq!(json["error"], kind, "the wire names the kind: {json}");
            assert!(!e.to_string().is_empty());
        }
    }
}
