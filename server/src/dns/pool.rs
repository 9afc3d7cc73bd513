//! The pool manager: subdomains of Catalyst's pool domains for Sovereigns, reserve → commit → release
//! (`db::dns` holds the state machine), with each Sovereign's zone on PowerDNS: created signed (DNSSEC,
//! ECDSA P-256) at reservation, delegated from its pool zone with NS and DS, updatable by RFC 2136 with the
//! Sovereign's own TSIG key only, and given the canonical record set at commit.
//!
//! A reservation lives as long as its deployment's run holds its lease; [`PoolManager::sweep`] removes
//! the ones whose run is gone. A commit whose PowerDNS write fails is still a commit (the row is active,
//! `published = false`): the run calls [`PoolManager::publish`] again until it succeeds.

use std::net::Ipv4Addr;

use app::deployments::Secret;
use app::deployments::fields::{domain_name, is_reserved_subdomain, subdomain_format};
use app::dns::PoolError;

use super::records::canonical_set;
use crate::db::dns::{self as store, CommitRefused, NewZone, Reserved, ZoneRow};
use crate::db::{Db, now_ms};
use crate::pdns::{PdnsClient, PdnsError};

/// TTL of the NS and DS records in the parent zone (seconds).
pub const DELEGATION_TTL: u32 = 3600;
/// The TSIG algorithm of the Sovereigns' keys, as PowerDNS and nsupdate name it.
pub const TSIG_ALGORITHM: &str = "hmac-sha256";

/// The pool manager of one console.
#[derive(Clone)]
pub struct PoolManager {
    pub db: Db,
    pub pdns: PdnsClient,
    /// `--pool-domains`.
    pub pools: Vec<String>,
    /// `--nameservers`: the NS set of every zone Catalyst serves.
    pub nameservers: Vec<String>,
    /// Asks the world whether a bring-your-own domain is delegated to `nameservers` (`--dns-resolver`).
    pub resolver: Option<super::DnsResolver>,
}

impl std::fmt::Debug for PoolManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolManager")
            .field("pools", &self.pools)
            .field("nameservers", &self.nameservers)
            .finish_non_exhaustive()
    }
}

/// A commit's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub row: ZoneRow,
    /// The record set is written. `false`: the row is active but PowerDNS failed; call
    /// [`PoolManager::publish`] again.
    pub published: bool,
}

/// Where a name stands, for the wizard's availability check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolCheck {
    /// Nobody holds it (an expired reservation counts as free).
    Free,
    /// Reserved by a deployment whose run is in progress.
    InProgress,
    /// Committed: a live Sovereign has it.
    Active,
    /// Not in the pool manager, but PowerDNS serves a zone of that name.
    Elsewhere,
}

/// A release's outcome: the freed row and what could not be removed from PowerDNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub freed: ZoneRow,
    /// One sentence per thing left behind (zone, delegation, key), for the teardown report.
    pub left: Vec<String>,
}

/// What a Sovereign needs to update its own zone by RFC 2136 (cert-manager's DNS-01 solver,
/// external-dns): the server, its TSIG key's name and secret. `Debug` hides the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SovereignDns {
    /// Host of Catalyst's PowerDNS as Sovereigns reach it (the first of `--nameservers`; port 53).
    pub server: String,
    pub key_name: String,
    pub secret: Secret,
}

/// The TSIG key name of a Sovereign's zone.
pub fn tsig_key_name(zone: &str) -> String {
    format!("sovereign-{zone}")
}

fn dns_unavailable(e: &PdnsError) -> PoolError {
    tracing::warn!(error = %e, "PowerDNS call failed");
    PoolError::DnsUnavailable(e.tenant_message().to_string())
}

fn db_failed(e: crate::db::DbError) -> PoolError {
    tracing::error!(error = %e, "pool store failed");
    PoolError::DnsUnavailable("The console's database did not answer; try again in a moment.".into())
}

fn random_token() -> String {
    hex::encode(crate::crypto::random_bytes::<24>())
}

fn random_tsig_secret() -> Secret {
    use base64::Engine;
    Secret::new(base64::engine::general_purpose::STANDARD.encode(crate::crypto::random_bytes::<32>()))
}

impl PoolManager {
    /// `<subdomain>.<pool>` after the format, pool and reserved-name rules.
    pub fn name(&self, pool: &str, subdomain: &str) -> Result<String, PoolError> {
        let pool = pool.trim().trim_end_matches('.').to_ascii_lowercase();
        let sub = subdomain.trim().to_ascii_lowercase();
        if let Some(problem) = subdomain_format(&sub) {
            return Err(PoolError::InvalidFormat(problem));
        }
        if !self.pools.contains(&pool) {
            return Err(PoolError::UnsupportedPool(pool));
        }
        if is_reserved_subdomain(&sub) {
            return Err(PoolError::Reserved(sub));
        }
        Ok(format!("{sub}.{pool}"))
    }

    /// Whether `<subdomain>.<pool>` can be had: the rules, then the pool manager's row, then PowerDNS.
    pub async fn check(&self, pool: &str, subdomain: &str) -> Result<PoolCheck, PoolError> {
        let zone = self.name(pool, subdomain)?;
        if let Some(row) = store::get(&self.db, &zone).await.map_err(db_failed)? {
            if row.is_active() {
                return Ok(PoolCheck::Active);
            }
            if store::is_alive(&self.db, &row).await.map_err(db_failed)? {
                return Ok(PoolCheck::InProgress);
            }
            return Ok(PoolCheck::Free);
        }
        match self.pdns.zone_exists(&zone).await {
            Ok(true) => Ok(PoolCheck::Elsewhere),
            Ok(false) => Ok(PoolCheck::Free),
            Err(e) => Err(dns_unavailable(&e)),
        }
    }

    /// Reserves `<subdomain>.<pool>` for the run of `deployment_id` and sets its zone up in PowerDNS.
    /// Idempotent for the same deployment (a resumed run calls it again and the PowerDNS setup is
    /// repeated); a stale reservation of another deployment is taken over after its zone and key are
    /// removed (its key must not keep working). If PowerDNS cannot be set up, the reservation is undone.
    pub async fn reserve(
        &self,
        pool: &str,
        subdomain: &str,
        deployment_id: &str,
        created_by: &str,
    ) -> Result<ZoneRow, PoolError> {
        let zone = self.name(pool, subdomain)?;
        let (sub, pool) = zone
            .split_once('.')
            .map(|(s, p)| (s.to_string(), p.to_string()))
            .unwrap_or_default();
        self.reserve_zone(&zone, Some((&pool, &sub)), deployment_id, created_by)
            .await
    }

    /// Reserves a bring-your-own domain: its zone on Catalyst's PowerDNS (signed, its own TSIG key), not
    /// delegated from anything of ours — the domain's registrar delegates it to `--nameservers`. Same rules
    /// of ownership as a pool name.
    pub async fn reserve_domain(
        &self,
        domain: &str,
        deployment_id: &str,
        created_by: &str,
    ) -> Result<ZoneRow, PoolError> {
        let zone = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(problem) = domain_name(&zone) {
            return Err(PoolError::InvalidFormat(problem));
        }
        if self
            .pools
            .iter()
            .any(|p| zone == *p || zone.ends_with(&format!(".{p}")))
        {
            return Err(PoolError::InvalidFormat(format!(
                "{zone} is under one of Catalyst's pool domains; choose the pool mode for it."
            )));
        }
        self.reserve_zone(&zone, None, deployment_id, created_by).await
    }

    async fn reserve_zone(
        &self,
        zone: &str,
        pool_and_sub: Option<(&str, &str)>,
        deployment_id: &str,
        created_by: &str,
    ) -> Result<ZoneRow, PoolError> {
        let zone = zone.to_string();
        let token = random_token();
        let key = tsig_key_name(&zone);
        let new = NewZone {
            zone: &zone,
            pool_domain: pool_and_sub.map(|(p, _)| p),
            subdomain: pool_and_sub.map(|(_, s)| s),
            deployment_id,
            reservation_token: &token,
            created_by,
            tsig_key_name: &key,
        };
        let row = match store::reserve(&self.db, &new).await.map_err(db_failed)? {
            Reserved::Taken(_) => return Err(PoolError::Conflict(zone)),
            Reserved::Existing(row) => row,
            Reserved::New { row, replaced } => {
                if let Some(old) = replaced {
                    tracing::info!(zone = %old.zone, old_deployment = %old.deployment_id, "taking over a stale reservation");
                    let left = self.teardown(&old).await;
                    if !left.is_empty() {
                        let _ = store::release(&self.db, &zone).await;
                        return Err(PoolError::DnsUnavailable(
                            "Catalyst's DNS server could not clear the name's earlier reservation; try again in a moment.".into(),
                        ));
                    }
                }
                row
            }
        };
        if row.is_active() {
            // Committed already (a run resumed after its commit): the zone exists.
            return Ok(row);
        }
        if let Err(e) = self.set_up(&row).await {
            // Undo: no half-made zone stays reserved.
            let _ = self.teardown(&row).await;
            let _ = store::release_reserved(&self.db, &row).await;
            return Err(dns_unavailable(&e));
        }
        Ok(row)
    }

    /// The zone in PowerDNS, signed (and delegated from its pool with NS and DS), with its TSIG key allowed
    /// to update it. Idempotent.
    pub async fn set_up(&self, row: &ZoneRow) -> Result<(), PdnsError> {
        let p = &self.pdns;
        if let Some(pool) = &row.pool_domain
            && !p.zone_exists(pool).await?
        {
            // The pool zone itself: served by the same nameservers (the registrar of the pool domain
            // delegates it to them).
            p.create_zone(pool, &self.nameservers, false).await?;
        }
        p.create_zone(&row.zone, &self.nameservers, true).await?;
        let ds = p.secure_zone(&row.zone).await?;
        if let Some(pool) = &row.pool_domain {
            p.delegate(pool, &row.zone, &self.nameservers, &ds, DELEGATION_TTL)
                .await?;
        }
        if p.tsig_key(&row.tsig_key_name).await?.is_none() {
            p.create_tsig_key(&row.tsig_key_name, TSIG_ALGORITHM, &random_tsig_secret())
                .await?;
        }
        p.allow_tsig_updates(&row.zone, &row.tsig_key_name).await
    }

    /// reserved → active with the load balancer's address, then the record set. A PowerDNS failure after
    /// the row is active is reported as `published: false` (the run repeats [`publish`](Self::publish)).
    pub async fn commit(
        &self,
        zone: &str,
        token: &str,
        load_balancer_ip: &str,
    ) -> Result<Committed, PoolError> {
        let ip = load_balancer_ip.trim();
        if ip.is_empty() || ip.parse::<Ipv4Addr>().is_err() {
            return Err(PoolError::MissingLbIp(zone.to_string()));
        }
        let row = match store::commit(&self.db, zone, token, ip)
            .await
            .map_err(db_failed)?
        {
            Ok(row) => row,
            Err(CommitRefused::NotFound) => return Err(PoolError::NotFound(zone.to_string())),
            Err(CommitRefused::AlreadyActive(_)) => return Err(PoolError::AlreadyActive(zone.to_string())),
            Err(CommitRefused::TokenMismatch) => return Err(PoolError::TokenMismatch(zone.to_string())),
            Err(CommitRefused::Expired(_)) => return Err(PoolError::ReservationExpired(zone.to_string())),
        };
        if row.published {
            return Ok(Committed { row, published: true });
        }
        match self.publish(&row).await {
            Ok(row) => Ok(Committed { row, published: true }),
            Err(e) => {
                tracing::warn!(zone, error = %e, "committed, but the record set is not written yet; the run retries");
                Ok(Committed {
                    row,
                    published: false,
                })
            }
        }
    }

    /// Writes the canonical record set of an active zone (one atomic PATCH) and records it. A zone missing
    /// from PowerDNS (restored from a backup, removed by hand) is set up again first.
    pub async fn publish(&self, row: &ZoneRow) -> Result<ZoneRow, PoolError> {
        let ip = row
            .load_balancer_ip
            .as_deref()
            .ok_or_else(|| PoolError::MissingLbIp(row.zone.clone()))?;
        let set = canonical_set(&row.zone, ip);
        match self.pdns.replace_rrsets(&row.zone, &set).await {
            Ok(()) => {}
            Err(PdnsError::NotFound(_)) => {
                self.set_up(row).await.map_err(|e| dns_unavailable(&e))?;
                self.pdns
                    .replace_rrsets(&row.zone, &set)
                    .await
                    .map_err(|e| dns_unavailable(&e))?;
            }
            Err(e) => return Err(dns_unavailable(&e)),
        }
        store::mark_published(&self.db, &row.zone, ip)
            .await
            .map_err(db_failed)?;
        store::get(&self.db, &row.zone)
            .await
            .map_err(db_failed)?
            .ok_or_else(|| PoolError::NotFound(row.zone.clone()))
    }

    /// Frees the name: the row goes, then the delegation, the zone and its key in PowerDNS. What PowerDNS
    /// kept is listed (the name is free all the same; a later reservation clears it again).
    pub async fn release(&self, zone: &str) -> Result<Released, PoolError> {
        let freed = store::release(&self.db, zone)
            .await
            .map_err(db_failed)?
            .ok_or_else(|| PoolError::NotFound(zone.to_string()))?;
        let left = self.teardown(&freed).await;
        Ok(Released { freed, left })
    }

    /// The zone's update credential for its Sovereign: the key PowerDNS holds for it (created at
    /// reservation). `None` when there is no nameserver to name (`--nameservers` empty) or no key.
    pub async fn update_key(&self, row: &ZoneRow) -> Result<Option<SovereignDns>, PoolError> {
        let Some(server) = self.nameservers.first() else {
            return Ok(None);
        };
        let key = self
            .pdns
            .tsig_key(&row.tsig_key_name)
            .await
            .map_err(|e| dns_unavailable(&e))?;
        Ok(key.filter(|k| !k.key.is_empty()).map(|k| SovereignDns {
            server: server.trim_end_matches('.').to_string(),
            key_name: row.tsig_key_name.clone(),
            secret: Secret::new(k.key),
        }))
    }

    /// `--nameservers` as the resolver names them (lowercase, no trailing dot, sorted).
    pub fn expected_nameservers(&self) -> Vec<String> {
        let mut ns: Vec<String> = self
            .nameservers
            .iter()
            .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect();
        ns.sort();
        ns.dedup();
        ns
    }

    /// The NS set the world sees for `domain`; `None` without a resolver.
    pub async fn delegation(&self, domain: &str) -> Option<Result<Vec<String>, String>> {
        let resolver = self.resolver.as_ref()?;
        Some(resolver.nameservers(domain).await)
    }

    /// Frees every name of a deployment (the wipe): one [`Released`] per zone it held. PowerDNS first: a
    /// zone whose records, delegation or key PowerDNS kept stays this deployment's (listed in `left`), so
    /// the wipe's retry removes it; only a zone gone from PowerDNS frees its name. (The deployment holds its
    /// names throughout — active, or reserved under the wiping run's lease — so nobody else's zone is
    /// touched.)
    pub async fn release_deployment(&self, deployment_id: &str) -> Result<Vec<Released>, PoolError> {
        let mut out = Vec::new();
        for row in store::of_deployment(&self.db, deployment_id)
            .await
            .map_err(db_failed)?
        {
            let left = self.teardown(&row).await;
            if left.is_empty() {
                store::release_of(&self.db, &row.zone, deployment_id)
                    .await
                    .map_err(db_failed)?;
            }
            out.push(Released { freed: row, left });
        }
        Ok(out)
    }

    /// Removes the zone's delegation, the zone and its key from PowerDNS; returns what is left.
    pub async fn teardown(&self, row: &ZoneRow) -> Vec<String> {
        let p = &self.pdns;
        let mut left = Vec::new();
        if let Some(pool) = &row.pool_domain
            && let Err(e) = p.undelegate(pool, &row.zone).await
        {
            tracing::warn!(zone = %row.zone, error = %e, "cannot remove the delegation");
            left.push(format!(
                "the delegation of {} (NS and DS records in {pool})",
                row.zone
            ));
        }
        if let Err(e) = p.delete_zone(&row.zone).await {
            tracing::warn!(zone = %row.zone, error = %e, "cannot delete the zone");
            left.push(format!("the DNS zone {} with its records", row.zone));
        }
        if let Err(e) = p.delete_tsig_key(&row.tsig_key_name).await {
            tracing::warn!(zone = %row.zone, error = %e, "cannot delete the TSIG key");
            left.push(format!("the TSIG key {} in PowerDNS", row.tsig_key_name));
        }
        left
    }

    /// Removes every reservation whose run is gone (row, zone, delegation, key). Returns the zones freed.
    pub async fn sweep(&self) -> Result<Vec<String>, PoolError> {
        let now = now_ms();
        let mut freed = Vec::new();
        for row in store::stale(&self.db, now).await.map_err(db_failed)? {
            // Row first, so no new holder's zone is torn down: only the stale reservation's own.
            if store::delete_if_stale(&self.db, &row, now)
                .await
                .map_err(db_failed)?
            {
                let left = self.teardown(&row).await;
                if !left.is_empty() {
                    tracing::warn!(zone = %row.zone, ?left, "swept a reservation; PowerDNS kept some of it");
                }
                freed.push(row.zone);
            }
        }
        Ok(freed)
    }
}
