//! The wipe's orphan sweep: find every Hetzner resource of one deployment and delete it, in an order the
//! API accepts, until nothing is left or only what cannot be deleted remains (and why).
//!
//! A resource belongs to the deployment when
//! - it carries the label `catalyst.dev/deployment-id=<id>` (everything `infra/hetzner` creates), or
//! - it has no deployment label and a name the module gives (`<prefix>-ssh`, `<prefix>-<region>-net|fw|cp|lb|api`,
//!   `<prefix>-<region>-cp<n>|w<n>`, where `<region>` is a Hetzner location with an optional `-<n>`), or
//! - it has no deployment label and hangs off one of the deployment's servers: a volume attached to it, a
//!   load balancer targeting it (what the cloud controller and CSI driver create inside the cluster), a
//!   primary IP assigned to it that would survive the server.
//!
//! A resource labelled with another deployment's id is never touched.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::{HetznerClient, HetznerError};

/// What to sweep: the deployment's id (label value) and its resource-name prefix
/// ([`super::name_prefix`] of its FQDN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepTarget {
    pub deployment_id: String,
    pub name_prefix: String,
}

/// How hard to try. Servers disappear a few seconds after their DELETE, and networks, firewalls and
/// placement groups can only go once the servers are gone, so the sweep works in rounds.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Rounds of "list what is left, delete it".
    pub rounds: u32,
    /// Pause between rounds.
    pub round_delay: Duration,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            rounds: 12,
            round_delay: Duration::from_secs(5),
        }
    }
}

/// The kinds of resource the sweep handles, in deletion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    LoadBalancer,
    Server,
    Volume,
    PrimaryIp,
    Firewall,
    PlacementGroup,
    Network,
    SshKey,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 8] = [
        ResourceKind::LoadBalancer,
        ResourceKind::Server,
        ResourceKind::Volume,
        ResourceKind::PrimaryIp,
        ResourceKind::Firewall,
        ResourceKind::PlacementGroup,
        ResourceKind::Network,
        ResourceKind::SshKey,
    ];

    /// The API collection: `/servers`, and the array's name in list answers.
    pub fn collection(self) -> &'static str {
        match self {
            ResourceKind::LoadBalancer => "load_balancers",
            ResourceKind::Server => "servers",
            ResourceKind::Volume => "volumes",
            ResourceKind::PrimaryIp => "primary_ips",
            ResourceKind::Firewall => "firewalls",
            ResourceKind::PlacementGroup => "placement_groups",
            ResourceKind::Network => "networks",
            ResourceKind::SshKey => "ssh_keys",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::LoadBalancer => "load balancer",
            ResourceKind::Server => "server",
            ResourceKind::Volume => "volume",
            ResourceKind::PrimaryIp => "primary IP",
            ResourceKind::Firewall => "firewall",
            ResourceKind::PlacementGroup => "placement group",
            ResourceKind::Network => "network",
            ResourceKind::SshKey => "SSH key",
        }
    }
}

/// One Hetzner resource of the deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub kind: ResourceKind,
    pub id: i64,
    pub name: String,
    /// What it costs per month while it exists (net list price, EUR); 0 for free kinds.
    pub monthly_cost_eur: f64,
    /// For a resource that remains: why the last attempt to delete it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of a sweep.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeardownReport {
    pub removed: Vec<Resource>,
    pub remaining: Vec<Resource>,
}

impl TeardownReport {
    /// Nothing of the deployment is left.
    pub fn is_clean(&self) -> bool {
        self.remaining.is_empty()
    }

    /// What the leftovers still cost per month.
    pub fn remaining_monthly_cost_eur(&self) -> f64 {
        round2(self.remaining.iter().map(|r| r.monthly_cost_eur).sum())
    }
}

const DEPLOYMENT_LABEL: &str = "catalyst.dev/deployment-id";

// --- API shapes (only the fields the sweep reads) ---------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Named {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Price {
    #[serde(default)]
    net: String,
}

#[derive(Debug, Deserialize)]
struct LocationPrice {
    #[serde(default)]
    location: String,
    price_monthly: Price,
}

#[derive(Debug, Deserialize)]
struct PricedType {
    #[serde(default)]
    prices: Vec<LocationPrice>,
}

#[derive(Debug, Deserialize)]
struct Datacenter {
    location: Named,
}

#[derive(Debug, Deserialize)]
struct ApiServer {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    server_type: PricedType,
    #[serde(default)]
    location: Option<Named>,
    #[serde(default)]
    datacenter: Option<Datacenter>,
}

#[derive(Debug, Deserialize)]
struct TargetServer {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct LbTarget {
    #[serde(default)]
    server: Option<TargetServer>,
}

#[derive(Debug, Deserialize)]
struct ApiLoadBalancer {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    load_balancer_type: PricedType,
    #[serde(default)]
    location: Option<Named>,
    #[serde(default)]
    targets: Vec<LbTarget>,
}

#[derive(Debug, Deserialize)]
struct ApiVolume {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(default)]
    server: Option<i64>,
    #[serde(default)]
    size: f64,
}

#[derive(Debug, Deserialize)]
struct ApiPrimaryIp {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(rename = "type", default)]
    ip_type: String,
    #[serde(default)]
    assignee_id: Option<i64>,
    #[serde(default)]
    auto_delete: bool,
    #[serde(default)]
    location: Option<Named>,
    #[serde(default)]
    datacenter: Option<Datacenter>,
}

#[derive(Debug, Deserialize)]
struct FirewallResourceRef {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    server: Option<TargetServer>,
}

#[derive(Debug, Deserialize)]
struct ApiFirewall {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(default)]
    applied_to: Vec<FirewallResourceRef>,
}

/// Networks, placement groups and SSH keys: free, no attachments the sweep acts on.
#[derive(Debug, Deserialize)]
struct ApiPlain {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
struct PricingBody {
    pricing: Pricing,
}

#[derive(Debug, Deserialize, Default)]
struct Pricing {
    #[serde(default)]
    volume: Option<VolumePricing>,
    #[serde(default)]
    primary_ips: Vec<PrimaryIpPricing>,
}

#[derive(Debug, Deserialize)]
struct VolumePricing {
    price_per_gb_month: Price,
}

#[derive(Debug, Deserialize)]
struct PrimaryIpPricing {
    #[serde(rename = "type")]
    ip_type: String,
    #[serde(default)]
    prices: Vec<LocationPrice>,
}

/// One resource found, with what the sweep needs to delete it.
#[derive(Debug, Clone)]
struct Found {
    resource: Resource,
    /// Volume: the server it is attached to. Primary IP: its assignee.
    attached_to: Option<i64>,
    /// Firewall: the servers it is applied to directly.
    applied_to: Vec<i64>,
}

/// Everything of the deployment that exists right now, in deletion order.
pub async fn inventory(client: &HetznerClient, target: &SweepTarget) -> Result<Vec<Resource>, HetznerError> {
    Ok(find(client, target)
        .await?
        .into_iter()
        .map(|f| f.resource)
        .collect())
}

/// Deletes everything of the deployment (see the module docs for what that is), in rounds, and reports
/// what went and what is left with the reason. Fails only when the token is rejected (nothing can be done
/// then) or the API cannot be listed at all.
pub async fn sweep(
    client: &HetznerClient,
    target: &SweepTarget,
    opts: &SweepOptions,
) -> Result<TeardownReport, HetznerError> {
    let initial = find(client, target).await?;
    let mut reasons: HashMap<(ResourceKind, i64), String> = HashMap::new();
    let mut seen: BTreeMap<(ResourceKind, i64), Resource> = BTreeMap::new();
    let mut current = initial;
    for round in 0..opts.rounds.max(1) {
        for f in &current {
            seen.entry(key(&f.resource)).or_insert_with(|| f.resource.clone());
        }
        if current.is_empty() {
            break;
        }
        tracing::info!(
            deployment = %target.deployment_id,
            round = round + 1,
            left = current.len(),
            "wipe: deleting Hetzner resources"
        );
        let mut only_permanent_failures = true;
        for f in &current {
            match delete_one(client, f).await {
                Ok(()) => {
                    reasons.remove(&key(&f.resource));
                    only_permanent_failures = false;
                }
                Err(e @ HetznerError::Rejected { .. }) => return Err(e),
                Err(e) => {
                    tracing::debug!(kind = f.resource.kind.label(), id = f.resource.id, error = %e, "wipe: not yet deleted");
                    if !permanent(&e) {
                        only_permanent_failures = false;
                    }
                    reasons.insert(key(&f.resource), reason(&e));
                }
            }
        }
        // What is left cannot be deleted by trying again (delete protection): stop here.
        if only_permanent_failures {
            break;
        }
        if round + 1 < opts.rounds.max(1) {
            tokio::time::sleep(opts.round_delay).await;
        }
        current = find(client, target).await?;
    }
    for f in &current {
        seen.entry(key(&f.resource)).or_insert_with(|| f.resource.clone());
    }
    let left: BTreeSet<(ResourceKind, i64)> = current.iter().map(|f| key(&f.resource)).collect();
    let remaining = current
        .into_iter()
        .map(|f| {
            let k = key(&f.resource);
            let mut r = f.resource;
            r.reason = Some(
                reasons
                    .get(&k)
                    .cloned()
                    .unwrap_or_else(|| "still being deleted by Hetzner".into()),
            );
            r
        })
        .collect();
    let removed = seen
        .into_iter()
        .filter(|(k, _)| !left.contains(k))
        .map(|(_, r)| r)
        .collect();
    Ok(TeardownReport { removed, remaining })
}

fn key(r: &Resource) -> (ResourceKind, i64) {
    (r.kind, r.id)
}

/// Failures another round cannot fix.
fn permanent(e: &HetznerError) -> bool {
    e.code() == Some("protected")
}

fn reason(e: &HetznerError) -> String {
    match e.code() {
        Some("protected") => {
            "delete protection is on: turn it off in the Hetzner console, then wipe again".into()
        }
        Some("resource_in_use") => format!("still in use: {e}"),
        Some("locked") => "locked by another running action".into(),
        _ => e.to_string(),
    }
}

async fn delete_one(client: &HetznerClient, f: &Found) -> Result<(), HetznerError> {
    let r = &f.resource;
    let path = format!("/{}/{}", r.kind.collection(), r.id);
    // Free the resource first where Hetzner requires it; failures show up in the DELETE below.
    match r.kind {
        // The server may already be gone, in which case Hetzner has detached the volume itself.
        ResourceKind::Volume if f.attached_to.is_some() => {
            let _ = client
                .post(&format!("{path}/actions/detach"), serde_json::json!({}))
                .await;
        }
        ResourceKind::PrimaryIp if f.attached_to.is_some() => {
            let _ = client
                .post(&format!("{path}/actions/unassign"), serde_json::json!({}))
                .await;
        }
        ResourceKind::Firewall if !f.applied_to.is_empty() => {
            let remove_from: Vec<_> = f
                .applied_to
                .iter()
                .map(|id| serde_json::json!({ "type": "server", "server": { "id": id } }))
                .collect();
            let _ = client
                .post(
                    &format!("{path}/actions/remove_from_resources"),
                    serde_json::json!({ "remove_from": remove_from }),
                )
                .await;
        }
        _ => {}
    }
    client.delete(&path).await
}

/// The ownership rule of the module docs, for one resource's labels and name.
fn claim(target: &SweepTarget, labels: &HashMap<String, String>, name: &str) -> Claim {
    match labels.get(DEPLOYMENT_LABEL) {
        Some(id) if *id == target.deployment_id => Claim::Ours,
        Some(_) => Claim::Foreign,
        None if module_name(&target.name_prefix, name) => Claim::Ours,
        None => Claim::Unknown,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Ours,
    Foreign,
    Unknown,
}

/// Is `name` one the module gives under `prefix`?
fn module_name(prefix: &str, name: &str) -> bool {
    if name == format!("{prefix}-ssh") {
        return true;
    }
    let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let Some((region, suffix)) = rest.rsplit_once('-') else {
        return false;
    };
    let numbered = |p: &str| {
        suffix
            .strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let suffix_ok = matches!(suffix, "net" | "fw" | "cp" | "lb" | "api") || numbered("cp") || numbered("w");
    suffix_ok && region_key(region)
}

/// `fsn1`, `fsn1-2`: a Hetzner location, optionally with a repeat number.
fn region_key(s: &str) -> bool {
    let loc = match s.rsplit_once('-') {
        Some((loc, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => loc,
        _ => s,
    };
    app::cloud::HETZNER_REGIONS.iter().any(|r| r.id == loc)
}

fn price_at(prices: &[LocationPrice], location: Option<&str>) -> f64 {
    let pick = location
        .and_then(|l| prices.iter().find(|p| p.location == l))
        .or_else(|| prices.first());
    pick.and_then(|p| p.price_monthly.net.trim().parse::<f64>().ok())
        .map(round2)
        .unwrap_or(0.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn location_of(location: &Option<Named>, datacenter: &Option<Datacenter>) -> Option<String> {
    location
        .as_ref()
        .map(|l| l.name.clone())
        .or_else(|| datacenter.as_ref().map(|d| d.location.name.clone()))
}

async fn find(client: &HetznerClient, target: &SweepTarget) -> Result<Vec<Found>, HetznerError> {
    let mut out: Vec<Found> = Vec::new();

    let servers: Vec<ApiServer> = client.list("/servers", "servers", None).await?;
    let mut our_servers = BTreeSet::new();
    for s in servers {
        if claim(target, &s.labels, &s.name) == Claim::Ours {
            our_servers.insert(s.id);
            let loc = location_of(&s.location, &s.datacenter);
            out.push(found(
                ResourceKind::Server,
                s.id,
                s.name,
                price_at(&s.server_type.prices, loc.as_deref()),
            ));
        }
    }

    let lbs: Vec<ApiLoadBalancer> = client.list("/load_balancers", "load_balancers", None).await?;
    for lb in lbs {
        let targets_ours = lb
            .targets
            .iter()
            .any(|t| t.server.as_ref().is_some_and(|s| our_servers.contains(&s.id)));
        let c = claim(target, &lb.labels, &lb.name);
        if c == Claim::Ours || (c == Claim::Unknown && targets_ours) {
            let loc = lb.location.as_ref().map(|l| l.name.as_str());
            let cost = price_at(&lb.load_balancer_type.prices, loc);
            out.push(found(ResourceKind::LoadBalancer, lb.id, lb.name, cost));
        }
    }

    // Volume and primary IP prices are not part of their list answers.
    let mut pricing: Option<Pricing> = None;

    let volumes: Vec<ApiVolume> = client.list("/volumes", "volumes", None).await?;
    for v in volumes {
        let attached_ours = v.server.is_some_and(|s| our_servers.contains(&s));
        let c = claim(target, &v.labels, &v.name);
        if c == Claim::Ours || (c == Claim::Unknown && attached_ours) {
            let p = pricing_once(client, &mut pricing).await;
            let per_gb = p
                .volume
                .as_ref()
                .and_then(|v| v.price_per_gb_month.net.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            let mut f = found(ResourceKind::Volume, v.id, v.name, round2(per_gb * v.size));
            f.attached_to = v.server;
            out.push(f);
        }
    }

    let ips: Vec<ApiPrimaryIp> = client.list("/primary_ips", "primary_ips", None).await?;
    for ip in ips {
        let assigned_ours = ip.assignee_id.is_some_and(|s| our_servers.contains(&s));
        let c = claim(target, &ip.labels, &ip.name);
        // An auto-deleted IP of one of our servers goes with the server: nothing to do or report.
        let survives = !(assigned_ours && ip.auto_delete);
        if survives && (c == Claim::Ours || (c == Claim::Unknown && assigned_ours)) {
            let p = pricing_once(client, &mut pricing).await;
            let loc = location_of(&ip.location, &ip.datacenter);
            let cost = p
                .primary_ips
                .iter()
                .find(|t| t.ip_type == ip.ip_type)
                .map(|t| price_at(&t.prices, loc.as_deref()))
                .unwrap_or(0.0);
            let mut f = found(ResourceKind::PrimaryIp, ip.id, ip.name, cost);
            f.attached_to = ip.assignee_id;
            out.push(f);
        }
    }

    let firewalls: Vec<ApiFirewall> = client.list("/firewalls", "firewalls", None).await?;
    for fw in firewalls {
        if claim(target, &fw.labels, &fw.name) == Claim::Ours {
            let applied_to = fw
                .applied_to
                .iter()
                .filter(|a| a.kind == "server")
                .filter_map(|a| a.server.as_ref().map(|s| s.id))
                .collect();
            let mut f = found(ResourceKind::Firewall, fw.id, fw.name, 0.0);
            f.applied_to = applied_to;
            out.push(f);
        }
    }

    for kind in [
        ResourceKind::PlacementGroup,
        ResourceKind::Network,
        ResourceKind::SshKey,
    ] {
        let path = format!("/{}", kind.collection());
        let items: Vec<ApiPlain> = client.list(&path, kind.collection(), None).await?;
        for it in items {
            if claim(target, &it.labels, &it.name) == Claim::Ours {
                out.push(found(kind, it.id, it.name, 0.0));
            }
        }
    }

    out.sort_by_key(|f| (f.resource.kind, f.resource.id));
    Ok(out)
}

async fn pricing_once<'a>(client: &HetznerClient, cache: &'a mut Option<Pricing>) -> &'a Pricing {
    if cache.is_none() {
        let p = match client.get::<PricingBody>("/pricing").await {
            Ok(b) => b.pricing,
            Err(e) => {
                tracing::warn!(error = %e, "wipe: Hetzner prices unavailable; costs of volumes and IPs show as 0");
                Pricing::default()
            }
        };
        *cache = Some(p);
    }
    cache.get_or_insert_with(Pricing::default)
}

fn found(kind: ResourceKind, id: i64, name: String, monthly_cost_eur: f64) -> Found {
    Found {
        resource: Resource {
            kind,
            id,
            name,
            monthly_cost_eur,
            reason: None,
        },
        attached_to: None,
        applied_to: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> SweepTarget {
        SweepTarget {
            deployment_id: "dep-1".into(),
            name_prefix: "catalyst-acme-omani-works".into(),
        }
    }

    #[test]
    fn names_the_module_gives_are_recognised() {
        let p = "catalyst-acme-omani-works";
        for n in [
            "catalyst-acme-omani-works-ssh",
            "catalyst-acme-omani-works-fsn1-net",
            "catalyst-acme-omani-works-fsn1-2-fw",
            "catalyst-acme-omani-works-hel1-cp",
            "catalyst-acme-omani-works-nbg1-lb",
            "catalyst-acme-omani-works-nbg1-api",
            "catalyst-acme-omani-works-fsn1-cp3",
            "catalyst-acme-omani-works-ash-w12",
        ] {
            assert!(module_name(p, n), "{n}");
        }
        for n in [
            "catalyst-acme-omani-works",
            "catalyst-acme-omani-works-x-fsn1-cp1",
            "catalyst-acme-omani-works-fsn1-db",
            "catalyst-acme-omani-works-fsn1-w",
            "catalyst-acme-omani-works-fsn1-wx",
            "catalyst-acme-omani-works2-fsn1-cp1",
            "my-server",
        ] {
            assert!(!module_name(p, n), "{n}");
        }
    }

    #[test]
    fn labels_decide_before_names() {
        let t = target();
        let mut labels = HashMap::new();
        assert_eq!(
            claim(&t, &labels, "catalyst-acme-omani-works-fsn1-cp1"),
            Claim::Ours
        );
        assert_eq!(claim(&t, &labels, "unrelated"), Claim::Unknown);
        labels.insert(DEPLOYMENT_LABEL.to_string(), "dep-1".to_string());
        assert_eq!(claim(&t, &labels, "renamed-by-hand"), Claim::Ours);
        labels.insert(DEPLOYMENT_LABEL.to_string(), "dep-2".to_string());
        assert_eq!(
            claim(&t, &labels, "catalyst-acme-omani-works-fsn1-cp1"),
            Claim::Foreign
        );
    }

    #[test]
    fn prices_pick_the_location() {
        let prices = vec![
            LocationPrice {
                location: "fsn1".into(),
                price_monthly: Price {
                    net: "16.9400".into(),
                },
            },
            LocationPrice {
                location: "ash".into(),
                price_monthly: Price {
                    net: "19.0000".into(),
                },
            },
        ];
        assert_eq!(price_at(&prices, Some("ash")), 19.0);
        assert_eq!(price_at(&prices, Some("hel1")), 16.94, "falls back to the first");
        assert_eq!(price_at(&[], Some("ash")), 0.0);
    }
}
