//! The pre-flight's questions to Hetzner, with the user's token (used for these calls only):
//!
//! 1. `GET /servers` (every page): the token reads the project — and the servers are counted and named;
//! 2. an invalid `POST /ssh_keys`: the token may write (nothing is created);
//! 3. at once: `GET /server_types`, `GET /pricing` (unless the stored list is current), and every page of
//!    load balancers, primary IPs, networks, firewalls, placement groups, SSH keys and volumes.
//!
//! From these: each chosen server type in each chosen location, the load balancer type, the limits, the
//! names (and the SSH key) the module would create that already exist, and — from Catalyst's labels on what
//! the project holds — whether the project id matches. Hetzner's public API says neither which project a
//! token belongs to nor what the account's limits are; the checks say so where it matters (README →
//! "Pre-flight").

use std::collections::{BTreeMap, BTreeSet, HashMap};

use app::deployments::{DeploymentRequest, DomainMode};
use app::preflight::plan::{LOAD_BALANCER_TYPE, NETWORK_SERVERS_MAX, PLACEMENT_GROUP_MAX, Plan};
use app::preflight::{Check, CheckKind, CheckStatus, Footprints, PriceTable};
use serde::Deserialize;

use super::config::PreflightConfig;
use super::prices;
use crate::db::{Db, deployments as store};
use crate::hetzner::catalogue::{Offer, ServerType, nearest_available, offer_of};
use crate::hetzner::{HetznerClient, HetznerError, TokenProblem, name_prefix};

/// What the checks against Hetzner found, and the prices and availability they used.
pub struct Found {
    pub checks: Vec<Check>,
    pub prices: PriceTable,
    pub unavailable: Vec<(String, String)>,
}

/// The fields of a listed resource the checks read.
#[derive(Debug, Clone, Deserialize)]
struct Item {
    id: i64,
    name: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    /// SSH keys only.
    #[serde(default)]
    public_key: Option<String>,
}

const DEPLOYMENT_LABEL: &str = "catalyst.dev/deployment-id";

/// The collections listed besides servers, in the order their checks name them.
const COLLECTIONS: [(&str, &str); 7] = [
    ("load_balancers", "load balancer"),
    ("primary_ips", "primary IP"),
    ("networks", "network"),
    ("firewalls", "firewall"),
    ("placement_groups", "placement group"),
    ("ssh_keys", "SSH key"),
    ("volumes", "volume"),
];

pub async fn checks(
    db: &Db,
    config: &PreflightConfig,
    client: &HetznerClient,
    req: &DeploymentRequest,
    footprints: &Footprints,
) -> Found {
    let api_url = &config.hetzner_api_url;
    let mut checks = Vec::new();
    let servers: Vec<Item> = match client.list("/servers", "servers", None).await {
        Ok(s) => s,
        Err(e) => {
            checks.push(token_check(Err(crate::hetzner::client::token_problem(e))));
            let known = prices::cached(db, api_url).await;
            return Found {
                checks,
                prices: known.prices,
                unavailable: known.unavailable,
            };
        }
    };
    checks.push(token_check(client.check_write().await));

    let list = |path: &'static str| async move {
        client
            .list::<Item>(&format!("/{path}"), path, None)
            .await
            .map(|items| (path, items))
    };
    let (types, table, lists) = tokio::join!(
        client.server_types(),
        prices::current(db, api_url, client),
        futures_util::future::join_all(COLLECTIONS.iter().map(|(p, _)| list(p))),
    );

    // Server types, per region and field.
    let unavailable = match &types {
        Ok(types) => {
            let pairs: Vec<(String, String)> = types
                .iter()
                .flat_map(|t| {
                    t.locations
                        .iter()
                        .filter(|l| !l.available)
                        .map(|l| (t.name.clone(), l.name.clone()))
                })
                .collect();
            prices::store_unavailable(db, api_url, &pairs).await;
            checks.extend(server_type_checks(req, types));
            pairs
        }
        Err(e) => {
            checks.push(unanswered(
                CheckKind::ServerType,
                "server-types",
                "GET /server_types",
                e,
            ));
            prices::cached(db, api_url).await.unavailable
        }
    };
    checks.extend(load_balancer_checks(req, &table));

    // Everything the project holds, by collection.
    let mut held: BTreeMap<&str, Vec<Item>> = BTreeMap::new();
    held.insert("servers", servers);
    for r in lists {
        match r {
            Ok((path, items)) => {
                held.insert(path, items);
            }
            Err(e) => checks.push(unanswered(
                CheckKind::Limits,
                "inventory",
                "listing the project",
                &e,
            )),
        }
    }
    if held.len() == COLLECTIONS.len() + 1 {
        checks.extend(limit_checks(req, footprints, &held, &config.options.limits));
        checks.extend(collision_checks(db, req, &held).await);
        checks.push(project_check(db, req, &held).await);
    }
    Found {
        checks,
        prices: table,
        unavailable,
    }
}

/// A question Hetzner did not answer: a failure, since the launch cannot be judged.
/// Hetzner's own words (and a library's) go to the server log only: the tenant gets a bounded sentence.
fn unanswered(kind: CheckKind, key: &str, what: &str, e: &HetznerError) -> Check {
    tracing::warn!(what, error = %e, "pre-flight: Hetzner did not answer");
    Check::new(
        kind,
        key,
        CheckStatus::Fail,
        what,
        format!(
            "Hetzner did not answer {what}; run the pre-flight again in a minute (the server log has the details)."
        ),
    )
}

fn token_check(r: Result<(), TokenProblem>) -> Check {
    let (status, message) = match r {
        Ok(()) => (
            CheckStatus::Pass,
            "The token reads the project and may write (read & write).".to_string(),
        ),
        Err(TokenProblem::Rejected(detail))
            if detail.starts_with("token_readonly") || detail.starts_with("forbidden") =>
        {
            (
                CheckStatus::Fail,
                format!(
                    "This token is read-only; create a Read & Write API token in the project (Hetzner said: {detail})."
                ),
            )
        }
        Err(TokenProblem::Rejected(detail)) => (
            CheckStatus::Fail,
            format!(
                "Hetzner rejected the token; paste a Read & Write API token of the project (Hetzner said: {detail})."
            ),
        ),
        Err(TokenProblem::Unreachable(detail)) => {
            tracing::warn!(problem = %detail, "pre-flight: Hetzner API unreachable");
            (
                CheckStatus::Fail,
                "The console could not reach the Hetzner API; run the pre-flight again in a minute (the server log has the details).".to_string(),
            )
        }
        Err(TokenProblem::Http { status, message }) => (
            CheckStatus::Fail,
            format!(
                "The Hetzner API answered HTTP {status} ({message}); run the pre-flight again in a minute."
            ),
        ),
    };
    Check::new(CheckKind::Token, "token", status, "API token", message).field("secrets.hetznerToken")
}

fn describe(t: &ServerType) -> String {
    format!(
        "{} ({} vCPU, {} GB, {})",
        t.name,
        t.cores,
        t.memory.round() as u64,
        if t.cpu_type == "dedicated" {
            "dedicated"
        } else {
            "shared"
        }
    )
}

fn server_type_checks(req: &DeploymentRequest, types: &[ServerType]) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, r) in req.regions.iter().enumerate() {
        let mut fields = vec![("controlPlaneSize", &r.control_plane_size, "control planes")];
        if r.worker_count > 0 {
            fields.push(("workerSize", &r.worker_size, "workers"));
        }
        for (name, size, role) in fields {
            let field = format!("regions[{i}].{name}");
            let loc = &r.cloud_region;
            let subject = format!("{size} in {loc}");
            let nearest = || match nearest_available(types, size, loc) {
                Some(t) => format!(" Nearest type available there: {}.", describe(t)),
                None => {
                    " Hetzner has no comparable type available there now; choose another location.".into()
                }
            };
            let (status, message) = match offer_of(types, size, loc) {
                Offer::Available => (
                    CheckStatus::Pass,
                    format!("{size} is available in {loc} for the {role}."),
                ),
                Offer::Deprecated { unavailable_after } => (
                    CheckStatus::Warn,
                    format!(
                        "{size} is deprecated in {loc}: it can be ordered until {} only, so the {role} could not be replaced or added after that.{}",
                        unavailable_after.get(..10).unwrap_or(&unavailable_after),
                        nearest()
                    ),
                ),
                Offer::Unavailable => (
                    CheckStatus::Fail,
                    format!(
                        "Hetzner has no {size} available in {loc} right now, so the {role} cannot be created.{}",
                        nearest()
                    ),
                ),
                Offer::NotSold => {
                    let sold: Vec<&str> = types
                        .iter()
                        .find(|t| &t.name == size)
                        .map(|t| t.locations.iter().map(|l| l.name.as_str()).collect())
                        .unwrap_or_default();
                    (
                        CheckStatus::Fail,
                        format!(
                            "{size} is not sold in {loc} (only in {}).{}",
                            if sold.is_empty() {
                                "no location".into()
                            } else {
                                sold.join(", ")
                            },
                            nearest()
                        ),
                    )
                }
                Offer::Unknown => (
                    CheckStatus::Fail,
                    format!("Hetzner has no server type called {size}; choose one from the list."),
                ),
            };
            out.push(Check::new(CheckKind::ServerType, &field, status, subject, message).field(field));
        }
    }
    out
}

fn load_balancer_checks(req: &DeploymentRequest, prices: &PriceTable) -> Vec<Check> {
    let plan = Plan::of(req);
    plan.regions
        .iter()
        .filter(|r| r.load_balancers() > 0)
        .map(|r| {
            let field = format!("regions[{}].cloudRegion", r.region);
            let offered = prices.load_balancer(LOAD_BALANCER_TYPE, &r.location).is_some();
            let (status, message) = if offered {
                (
                    CheckStatus::Pass,
                    format!(
                        "{LOAD_BALANCER_TYPE} load balancers are offered in {}.",
                        r.location
                    ),
                )
            } else {
                (
                    CheckStatus::Fail,
                    format!(
                        "Hetzner lists no {LOAD_BALANCER_TYPE} load balancer in {}; choose another location.",
                        r.location
                    ),
                )
            };
            Check::new(
                CheckKind::LoadBalancerType,
                &field,
                status,
                format!("{LOAD_BALANCER_TYPE} in {}", r.location),
                message,
            )
            .field(field)
        })
        .collect()
}

/// Volumes the selected components claim in one region (one per copy).
fn planned_volumes(req: &DeploymentRequest, footprints: &Footprints) -> u32 {
    footprints
        .of(req.ha_enabled)
        .iter()
        .filter(|f| req.components.iter().any(|c| c == &f.id))
        .flat_map(|f| f.volumes.iter().map(|(n, _)| *n))
        .sum::<u32>()
        * req.regions.len() as u32
}

/// The request-side lever of a limit: the field that makes the launch create fewer of `kind`.
fn lever(req: &DeploymentRequest, kind: &str) -> String {
    let with_workers = req.regions.iter().position(|r| r.worker_count > 0);
    match kind {
        "servers" | "primary_ips" => match with_workers {
            Some(i) => format!("regions[{i}].workerCount"),
            None if req.ha_enabled => "haEnabled".into(),
            None => "topology".into(),
        },
        "load_balancers" if req.ha_enabled => "haEnabled".into(),
        "volumes" => "components".into(),
        _ => "topology".into(),
    }
}

fn limit_checks(
    req: &DeploymentRequest,
    footprints: &Footprints,
    held: &BTreeMap<&str, Vec<Item>>,
    limits: &super::config::HetznerLimits,
) -> Vec<Check> {
    let plan = Plan::of(req);
    let adds: [(&str, &str, u32); 7] = [
        ("servers", "servers", plan.servers()),
        ("load_balancers", "load balancers", plan.load_balancers()),
        ("primary_ips", "primary IPs", plan.primary_ips()),
        ("networks", "networks", plan.networks()),
        ("firewalls", "firewalls", plan.firewalls()),
        ("placement_groups", "placement groups", plan.placement_groups()),
        ("volumes", "volumes", planned_volumes(req, footprints)),
    ];
    let count = |k: &str| held.get(k).map_or(0, |v| v.len()) as u32;
    let mut out = Vec::new();

    // Hetzner's fixed limits: servers per network and per placement group.
    let worst_net = plan.regions.iter().map(|r| r.servers()).max().unwrap_or(0);
    let worst_pg = plan.regions.iter().map(|r| r.control_planes).max().unwrap_or(0);
    let fixed_ok = worst_net <= NETWORK_SERVERS_MAX && worst_pg <= PLACEMENT_GROUP_MAX;
    out.push(
        Check::new(
            CheckKind::Limits,
            "fixed",
            if fixed_ok { CheckStatus::Pass } else { CheckStatus::Fail },
            "Hetzner's fixed limits",
            format!(
                "A region's network holds at most {worst_net} of {NETWORK_SERVERS_MAX} servers and its control-plane placement group {worst_pg} of {PLACEMENT_GROUP_MAX}.{}",
                if fixed_ok { "" } else { " Use fewer workers per region." }
            ),
        )
        .field(lever(req, "servers")),
    );

    if limits.is_empty() {
        let holds: Vec<String> = adds
            .iter()
            .map(|(k, label, _)| format!("{} {label}", count(k)))
            .collect();
        let new: Vec<String> = adds
            .iter()
            .filter(|(_, _, n)| *n > 0)
            .map(|(_, label, n)| format!("{n} {label}"))
            .collect();
        out.push(
            Check::new(
                CheckKind::Limits,
                "account",
                CheckStatus::Warn,
                "Account limits",
                format!(
                    "Hetzner's API does not report the account's limits (they apply to all its projects together), so they were not checked. This project holds {}; this launch adds {}. Compare with the Hetzner console → Limits; the console's operator can set --hetzner-limits to have them checked.",
                    holds.join(", "),
                    new.join(", ")
                ),
            )
            .option("--hetzner-limits"),
        );
        return out;
    }
    for (kind, label, add) in adds {
        let Some(limit) = limits.of(kind) else { continue };
        let have = count(kind);
        let after = have + add;
        let (status, message) = if after <= limit {
            (
                CheckStatus::Pass,
                format!(
                    "{have} {label} in this project, {add} more with this launch: {after} of the limit of {limit}."
                ),
            )
        } else {
            (
                CheckStatus::Fail,
                format!(
                    "This launch needs {} more {label} than the limit of {limit} allows: the project holds {have} and the launch adds {add}. Raise the limit (Hetzner console → Limits, then --hetzner-limits), remove {label} from the project, or launch a smaller Sovereign.",
                    after - limit
                ),
            )
        };
        out.push(
            Check::new(
                CheckKind::Limits,
                kind,
                status,
                format!("Limit of {label}"),
                message,
            )
            .field(lever(req, kind)),
        );
    }
    out
}

/// The names `infra/hetzner` gives what it creates for `req`, by collection (see main.tf's header).
pub fn module_names(req: &DeploymentRequest) -> BTreeMap<&'static str, Vec<String>> {
    let p = name_prefix(&req.fqdn());
    let keys = crate::tofu::region_keys(&req.regions);
    let plan = Plan::of(req);
    let mut names: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    names.entry("ssh_keys").or_default().push(format!("{p}-ssh"));
    for (r, k) in plan.regions.iter().zip(&keys) {
        names.entry("networks").or_default().push(format!("{p}-{k}-net"));
        names.entry("firewalls").or_default().push(format!("{p}-{k}-fw"));
        names
            .entry("placement_groups")
            .or_default()
            .push(format!("{p}-{k}-cp"));
        names
            .entry("primary_ips")
            .or_default()
            .push(format!("{p}-{k}-api"));
        if r.public_lb {
            names
                .entry("load_balancers")
                .or_default()
                .push(format!("{p}-{k}-lb"));
        }
        if r.api_lb {
            names
                .entry("load_balancers")
                .or_default()
                .push(format!("{p}-{k}-api"));
        }
        for n in 1..=r.control_planes {
            names.entry("servers").or_default().push(format!("{p}-{k}-cp{n}"));
        }
        for n in 1..=r.workers {
            names.entry("servers").or_default().push(format!("{p}-{k}-w{n}"));
        }
    }
    names
}

/// `ssh-ed25519 AAAA… comment` → `ssh-ed25519 AAAA…` (Hetzner refuses a key whose fingerprint it holds).
fn key_body(k: &str) -> String {
    k.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

async fn collision_checks(db: &Db, req: &DeploymentRequest, held: &BTreeMap<&str, Vec<Item>>) -> Vec<Check> {
    let domain_field = match req.domain.mode {
        DomainMode::Pool => "domain.subdomain",
        _ => "domain.byoDomain",
    };
    let wanted = module_names(req);
    let total: usize = wanted.values().map(Vec::len).sum();
    let mut clashes: Vec<(String, &Item)> = Vec::new();
    for (coll, names) in &wanted {
        let label = if *coll == "servers" {
            "server"
        } else {
            COLLECTIONS
                .iter()
                .find(|(p, _)| p == coll)
                .map_or("resource", |(_, l)| l)
        };
        for item in held.get(coll).into_iter().flatten() {
            if names.contains(&item.name) {
                clashes.push((format!("{label} {}", item.name), item));
            }
        }
    }
    let mut out = Vec::new();
    if clashes.is_empty() {
        out.push(
            Check::new(
                CheckKind::NameCollision,
                "names",
                CheckStatus::Pass,
                "Resource names",
                format!("None of the {total} names this launch gives its resources is taken in the project."),
            )
            .field(domain_field),
        );
    } else {
        let owners: BTreeSet<&str> = clashes
            .iter()
            .filter_map(|(_, i)| i.labels.get(DEPLOYMENT_LABEL).map(String::as_str))
            .collect();
        let mut from = String::new();
        for id in owners.iter().take(3) {
            if let Ok(Some(row)) = store::get(db, id).await {
                from.push_str(&format!(
                    " They belong to deployment {id} of {} ({}): retry or wipe it from the deployments list.",
                    row.fqdn,
                    row.status().label().to_lowercase()
                ));
            }
        }
        let shown: Vec<&str> = clashes.iter().take(4).map(|(n, _)| n.as_str()).collect();
        let more = clashes.len().saturating_sub(shown.len());
        out.push(
            Check::new(
                CheckKind::NameCollision,
                "names",
                CheckStatus::Fail,
                "Resource names",
                format!(
                    "The project already has {}{} with the names this launch would give its resources, so OpenTofu would fail half-way.{from} Otherwise delete them in the Hetzner console, or choose another domain (the names derive from it).",
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() },
                ),
            )
            .field(domain_field),
        );
    }
    let ours = key_body(&req.ssh_public_key);
    if !ours.is_empty() {
        let own_name = format!("{}-ssh", name_prefix(&req.fqdn()));
        let same = held.get("ssh_keys").into_iter().flatten().find(|k| {
            k.name != own_name && k.public_key.as_deref().map(key_body).as_deref() == Some(ours.as_str())
        });
        out.push(match same {
            None => Check::new(
                CheckKind::NameCollision,
                "ssh-key",
                CheckStatus::Pass,
                "SSH key",
                "The project does not hold this public key yet.",
            ),
            Some(k) => Check::new(
                CheckKind::NameCollision,
                "ssh-key",
                CheckStatus::Fail,
                "SSH key",
                format!(
                    "The project already holds this public key as “{}” (id {}), and Hetzner keeps a key only once per project, so creating the Sovereign's key would fail. Use another key, or delete that one in the Hetzner console.",
                    k.name, k.id
                ),
            ),
        }
        .field("sshPublicKey"));
    }
    out
}

/// Hetzner's API does not say which project a token belongs to. What the project holds can: resources
/// labelled with the id of a deployment Catalyst knows, whose request named a project id.
async fn project_check(db: &Db, req: &DeploymentRequest, held: &BTreeMap<&str, Vec<Item>>) -> Check {
    let ids: BTreeSet<&str> = held
        .values()
        .flatten()
        .filter_map(|i| i.labels.get(DEPLOYMENT_LABEL).map(String::as_str))
        .take(20)
        .collect();
    let wanted = req.hetzner_project_id.trim();
    let mut same = None;
    let mut other = None;
    for id in ids {
        let Ok(Some(row)) = store::get(db, id).await else {
            continue;
        };
        let project = serde_json::from_str::<serde_json::Value>(&row.request)
            .ok()
            .and_then(|v| {
                v.get("hetznerProjectId")
                    .and_then(|p| p.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        if project.trim() == wanted {
            same.get_or_insert((id.to_string(), row.fqdn.clone()));
        } else {
            other.get_or_insert((id.to_string(), row.fqdn.clone(), project));
        }
    }
    let (status, message) = match (same, other) {
        (Some((id, fqdn)), _) => (
            CheckStatus::Pass,
            format!(
                "The token's project holds resources of deployment {id} ({fqdn}), launched with project {wanted}."
            ),
        ),
        (None, Some((id, fqdn, project))) => (
            CheckStatus::Warn,
            format!(
                "The token's project holds resources of deployment {id} ({fqdn}), which was launched with project {project}, not {wanted}: check that the project id and the token belong together."
            ),
        ),
        (None, None) => (
            CheckStatus::Pass,
            format!(
                "Hetzner's API does not say which project a token belongs to, and nothing in this project identifies it; project {wanted} is recorded on the Sovereign's nodes as given."
            ),
        ),
    };
    Check::new(CheckKind::Project, "project", status, "Project id", message).field("hetznerProjectId")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_hetzner_said_stays_in_the_log() {
        let e = HetznerError::Malformed("GET /server_types: <html>internal detail</html>".into());
        let check = unanswered(CheckKind::ServerType, "types", "for its server types", &e);
        assert_eq!(check.status, CheckStatus::Fail);
        assert!(!check.message.contains("internal detail"), "{}", check.message);
        assert!(
            check.message.contains("run the pre-flight again"),
            "{}",
            check.message
        );
    }
}
