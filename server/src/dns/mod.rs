//! The DNS capability: every Sovereign reachable by name. The pool manager ([`pool`]) gives out
//! subdomains of the pool domains and keeps each Sovereign's zone on Catalyst's PowerDNS (`crate::pdns`);
//! [`records`] is the one canonical record set.

pub mod pool;
pub mod records;

pub use pool::{Committed, PoolManager, Released, tsig_key_name};
