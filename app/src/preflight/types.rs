//! Wire types of the pre-flight: the checks and their answers, the capacity fit per region, the prices and
//! the cost estimate. The same types travel to the browser (Review step, Provider step) and out of the REST
//! API (`POST /sovereign/api/v1/deployments/preflight`).

use serde::{Deserialize, Serialize};

use super::money::{Money, Price};
use crate::error::FieldError;
use crate::wizard::step::Step;

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// Launch is possible once the person acknowledges it.
    Warn,
    /// Launch is refused until it is fixed.
    Fail,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warning",
            CheckStatus::Fail => "fail",
        }
    }
}

/// The kinds of check, in the order the Review step lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// The token is accepted and may write.
    Token,
    /// The project the token belongs to is the one named.
    Project,
    /// A chosen server type is sold in its location now.
    ServerType,
    /// The load balancer type the module uses is offered in the location.
    LoadBalancerType,
    /// What the request creates fits the account's limits and Hetzner's fixed limits.
    Limits,
    /// A name or SSH key the module would create already exists in the project.
    NameCollision,
    /// The selected components fit the region's nodes.
    Capacity,
    /// `--public-url`: https, reachable from a new cluster.
    PublicUrl,
    /// `--console-egress-cidrs`: the Kubernetes API of each region answers the console.
    ConsoleEgress,
    /// The GitOps repository is configured and takes pushes.
    Gitops,
    /// The OpenTofu binary runs and is recent enough.
    Tofu,
}

impl CheckKind {
    pub fn id(self) -> &'static str {
        match self {
            CheckKind::Token => "token",
            CheckKind::Project => "project",
            CheckKind::ServerType => "server-type",
            CheckKind::LoadBalancerType => "load-balancer-type",
            CheckKind::Limits => "limits",
            CheckKind::NameCollision => "name-collision",
            CheckKind::Capacity => "capacity",
            CheckKind::PublicUrl => "public-url",
            CheckKind::ConsoleEgress => "console-egress",
            CheckKind::Gitops => "gitops",
            CheckKind::Tofu => "tofu",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckKind::Token => "Hetzner token",
            CheckKind::Project => "Hetzner project",
            CheckKind::ServerType => "Server type",
            CheckKind::LoadBalancerType => "Load balancer type",
            CheckKind::Limits => "Project limits",
            CheckKind::NameCollision => "Existing resources",
            CheckKind::Capacity => "Capacity",
            CheckKind::PublicUrl => "Console address",
            CheckKind::ConsoleEgress => "Console egress",
            CheckKind::Gitops => "GitOps repository",
            CheckKind::Tofu => "OpenTofu",
        }
    }
}

/// One check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Stable across runs for the same request: `<kind>:<subject>` (`server-type:regions[1].workerSize`). A
    /// warning is acknowledged by this id.
    pub id: String,
    pub kind: CheckKind,
    pub status: CheckStatus,
    /// What was checked, in a few words (`cpx32 in hel1`).
    pub subject: String,
    /// What was found and, unless it passed, what to do.
    pub message: String,
    /// The wizard field that fixes it (`regions[0].controlPlaneSize`), if a wizard field can.
    #[serde(default)]
    pub field: Option<String>,
    /// The console option that fixes it (`--public-url`), for checks of Catalyst itself.
    #[serde(default)]
    pub option: Option<String>,
}

impl Check {
    pub fn new(
        kind: CheckKind,
        subject_key: &str,
        status: CheckStatus,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Check {
        Check {
            id: format!("{}:{subject_key}", kind.id()),
            kind,
            status,
            subject: subject.into(),
            message: message.into(),
            field: None,
            option: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Check {
        self.field = Some(field.into());
        self
    }

    pub fn option(mut self, option: &str) -> Check {
        self.option = Some(option.to_string());
        self
    }

    /// The wizard step the field is on.
    pub fn step(&self) -> Option<Step> {
        self.field.as_deref().map(Step::of_field)
    }
}

/// CPU (millicores) and memory (bytes), as Kubernetes requests count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Resources {
    #[serde(rename = "cpuMillis")]
    pub cpu_millis: u64,
    #[serde(rename = "memoryBytes")]
    pub memory_bytes: u64,
}

impl Resources {
    pub const ZERO: Resources = Resources {
        cpu_millis: 0,
        memory_bytes: 0,
    };

    pub const fn new(cpu_millis: u64, memory_bytes: u64) -> Resources {
        Resources {
            cpu_millis,
            memory_bytes,
        }
    }

    pub fn times(self, n: u64) -> Resources {
        Resources::new(
            self.cpu_millis.saturating_mul(n),
            self.memory_bytes.saturating_mul(n),
        )
    }

    pub fn saturating_sub(self, o: Resources) -> Resources {
        Resources::new(
            self.cpu_millis.saturating_sub(o.cpu_millis),
            self.memory_bytes.saturating_sub(o.memory_bytes),
        )
    }

    /// Both dimensions at most `o`'s.
    pub fn fits_in(self, o: Resources) -> bool {
        self.cpu_millis <= o.cpu_millis && self.memory_bytes <= o.memory_bytes
    }

    pub fn max(self, o: Resources) -> Resources {
        Resources::new(
            self.cpu_millis.max(o.cpu_millis),
            self.memory_bytes.max(o.memory_bytes),
        )
    }
}

impl std::ops::Add for Resources {
    type Output = Resources;
    fn add(self, o: Resources) -> Resources {
        Resources::new(
            self.cpu_millis.saturating_add(o.cpu_millis),
            self.memory_bytes.saturating_add(o.memory_bytes),
        )
    }
}

impl std::ops::AddAssign for Resources {
    fn add_assign(&mut self, o: Resources) {
        *self = *self + o;
    }
}

/// What one component asks of a region's cluster (summed over its workloads' requests, from its curated
/// values: `platform/<id>/kit.yaml` → `workloads`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentFootprint {
    pub id: String,
    /// Requests of the workloads with a fixed number of copies, all copies together.
    pub fixed: Resources,
    /// Requests of the DaemonSets, per node.
    #[serde(rename = "perNode")]
    pub per_node: Resources,
    /// The largest single copy (a pod must fit on one node).
    pub largest: Resources,
    /// The largest Job (runs to completion; needs room while it runs).
    #[serde(rename = "jobPeak")]
    pub job_peak: Resources,
    /// Persistent volumes: (copies, GB each), one Hetzner volume per copy.
    #[serde(default)]
    pub volumes: Vec<(u32, u32)>,
}

/// The footprints of every catalog component, without and with HA (the HA overlays raise replicas).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footprints {
    pub standard: Vec<ComponentFootprint>,
    pub ha: Vec<ComponentFootprint>,
}

impl Footprints {
    pub fn of(&self, ha: bool) -> &[ComponentFootprint] {
        if ha { &self.ha } else { &self.standard }
    }
}

/// A worker count and size that makes a region fit, the cheapest Catalyst found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    #[serde(rename = "workerSize")]
    pub worker_size: String,
    #[serde(rename = "workerCount")]
    pub worker_count: u32,
    /// What the region's nodes would cost per month with it (net).
    #[serde(rename = "monthlyNet")]
    pub monthly_net: Money,
}

/// How the selection fits one region's nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionFit {
    pub region: usize,
    pub nodes: u32,
    /// Requests of the selection plus the system's own (k3s, Flux, CoreDNS, metrics-server).
    pub demand: Resources,
    /// What the region's nodes offer to pods (capacity minus the OS, kubelet and k3s).
    pub allocatable: Resources,
    pub status: CheckStatus,
    /// The largest single pod fits on the largest node.
    #[serde(rename = "largestFits")]
    pub largest_fits: bool,
    /// The smallest change of workers that fits, when this does not fit comfortably.
    pub proposal: Option<Proposal>,
}

/// One location's price of a thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationPrice {
    pub location: String,
    pub hourly: Price,
    pub monthly: Price,
    /// Traffic included per month (servers and load balancers), bytes.
    #[serde(rename = "includedTraffic", default)]
    pub included_traffic: u64,
}

/// A type (server or load balancer) with its prices per location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypePrices {
    pub name: String,
    pub prices: Vec<LocationPrice>,
}

/// Where prices came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriceSource {
    /// `GET /pricing`, fetched for this answer or within the cache's lifetime.
    Api,
    /// `GET /pricing` from an earlier call, older than the cache's lifetime (no token to refresh it yet).
    Cached,
    /// Catalyst's own list (`app::cloud`), because Hetzner has not been asked yet.
    BuiltIn,
}

/// Hetzner's prices as `GET /pricing` lists them, per location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceTable {
    pub currency: String,
    /// VAT rate in percent as Hetzner writes it (`"19.00"`).
    #[serde(rename = "vatRate")]
    pub vat_rate: String,
    #[serde(rename = "serverTypes")]
    pub server_types: Vec<TypePrices>,
    #[serde(rename = "loadBalancerTypes")]
    pub load_balancer_types: Vec<TypePrices>,
    /// A primary IPv4 address, per location.
    #[serde(rename = "primaryIpv4")]
    pub primary_ipv4: Vec<LocationPrice>,
    /// A volume, per GB and month.
    #[serde(rename = "volumeGbMonth")]
    pub volume_gb_month: Price,
    pub source: PriceSource,
    /// When Hetzner answered (ms since the epoch); `None` for the built-in list.
    #[serde(rename = "asOfMs")]
    pub as_of_ms: Option<i64>,
}

impl PriceTable {
    pub fn server(&self, name: &str, location: &str) -> Option<&LocationPrice> {
        find(&self.server_types, name, location)
    }

    pub fn load_balancer(&self, name: &str, location: &str) -> Option<&LocationPrice> {
        find(&self.load_balancer_types, name, location)
    }

    pub fn ipv4(&self, location: &str) -> Option<&LocationPrice> {
        self.primary_ipv4.iter().find(|p| p.location == location)
    }
}

fn find<'a>(types: &'a [TypePrices], name: &str, location: &str) -> Option<&'a LocationPrice> {
    types
        .iter()
        .find(|t| t.name == name)?
        .prices
        .iter()
        .find(|p| p.location == location)
}

/// One line of a region's estimate: `3 × cpx32 control plane`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostLine {
    pub what: String,
    pub count: u32,
    pub hourly: Price,
    pub monthly: Price,
}

/// A region's estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionCost {
    pub region: usize,
    pub location: String,
    pub lines: Vec<CostLine>,
    pub hourly: Price,
    pub monthly: Price,
    /// Traffic included per month across the region's servers and load balancers, bytes.
    #[serde(rename = "includedTraffic")]
    pub included_traffic: u64,
    /// Things the module creates that the price list has no price for here (named, counted as 0).
    #[serde(default)]
    pub unpriced: Vec<String>,
}

/// What the request costs, per region and in total, per hour and per month (Hetzner bills by the hour and
/// caps each resource at its monthly price).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub regions: Vec<RegionCost>,
    pub hourly: Price,
    pub monthly: Price,
    pub currency: String,
    #[serde(rename = "vatRate")]
    pub vat_rate: String,
    pub source: PriceSource,
    #[serde(rename = "asOfMs")]
    pub as_of_ms: Option<i64>,
}

/// What the Provider step needs to show the fit and the cost live: every component's footprint and the
/// prices (the cached ones from Hetzner, or the built-in list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingData {
    pub footprints: Footprints,
    pub prices: PriceTable,
    /// Server types Hetzner reported as not sold now, per location (`(type, location)`), as of the prices.
    #[serde(default)]
    pub unavailable: Vec<(String, String)>,
}

/// The pre-flight's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightReport {
    pub checks: Vec<Check>,
    pub capacity: Vec<RegionFit>,
    pub estimate: Option<CostEstimate>,
    /// Requests this run sent to the Hetzner API (retries included).
    #[serde(rename = "apiRequests")]
    pub api_requests: u32,
    #[serde(rename = "checkedAtMs")]
    pub checked_at_ms: i64,
}

impl PreflightReport {
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Warn)
    }

    /// Every failure, and every warning not in `acknowledged`, as the field errors a refused launch answers:
    /// on the wizard field that fixes it, or on `preflight` for checks of Catalyst itself.
    pub fn refusal(&self, acknowledged: &[String]) -> Vec<FieldError> {
        let mut out = Vec::new();
        for c in &self.checks {
            let message = match c.status {
                CheckStatus::Pass => continue,
                CheckStatus::Fail => c.message.clone(),
                CheckStatus::Warn if acknowledged.iter().any(|a| a == &c.id) => continue,
                CheckStatus::Warn => format!(
                    "{} Acknowledge this warning (“{}”) to launch anyway.",
                    c.message, c.id
                ),
            };
            let field = c.field.clone().unwrap_or_else(|| "preflight".to_string());
            out.push(FieldError::new(field, message));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> PreflightReport {
        PreflightReport {
            checks: vec![
                Check::new(CheckKind::Token, "token", CheckStatus::Pass, "token", "ok")
                    .field("secrets.hetznerToken"),
                Check::new(
                    CheckKind::ServerType,
                    "regions[0].controlPlaneSize",
                    CheckStatus::Fail,
                    "cpx32 in hel1",
                    "Not sold.",
                )
                .field("regions[0].controlPlaneSize"),
                Check::new(
                    CheckKind::Limits,
                    "limits",
                    CheckStatus::Warn,
                    "limits",
                    "Unknown.",
                ),
                Check::new(
                    CheckKind::PublicUrl,
                    "public-url",
                    CheckStatus::Fail,
                    "url",
                    "Loopback.",
                )
                .option("--public-url"),
            ],
            capacity: vec![],
            estimate: None,
            api_requests: 0,
            checked_at_ms: 0,
        }
    }

    #[test]
    fn a_refusal_names_the_fields_and_the_unacknowledged_warnings() {
        let r = report();
        let errors = r.refusal(&[]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["regions[0].controlPlaneSize", "preflight", "preflight"]);
        assert!(
            errors[1].message.contains("limits:limits"),
            "{}",
            errors[1].message
        );
        let acked = r.refusal(&["limits:limits".into()]);
        assert_eq!(acked.len(), 2);
        assert_eq!(r.checks[1].step(), Some(Step::Provider));
        assert_eq!(r.checks[1].id, "server-type:regions[0].controlPlaneSize");
    }
}
