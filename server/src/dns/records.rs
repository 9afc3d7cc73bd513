//! The one canonical record set of a Sovereign (README → "DNS"): in its own zone `<fqdn>`, `A` records of
//! the load balancer's IPv4 address for the apex, the wildcard and `console` (`app::dns::CANONICAL_NAMES`),
//! TTL 300. The apex NS set comes with the zone; NS and DS of the delegation live in the parent.

use app::dns::{CANONICAL_NAMES, RECORD_TTL};

use crate::pdns::RecordSet;

/// The record sets to REPLACE in `zone` for a load balancer at `ip`.
pub fn canonical_set(zone: &str, ip: &str) -> Vec<RecordSet> {
    CANONICAL_NAMES
        .iter()
        .map(|n| {
            let name = if *n == "@" {
                zone.to_string()
            } else {
                format!("{n}.{zone}")
            };
            RecordSet::new(&name, "A", RECORD_TTL, vec![ip.to_string()])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apex_wildcard_and_console() {
        let set = canonical_set("acme.omani.works", "192.0.2.10");
        let names: Vec<&str> = set.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "acme.omani.works.",
                "*.acme.omani.works.",
                "console.acme.omani.works."
            ]
        );
        assert!(
            set.iter()
                .all(|r| r.rtype == "A" && r.ttl == 300 && r.records == ["192.0.2.10"])
        );
    }
}
