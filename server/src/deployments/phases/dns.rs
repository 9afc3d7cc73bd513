//! The run's DNS step (`crate::dns` does the work): the Sovereign's name is reserved when provisioning
//! starts — so a name taken meanwhile fails the run before anything is created — and, once OpenTofu reported
//! the load balancer's address, committed and published as the canonical record set (README → "DNS").
//!
//! Catalyst's PowerDNS not answering is not a failure at once: the run keeps trying (the pause doubling up to
//! `EngineConfig::dns_retry`) and fails only after `EngineConfig::dns_timeout`, with the name kept. A commit
//! whose record set PowerDNS did not take is published again by the run, never only logged. Without a pool
//! manager (no `--pdns-url`) the step is skipped and says what the operator must do instead.
//!
//! A bring-your-own domain then holds the run, visibly, until a resolver sees it delegated to Catalyst's
//! nameservers ("waiting for the domain's delegation: found …, expected …", with the registrar's typical
//! propagation time), and continues by itself once it is.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::deployments::{DeploymentRequest, DomainMode, Level, Phase, PhaseState};
use app::dns::{CANONICAL_NAMES, PoolError, RECORD_TTL};

use crate::db::deployment_events::NewEvent;
use crate::db::deployments::DeploymentRow;
use crate::db::dns::ZoneRow;
use crate::deployments::step::{StepError, StepResult, phase_finished, phase_started};
use crate::deployments::{Engine, RunCtx};
use crate::dns::{PoolManager, SovereignDns};

const RETRY_HINT: &str = "The name stays reserved for this deployment. Retry once Catalyst's DNS server answers again (the console's log says why it did not).";

/// Reserves the deployment's name (pool subdomain or bring-your-own domain) with its zone on PowerDNS.
/// Idempotent: a resumed or retried run holds the same reservation.
pub(crate) async fn reserve(
    engine: &Engine,
    row: &DeploymentRow,
    request: &DeploymentRequest,
    ctx: &Arc<RunCtx>,
) -> Result<Option<ZoneRow>, StepError> {
    let Some(pools) = engine.config().dns.clone() else {
        return Ok(None);
    };
    let zone = with_retries(engine, &row.id, ctx, "reserve the name", || {
        reserve_once(&pools, row, request)
    })
    .await?;
    let how = match &zone.pool_domain {
        Some(pool) => format!("a signed zone delegated from {pool}"),
        None => "a signed zone; the domain's registrar delegates it to Catalyst's nameservers".into(),
    };
    note(
        engine,
        &row.id,
        Level::Info,
        format!("Reserved {} for this deployment ({how}).", zone.zone),
    )
    .await;
    Ok(Some(zone))
}

/// The Sovereign's update key for its zone (`None`: no DNS-01 for this Sovereign, said in an event).
pub(crate) async fn update_key(
    engine: &Engine,
    id: &str,
    zone: &ZoneRow,
    ctx: &Arc<RunCtx>,
) -> Result<Option<SovereignDns>, StepError> {
    let Some(pools) = engine.config().dns.clone() else {
        return Ok(None);
    };
    let key = with_retries(engine, id, ctx, "read the zone's update key", || {
        pools.update_key(zone)
    })
    .await?;
    if key.is_none() {
        note(
            engine,
            id,
            Level::Warn,
            format!(
                "{} has no update key for its Sovereign (no --nameservers, or the key is missing in PowerDNS): certificates use HTTP-01 and external-dns only logs.",
                zone.zone
            ),
        )
        .await;
    }
    Ok(key)
}

async fn reserve_once(
    pools: &PoolManager,
    row: &DeploymentRow,
    request: &DeploymentRequest,
) -> Result<ZoneRow, PoolError> {
    let d = &request.domain;
    match d.mode {
        DomainMode::Pool => {
            pools
                .reserve(&d.pool_domain, &d.subdomain, &row.id, &row.created_by)
                .await
        }
        DomainMode::ByoManual | DomainMode::ByoApi => {
            pools
                .reserve_domain(&d.byo_domain, &row.id, &row.created_by)
                .await
        }
    }
}

/// After `tofu output`: commit the reservation with the load balancer's IPv4 address and publish the
/// record set, trying again while PowerDNS does not answer. Records the `dns` phase.
pub(crate) async fn publish(
    engine: &Engine,
    row: &DeploymentRow,
    request: &DeploymentRequest,
    load_balancer_ip: &str,
    ctx: &Arc<RunCtx>,
) -> StepResult {
    let id = row.id.as_str();
    let fqdn = request.fqdn();
    phase_started(
        engine,
        id,
        Phase::Dns,
        &format!("Writing the DNS records of {fqdn}."),
        vec![],
    )
    .await?;
    if engine.config().dns.is_none() {
        // Skipped, and said why: nothing makes the name resolve.
        return phase_finished(
            engine,
            id,
            Phase::Dns,
            PhaseState::Skipped,
            &format!(
                "No DNS server is configured (--pdns-url), so no records were written: point {fqdn}, *.{fqdn} and console.{fqdn} at {} yourself.",
                if load_balancer_ip.is_empty() {
                    "the load balancer"
                } else {
                    load_balancer_ip
                }
            ),
        )
        .await;
    }
    // The reservation again (idempotent): a run resumed by another replica, or one whose reservation the
    // sweeper freed while the console was down, gets it back here.
    let Some(pools) = engine.config().dns.clone() else {
        return Ok(());
    };
    let zone = with_retries(engine, id, ctx, "reserve the name", || {
        reserve_once(&pools, row, request)
    })
    .await?;
    let ip = load_balancer_ip.trim().to_string();
    let committed = with_retries(engine, id, ctx, "commit the name", || {
        pools.commit(&zone.zone, &zone.reservation_token, &ip)
    })
    .await?;
    if !committed.published {
        note(
            engine,
            id,
            Level::Warn,
            format!(
                "{} is committed to {ip}, but Catalyst's DNS server did not take the records yet; writing them again.",
                zone.zone
            ),
        )
        .await;
        let row = committed.row.clone();
        with_retries(engine, id, ctx, "write the records", || pools.publish(&row)).await?;
    }
    if request.domain.mode != DomainMode::Pool {
        hold_for_delegation(engine, id, request, &pools, &zone.zone, ctx).await?;
    }
    let names: Vec<String> = CANONICAL_NAMES
        .iter()
        .map(|n| {
            if *n == "@" {
                zone.zone.clone()
            } else {
                format!("{n}.{}", zone.zone)
            }
        })
        .collect();
    phase_finished(
        engine,
        id,
        Phase::Dns,
        PhaseState::Succeeded,
        &format!("Published {} → {ip} (A, TTL {RECORD_TTL}).", names.join(", ")),
    )
    .await
}

/// How long the domain's registrar typically takes to publish a nameserver change (reference §F.5).
fn propagation(request: &DeploymentRequest) -> &'static str {
    use app::deployments::Registrar;
    match (request.domain.mode, request.domain.registrar) {
        (DomainMode::ByoApi, Some(Registrar::Cloudflare)) => {
            "Cloudflare: minutes; the whole TLD up to 24 hours"
        }
        (DomainMode::ByoApi, Some(Registrar::Godaddy)) => "GoDaddy: 1–4 hours, up to 48 hours",
        (DomainMode::ByoApi, Some(Registrar::Namecheap)) => "Namecheap: 1–2 hours, up to 48 hours",
        (DomainMode::ByoApi, Some(Registrar::Ovh)) => "OVH: queued, 1–4 hours",
        (DomainMode::ByoApi, Some(Registrar::Dynadot)) => "Dynadot: 30–60 minutes",
        _ => "registrars typically take 1–4 hours, up to 48 hours",
    }
}

fn listed(ns: &[String]) -> String {
    if ns.is_empty() {
        "no NS records".into()
    } else {
        ns.join(", ")
    }
}

/// A bring-your-own domain: holds (the `dns` phase running, an event each time the answer changes) until a
/// resolver sees the domain delegated to every one of `--nameservers`, then lets the run continue; fails
/// after `delegation_timeout`.
async fn hold_for_delegation(
    engine: &Engine,
    id: &str,
    request: &DeploymentRequest,
    pools: &PoolManager,
    zone: &str,
    ctx: &Arc<RunCtx>,
) -> StepResult {
    let cfg = engine.config();
    let expected = pools.expected_nameservers();
    if expected.is_empty() {
        note(
            engine,
            id,
            Level::Warn,
            format!("No --nameservers are configured, so {zone}'s delegation cannot be checked; continuing."),
        )
        .await;
        return Ok(());
    }
    let started = Instant::now();
    let mut last: Option<String> = None;
    loop {
        let found = match pools.delegation(zone).await {
            None => {
                note(
                    engine,
                    id,
                    Level::Warn,
                    format!(
                        "No DNS resolver is available, so {zone}'s delegation cannot be checked; continuing."
                    ),
                )
                .await;
                return Ok(());
            }
            Some(Ok(ns)) => ns,
            Some(Err(why)) => {
                tracing::warn!(zone, error = %why, "the resolver did not answer");
                vec![]
            }
        };
        if expected.iter().all(|n| found.contains(n)) {
            note(
                engine,
                id,
                Level::Info,
                format!(
                    "{zone} is delegated to Catalyst's nameservers ({}).",
                    listed(&found)
                ),
            )
            .await;
            return Ok(());
        }
        let state = format!(
            "Waiting for the domain's delegation: found {}, expected {} — set these nameservers at {zone}'s registrar ({}).",
            listed(&found),
            expected.join(", "),
            propagation(request)
        );
        if started.elapsed() >= cfg.delegation_timeout {
            return Err(StepError::failed(
                Phase::Dns,
                format!(
                    "{zone} is not delegated to Catalyst's nameservers after {} hours: found {}, expected {}.",
                    cfg.delegation_timeout.as_secs() / 3600,
                    listed(&found),
                    expected.join(", ")
                ),
                "Set the nameservers at the domain's registrar (or check the ones set there), wait until they show, then retry.",
            ));
        }
        if last.as_deref() != Some(state.as_str()) {
            note(engine, id, Level::Info, state.clone()).await;
            last = Some(state);
        }
        tokio::select! {
            () = tokio::time::sleep(cfg.delegation_poll) => {}
            () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::Dns)),
        }
    }
}

/// Runs `op` until it succeeds, fails for a reason other than PowerDNS not answering, the run is stopped, or
/// `dns_timeout` has passed; each unanswered attempt is an event.
async fn with_retries<T, F, Fut>(
    engine: &Engine,
    id: &str,
    ctx: &Arc<RunCtx>,
    what: &str,
    mut op: F,
) -> Result<T, StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, PoolError>>,
{
    let cfg = engine.config();
    let started = Instant::now();
    let mut pause = Duration::from_millis(500).min(cfg.dns_retry);
    loop {
        let attempt = tokio::select! {
            r = op() => r,
            () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::Dns)),
        };
        match attempt {
            Ok(v) => return Ok(v),
            Err(PoolError::DnsUnavailable(why)) => {
                if started.elapsed() >= cfg.dns_timeout {
                    return Err(StepError::failed(
                        Phase::Dns,
                        format!(
                            "Cannot {what}: {why} (tried for {} minutes).",
                            cfg.dns_timeout.as_secs().div_ceil(60)
                        ),
                        RETRY_HINT,
                    ));
                }
                note(
                    engine,
                    id,
                    Level::Warn,
                    format!(
                        "Cannot {what} yet: {why} Trying again in {} s.",
                        pause.as_secs_f32()
                    ),
                )
                .await;
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::Dns)),
                }
                pause = (pause * 2).min(cfg.dns_retry);
            }
            Err(e) => return Err(StepError::failed(Phase::Dns, e.to_string(), hint(&e))),
        }
    }
}

/// What to do about a refusal.
fn hint(e: &PoolError) -> &'static str {
    match e {
        PoolError::InvalidFormat(_) | PoolError::UnsupportedPool(_) | PoolError::Reserved(_) => {
            "Create the deployment again with a name the wizard accepts."
        }
        PoolError::Conflict(_) | PoolError::AlreadyActive(_) => {
            "Another deployment holds this name. Wipe that one first, or create this deployment again with another name."
        }
        PoolError::ReservationExpired(_) | PoolError::TokenMismatch(_) | PoolError::NotFound(_) => {
            "Retry: the run reserves the name again (if nobody took it meanwhile)."
        }
        PoolError::MissingLbIp(_) => {
            "OpenTofu reported no load balancer address; check the OpenTofu outputs above, then retry."
        }
        PoolError::DnsUnavailable(_) => RETRY_HINT,
    }
}

async fn note(engine: &Engine, id: &str, level: Level, message: String) {
    let _ = engine
        .append(id, &[NewEvent::log(Phase::Dns, level, message)], &[])
        .await;
}
