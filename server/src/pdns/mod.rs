//! Catalyst's authoritative DNS: the PowerDNS Authoritative Server, reached through its HTTP API
//! (`--pdns-url`, `--pdns-server-id`, the API key from `CATALYST_PDNS_API_KEY` or `--pdns-api-key-file`).
//! A leaf module: zones, record sets, delegation, DNSSEC keys, zone metadata and TSIG keys; what to write
//! where is the `dns` capability's business.
//!
//! Errors are [`PdnsError`]: its `Display` is for the operator's log (status and PowerDNS's own text);
//! [`PdnsError::tenant_message`] is what a tenant may read.

pub mod client;
pub mod config;
pub mod names;

pub use client::{CryptoKey, PdnsClient, RecordSet, ServerInfo, TsigKey, Zone};
pub use config::{PdnsArgs, PdnsSettings};

/// A failed PowerDNS call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdnsError {
    /// No answer: connection refused, timeout, broken transfer.
    #[error("PowerDNS could not be reached: {0}")]
    Unreachable(String),
    /// 401/403: the API key is wrong.
    #[error("PowerDNS refused the API key (check CATALYST_PDNS_API_KEY / --pdns-api-key-file)")]
    Unauthorized,
    /// 404 for the named zone, key or server id.
    #[error("PowerDNS has no {0}")]
    NotFound(String),
    /// 409: it exists already.
    #[error("PowerDNS already has {0}")]
    Conflict(String),
    /// 400/422: PowerDNS refused the change (its reason, e.g. “Name is out of zone”).
    #[error("PowerDNS refused the change to {what}: {message}")]
    Rejected { what: String, message: String },
    /// Any other status (5xx …).
    #[error("PowerDNS answered HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// A success status with a body that is not what the API documents.
    #[error("PowerDNS sent an unexpected answer about {0}")]
    Malformed(String),
}

impl PdnsError {
    /// What a tenant may be told: no addresses, keys or PowerDNS internals.
    pub fn tenant_message(&self) -> &'static str {
        match self {
            PdnsError::Unreachable(_) | PdnsError::Server { .. } => {
                "Catalyst's DNS server is not answering right now; try again in a moment."
            }
            PdnsError::Unauthorized | PdnsError::Malformed(_) => {
                "Catalyst's DNS server is misconfigured; the operator has been told (see the console's log)."
            }
            PdnsError::NotFound(_) | PdnsError::Conflict(_) | PdnsError::Rejected { .. } => {
                "Catalyst's DNS server refused the change; try again, and contact the operator if it persists."
            }
        }
    }

    /// Worth trying again later (the server was down or overloaded) rather than a refusal.
    pub fn is_transient(&self) -> bool {
        matches!(self, PdnsError::Unreachable(_) | PdnsError::Server { .. })
    }
}
