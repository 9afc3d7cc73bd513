//! Asking the world's DNS (a recursive resolver: `--dns-resolver`, or the machine's) which nameservers a
//! bring-your-own domain is delegated to. Nothing is cached here: every answer is fresh.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

/// A DNS resolver. Cheap to clone.
#[derive(Clone)]
pub struct DnsResolver {
    inner: Arc<TokioResolver>,
}

impl std::fmt::Debug for DnsResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DnsResolver")
    }
}

impl DnsResolver {
    /// One asking `server`, or the machine's resolvers (`/etc/resolv.conf`) when `None`.
    pub fn new(server: Option<SocketAddr>) -> Result<Self, String> {
        let builder = match server {
            Some(addr) => TokioResolver::builder_with_config(
                ResolverConfig::from_parts(
                    None,
                    vec![],
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
                ),
                TokioConnectionProvider::default(),
            ),
            None => TokioResolver::builder_tokio()
                .map_err(|e| format!("cannot read the machine's resolver configuration: {e}"))?,
        };
        let mut opts = ResolverOpts::default();
        opts.cache_size = 0;
        opts.timeout = Duration::from_secs(3);
        opts.attempts = 2;
        Ok(Self {
            inner: Arc::new(builder.with_options(opts).build()),
        })
    }

    /// The NS set of `domain` (lowercase, without the trailing dot, sorted); empty when it has none or does
    /// not exist. `Err`: the resolver did not answer.
    pub async fn nameservers(&self, domain: &str) -> Result<Vec<String>, String> {
        let name = format!("{}.", domain.trim().trim_end_matches('.'));
        match self.inner.lookup(name.as_str(), RecordType::NS).await {
            Ok(lookup) => {
                let mut out: Vec<String> = lookup
                    .iter()
                    .filter_map(|r| match r {
                        RData::NS(ns) => Some(ns.0.to_ascii().trim_end_matches('.').to_ascii_lowercase()),
                        _ => None,
                    })
                    .collect();
                out.sort();
                out.dedup();
                Ok(out)
            }
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(vec![]),
            Err(e) => Err(e.to_string()),
        }
    }
}
