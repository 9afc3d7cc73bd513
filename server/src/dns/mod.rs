//! The DNS capability: every Sovereign reachable by name. The pool manager ([`pool`]) gives out
//! subdomains of the pool domains and keeps each Sovereign's zone on Catalyst's PowerDNS (`crate::pdns`);
//! [`records`] is the one canonical record set.

pub mod pool;
pub mod records;
pub mod resolver;

use std::sync::Arc;

/// The pool manager of this console, when it has a PowerDNS (`--pdns-url`): the pool domains it gives out
/// subdomains of and the nameservers their delegations name.
pub fn pool_manager(
    pdns: Option<&crate::pdns::PdnsSettings>,
    pool_domains: &[String],
    nameservers: &[String],
    db: &crate::db::Db,
) -> Option<PoolManager> {
    let pdns = pdns?;
    match pdns.client() {
        Ok(client) => Some(PoolManager {
            db: db.clone(),
            pdns: client,
            pools: pool_domains.to_vec(),
            nameservers: nameservers.to_vec(),
            resolver: match resolver::DnsResolver::new(pdns.resolver) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::error!(error = %e, "no DNS resolver: bring-your-own domains are not checked for their delegation");
                    None
                }
            },
        }),
        Err(e) => {
            tracing::error!(error = %e, "cannot build the PowerDNS client; DNS is off");
            None
        }
    }
}

/// Sweeps reservations whose run is gone, every `every`, for as long as the process runs.
pub fn start_sweeper(pools: Arc<PoolManager>, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match pools.sweep().await {
                Ok(freed) if !freed.is_empty() => {
                    tracing::info!(?freed, "released reservations whose run is gone")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot sweep stale reservations"),
            }
        }
    });
}

pub use pool::{Committed, PoolCheck, PoolManager, Released, SovereignDns, tsig_key_name};
pub use resolver::DnsResolver;
