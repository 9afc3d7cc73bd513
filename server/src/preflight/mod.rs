//! The pre-flight of a launch (issue 21): everything Hetzner would refuse, and everything Catalyst itself
//! needs, checked before anything is created. It runs when the Review step opens (Launch stays disabled until
//! it passes), on `POST /sovereign/api/v1/deployments/preflight`, and again inside the one create path, which
//! refuses a request it fails.
//!
//! - [`hetzner`]: the token (read and write), the project, every chosen server type in every chosen location
//!   (`GET /server_types` → `locations[].available` / deprecation), the load balancer type, what the
//!   request adds against the account's limits and Hetzner's fixed ones, and names (and the SSH key) the
//!   module would create that the project already has.
//! - [`console`]: `--public-url` reachable by a new cluster, `--console-egress-cidrs` set, the GitOps
//!   repository taking pushes, the OpenTofu binary running and recent enough.
//! - capacity: the selection's requests against each region's nodes (`app::preflight::capacity`, with the
//!   components' footprints from the kit, [`footprint`]).
//! - cost: `app::preflight::cost` over Hetzner's price list ([`prices`]: cached in the database for every
//!   replica, fetched again once older than [`prices::PRICE_TTL`]).
//!
//! Hetzner's answers are used for this run only; the token is never stored or logged. A clean project costs
//! about ten API requests per run (BENCHMARKS.md → "Pre-flight").

pub mod config;
pub mod console;
pub mod footprint;
pub mod hetzner;
pub mod http;
pub mod prices;

use std::sync::Arc;
use std::time::Duration;

use app::catalog::Catalog;
use app::deployments::{CreateDeployment, DeploymentRequest};
use app::error::AppError;
use app::preflight::{
    Check, CheckKind, CheckStatus, Footprints, PreflightReport, RegionFit, SizingData, capacity, cost,
};
use async_trait::async_trait;

use crate::db::{Db, now_ms};
use crate::hetzner::HetznerClient;
pub use config::{HetznerLimits, PreflightArgs, PreflightConfig, PreflightOptions};

/// The pre-flight service: one per process, shared by the create path, the REST handler and the wizard.
#[derive(Clone)]
pub struct Preflight(Arc<Inner>);

struct Inner {
    db: Db,
    config: PreflightConfig,
    catalog: Arc<Catalog>,
    footprints: Footprints,
}

impl Preflight {
    /// Reads every component's footprint from the catalog once.
    pub fn new(db: Db, config: PreflightConfig, catalog: Arc<Catalog>) -> Preflight {
        let footprints = footprint::footprints(&catalog);
        Preflight(Arc::new(Inner {
            db,
            config,
            catalog,
            footprints,
        }))
    }

    pub fn config(&self) -> &PreflightConfig {
        &self.0.config
    }

    pub fn footprints(&self) -> &Footprints {
        &self.0.footprints
    }

    /// Every check for `create`. Hetzner's checks need a token; without a usable one they are reported as
    /// not run (the token check fails and says why), while Catalyst's own checks and the capacity still run.
    pub async fn run(&self, create: &CreateDeployment) -> PreflightReport {
        let req = &create.request;
        let started = now_ms();
        let client = HetznerClient::with_timeouts(
            &self.0.config.hetzner_api_url,
            create.secrets.hetzner_token.clone(),
            Duration::from_secs(5),
            self.0.config.request_timeout,
        );
        let console = console::checks(&self.0.config);
        let cloud = async {
            match &client {
                Ok(c) => Some(hetzner::checks(&self.0.db, &self.0.config, c, req, &self.0.footprints).await),
                Err(e) => {
                    tracing::error!(error = %e, "pre-flight: cannot build the Hetzner API client");
                    None
                }
            }
        };
        let (console, cloud) = tokio::join!(console, cloud);
        let mut checks = Vec::new();
        let (prices, unavailable) = match cloud {
            Some(found) => {
                checks.extend(found.checks);
                (found.prices, found.unavailable)
            }
            None => {
                checks.push(
                    Check::new(
                        CheckKind::Token,
                        "token",
                        CheckStatus::Fail,
                        "Hetzner API",
                        "The console could not set up a connection to the Hetzner API; see the server log.",
                    )
                    .option("--hetzner-api-url"),
                );
                let p = prices::cached(&self.0.db, &self.0.config.hetzner_api_url).await;
                (p.prices, p.unavailable)
            }
        };
        let fits = capacity::fit(req, &self.0.footprints, Some(&prices), &unavailable);
        checks.extend(capacity_checks(req, &fits));
        checks.extend(console);
        checks.sort_by_key(|c| c.kind);
        let estimate = cost::estimate(req, &self.0.footprints, &prices);
        let api_requests = client.as_ref().map(HetznerClient::requests_sent).unwrap_or(0);
        tracing::info!(
            checks = checks.len(),
            failed = checks.iter().filter(|c| c.status == CheckStatus::Fail).count(),
            warned = checks.iter().filter(|c| c.status == CheckStatus::Warn).count(),
            api_requests,
            ms = now_ms() - started,
            "pre-flight"
        );
        PreflightReport {
            checks,
            capacity: fits,
            estimate: Some(estimate),
            api_requests,
            checked_at_ms: now_ms(),
        }
    }

    /// What the Provider step needs without a token: footprints and the last known prices.
    pub async fn sizing(&self) -> SizingData {
        let p = prices::cached(&self.0.db, &self.0.config.hetzner_api_url).await;
        SizingData {
            footprints: self.0.footprints.clone(),
            prices: p.prices,
            unavailable: p.unavailable,
        }
    }

    /// The catalog the footprints were read from.
    pub fn catalog(&self) -> &Catalog {
        &self.0.catalog
    }
}

/// One capacity check per region: the fit, in words, with the proposal.
fn capacity_checks(req: &DeploymentRequest, fits: &[RegionFit]) -> Vec<Check> {
    use capacity::{cpu_label, memory_label};
    fits.iter()
        .map(|f| {
            let r = &req.regions[f.region];
            let nodes = if r.worker_count == 0 {
                format!(
                    "{} × {} control plane{}",
                    f.nodes,
                    r.control_plane_size,
                    if f.nodes == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "{} × {} control plane{} and {} × {} worker{}",
                    f.nodes - r.worker_count,
                    r.control_plane_size,
                    if f.nodes - r.worker_count == 1 { "" } else { "s" },
                    r.worker_count,
                    r.worker_size,
                    if r.worker_count == 1 { "" } else { "s" }
                )
            };
            let need = format!(
                "in {}, the {} components request {} and {}; {nodes} offer {} and {}",
                r.cloud_region,
                req.components.len(),
                cpu_label(f.demand.cpu_millis),
                memory_label(f.demand.memory_bytes),
                cpu_label(f.allocatable.cpu_millis),
                memory_label(f.allocatable.memory_bytes),
            );
            let proposal = f.proposal.as_ref().map(|p| {
                format!(
                    " Add {} × {} worker{} (nodes of this region: €{}/month without VAT).",
                    p.worker_count,
                    p.worker_size,
                    if p.worker_count == 1 { "" } else { "s" },
                    p.monthly_net.fixed(2)
                )
            });
            let message = match f.status {
                CheckStatus::Pass => format!(
                    "The components fit: {} ({}% used).",
                    need,
                    capacity::percent(f.demand, f.allocatable)
                ),
                CheckStatus::Warn => format!(
                    "Tight: {} — more than {}% taken leaves no room for rolling updates and jobs.{}",
                    need,
                    capacity::COMFORT_PERCENT,
                    proposal.clone().unwrap_or_default()
                ),
                CheckStatus::Fail => {
                    let why = if f.largest_fits {
                        "they cannot all be scheduled".to_string()
                    } else {
                        "and one pod is larger than any node".to_string()
                    };
                    format!(
                        "The components do not fit: {} — {why}.{}",
                        need,
                        proposal
                            .unwrap_or_else(|| { " Choose larger nodes or fewer components.".to_string() })
                    )
                }
            };
            Check::new(
                CheckKind::Capacity,
                &format!("regions[{}]", f.region),
                f.status,
                format!("{} capacity", r.cloud_region),
                message,
            )
            .field(format!("regions[{}].workerCount", f.region))
        })
        .collect()
}

#[async_trait]
impl app::ports::PreflightPort for Preflight {
    async fn run(&self, create: &CreateDeployment) -> Result<PreflightReport, AppError> {
        Ok(Preflight::run(self, create).await)
    }

    async fn sizing(&self) -> Result<SizingData, AppError> {
        Ok(Preflight::sizing(self).await)
    }
}
