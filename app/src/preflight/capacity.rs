//! Whether the selected components fit a region's nodes, and the smallest change of workers that makes them
//! fit. Every region is its own k3s cluster running the whole selection, so each region is summed alone.
//!
//! Demand of a region = the CPU and memory *requests* of every selected component's workloads (their curated
//! values, `platform/<id>/kit.yaml` → `workloads`: fixed copies once, DaemonSets once per node) plus what the
//! cluster runs before the kit ([`CLUSTER_PODS`]). Supply = each node's capacity minus what runs outside
//! Kubernetes' accounting ([`NODE_RESERVED`], and [`SERVER_RESERVED`] on control planes). Requests, not
//! usage: the scheduler places pods by requests, so a sum over them is exactly what decides whether the
//! pods can be placed at all.
//!
//! A region passes when the demand takes at most [`COMFORT_PERCENT`] of the supply and its largest pod fits
//! on one node; it warns between that and 100 % (rolling updates need room for a surge copy, Jobs run
//! besides), and fails beyond.

use super::money::Money;
use super::plan::Plan;
use super::types::{CheckStatus, ComponentFootprint, Footprints, PriceTable, Proposal, RegionFit, Resources};
use crate::cloud::{HOURS_PER_MONTH, NodeSize, Provider};
use crate::deployments::{DeploymentRequest, MAX_WORKERS};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Per node, outside Kubernetes' accounting: Ubuntu with cloud-init and fail2ban, containerd, the kubelet
/// and k3s agent (k3s' resource profiling measures the agent at 275 MB and 3–10 % of a core), and the
/// kubelet's hard eviction threshold (100 MiB).
pub const NODE_RESERVED: Resources = Resources::new(200, 640 * MIB);
/// On each control plane in addition: the k3s server — API server, scheduler, controller manager and the
/// datastore (k3s measures a server node at about 1.6 GB with embedded etcd and up to 30 % of a core).
pub const SERVER_RESERVED: Resources = Resources::new(300, 1280 * MIB);
/// Pods every region's cluster runs before the kit: Flux's four controllers (100m / 64 Mi each, as Flux's
/// install manifest requests), CoreDNS (100m / 70 Mi) and metrics-server (100m / 70 Mi), both from k3s.
pub const CLUSTER_PODS: Resources = Resources::new(600, (4 * 64 + 70 + 70) * MIB);
/// The share of the supply requests may take before a region only warns.
pub const COMFORT_PERCENT: u64 = 85;

/// What a node of `size` offers to pods.
pub fn allocatable(size: &NodeSize, control_plane: bool) -> Resources {
    let capacity = Resources::new(u64::from(size.vcpu) * 1000, u64::from(size.ram_gb) * GIB);
    let mut reserved = NODE_RESERVED;
    if control_plane {
        reserved += SERVER_RESERVED;
    }
    capacity.saturating_sub(reserved)
}

/// The requests of `components` in a region of `nodes` nodes: the steady sum (system pods included), the
/// largest single pod, and the largest Job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Demand {
    pub steady: Resources,
    pub largest: Resources,
    pub job_peak: Resources,
}

pub fn demand(footprints: &[ComponentFootprint], components: &[String], nodes: u32) -> Demand {
    let mut d = Demand {
        steady: CLUSTER_PODS,
        ..Demand::default()
    };
    for f in footprints
        .iter()
        .filter(|f| components.iter().any(|c| c == &f.id))
    {
        d.steady += f.fixed + f.per_node.times(u64::from(nodes));
        d.largest = d.largest.max(f.largest);
        d.job_peak = d.job_peak.max(f.job_peak);
    }
    d
}

/// The nodes of one region: (size, how many, control plane?).
fn supply(nodes: &[(&NodeSize, u32, bool)]) -> (Resources, Resources) {
    let mut total = Resources::ZERO;
    let mut biggest = Resources::ZERO;
    for (size, n, cp) in nodes {
        let a = allocatable(size, *cp);
        total += a.times(u64::from(*n));
        if *n > 0 {
            biggest = biggest.max(a);
        }
    }
    (total, biggest)
}

fn judge(d: &Demand, supply: Resources, biggest: Resources) -> (CheckStatus, bool) {
    let largest_fits = d.largest.fits_in(biggest);
    let comfortable = Resources::new(
        supply.cpu_millis * COMFORT_PERCENT / 100,
        supply.memory_bytes * COMFORT_PERCENT / 100,
    );
    let status = if !d.steady.fits_in(supply) || !largest_fits {
        CheckStatus::Fail
    } else if !d.steady.fits_in(comfortable) || !(d.steady + d.job_peak).fits_in(supply) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    (status, largest_fits)
}

/// Per region: the demand against the supply, and a proposal when it does not fit comfortably.
/// `prices` ranks the proposals (the built-in list when Hetzner has not been asked); `unavailable` lists
/// `(type, location)` pairs Hetzner does not sell now, which are never proposed.
pub fn fit(
    req: &DeploymentRequest,
    footprints: &Footprints,
    prices: Option<&PriceTable>,
    unavailable: &[(String, String)],
) -> Vec<RegionFit> {
    let plan = Plan::of(req);
    let fps = footprints.of(req.ha_enabled);
    plan.regions
        .iter()
        .map(|r| {
            let cp = Provider::Hetzner.size(&r.control_plane_size);
            let worker = Provider::Hetzner.size(&r.worker_size);
            let nodes = r.control_planes + r.workers;
            let d = demand(fps, &req.components, nodes);
            let mut list = Vec::new();
            if let Some(cp) = cp {
                list.push((cp, r.control_planes, true));
            }
            if let Some(w) = worker {
                list.push((w, r.workers, false));
            }
            let (allocatable, biggest) = supply(&list);
            let (status, largest_fits) = judge(&d, allocatable, biggest);
            let proposal = match (status, cp) {
                (CheckStatus::Pass, _) | (_, None) => None,
                (_, Some(cp)) => propose(
                    fps,
                    &req.components,
                    cp,
                    r.control_planes,
                    &r.location,
                    prices,
                    unavailable,
                ),
            };
            RegionFit {
                region: r.region,
                nodes,
                demand: d.steady,
                allocatable,
                status,
                largest_fits,
                proposal,
            }
        })
        .collect()
}

/// A node's monthly price (net) in `location`: Hetzner's, else the built-in hourly list × 730.
pub fn monthly_net(size: &NodeSize, location: &str, prices: Option<&PriceTable>) -> Option<Money> {
    match prices {
        Some(p) if p.source != super::types::PriceSource::BuiltIn => {
            p.server(size.id, location).map(|lp| lp.monthly.net)
        }
        _ => {
            // The built-in list has one hourly price per size, the same everywhere.
            let hourly_nanos = (size.price_hour * 1e9).round() as i64;
            Some(Money(hourly_nanos).times(HOURS_PER_MONTH as u64))
        }
    }
}

fn is_arm(size: &NodeSize) -> bool {
    size.category.ends_with("arm")
}

/// The cheapest worker size and count (per month, the control planes included) with which the region
/// passes; ties go to fewer workers. Workers keep the control plane's CPU architecture (images of the kit
/// are not all multi-architecture) and are only sizes sold in the location.
pub fn propose(
    footprints: &[ComponentFootprint],
    components: &[String],
    cp: &NodeSize,
    control_planes: u32,
    location: &str,
    prices: Option<&PriceTable>,
    unavailable: &[(String, String)],
) -> Option<Proposal> {
    let cp_monthly = monthly_net(cp, location, prices)?.times(u64::from(control_planes));
    let mut best: Option<Proposal> = None;
    for size in Provider::Hetzner.sizes() {
        if is_arm(size) != is_arm(cp) || unavailable.iter().any(|(t, l)| t == size.id && l == location) {
            continue;
        }
        let Some(each) = monthly_net(size, location, prices) else {
            // Not priced here: not sold in this location.
            continue;
        };
        for n in 1..=MAX_WORKERS {
            let d = demand(footprints, components, control_planes + n);
            let (supply, biggest) = supply(&[(cp, control_planes, true), (size, n, false)]);
            if judge(&d, supply, biggest).0 != CheckStatus::Pass {
                continue;
            }
            let monthly = cp_monthly + each.times(u64::from(n));
            let better = match &best {
                None => true,
                Some(b) => monthly < b.monthly_net || (monthly == b.monthly_net && n < b.worker_count),
            };
            if better {
                best = Some(Proposal {
                    worker_size: size.id.to_string(),
                    worker_count: n,
                    monthly_net: monthly,
                });
            }
            // More of this size only costs more.
            break;
        }
    }
    best
}

/// `3.2 vCPU`, `6.5 GiB`: one decimal, without float formatting.
pub fn cpu_label(millis: u64) -> String {
    let tenths = (millis + 50) / 100;
    format!("{}.{} vCPU", tenths / 10, tenths % 10)
}

pub fn memory_label(bytes: u64) -> String {
    let tenths = (bytes * 10 + GIB / 2) / GIB;
    format!("{}.{} GiB", tenths / 10, tenths % 10)
}

/// Percent of `of` that `used` takes (the larger of CPU and memory), for the bar.
pub fn percent(used: Resources, of: Resources) -> u64 {
    let p = |u: u64, o: u64| match (u * 100).checked_div(o) {
        Some(p) => p,
        None if u == 0 => 0,
        None => 999,
    };
    p(used.cpu_millis, of.cpu_millis).max(p(used.memory_bytes, of.memory_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::sample_request;

    fn fp(id: &str, fixed: Resources, per_node: Resources) -> ComponentFootprint {
        ComponentFootprint {
            id: id.into(),
            fixed,
            per_node,
            largest: fixed.max(per_node),
            job_peak: Resources::ZERO,
            volumes: vec![],
        }
    }

    #[test]
    fn allocatable_is_capacity_minus_reserves() {
        let cpx32 = Provider::Hetzner.size("cpx32").expect("cpx32");
        // 4 vCPU, 8 GiB: a worker keeps 3800m and 8192-640 MiB; a control plane 3500m and 8192-1920 MiB.
        assert_eq!(
            allocatable(cpx32, false),
            Resources::new(3800, (8192 - 640) * MIB)
        );
        assert_eq!(
            allocatable(cpx32, true),
            Resources::new(3500, (8192 - 1920) * MIB)
        );
    }

    #[test]
    fn the_sum_of_a_fixed_selection_is_hand_computable() {
        let fps = vec![
            fp("a", Resources::new(500, 512 * MIB), Resources::ZERO),
            fp(
                "b",
                Resources::new(250, 256 * MIB),
                Resources::new(100, 128 * MIB),
            ),
            fp("not-selected", Resources::new(9000, 9 * GIB), Resources::ZERO),
        ];
        let d = demand(&fps, &["a".into(), "b".into()], 3);
        // 600 + 500 + 250 + 3 × 100 = 1650 m; 396 + 512 + 256 + 3 × 128 = 1548 Mi.
        assert_eq!(d.steady, Resources::new(1650, 1548 * MIB));
    }

    #[test]
    fn a_crowded_control_plane_fails_and_the_proposal_passes() {
        let mut req = sample_request();
        req.components = vec!["big".into(), "agent".into()];
        // 6 vCPU / 12 GiB fixed and 100m / 256 Mi per node: far beyond one cpx32.
        let fps = Footprints {
            standard: vec![
                fp("big", Resources::new(6000, 12 * GIB), Resources::ZERO),
                fp("agent", Resources::ZERO, Resources::new(100, 256 * MIB)),
            ],
            ha: vec![],
        };
        let fits = fit(&req, &fps, None, &[]);
        assert_eq!(fits[0].status, CheckStatus::Fail);
        let p = fits[0].proposal.clone().expect("a proposal");
        req.regions[0].worker_size = p.worker_size.clone();
        req.regions[0].worker_count = p.worker_count;
        let again = fit(&req, &fps, None, &[]);
        assert_eq!(again[0].status, CheckStatus::Pass, "{p:?} → {:?}", again[0]);
        // Nothing cheaper passes: one fewer of the proposed size does not.
        if p.worker_count > 1 {
            req.regions[0].worker_count = p.worker_count - 1;
            assert_ne!(fit(&req, &fps, None, &[])[0].status, CheckStatus::Pass);
        }
        // An unavailable size is never proposed.
        let unavailable = vec![(p.worker_size.clone(), "fsn1".to_string())];
        req.regions[0].worker_count = 0;
        req.regions[0].worker_size.clear();
        let other = fit(&req, &fps, None, &unavailable)[0]
            .proposal
            .clone()
            .expect("another proposal");
        assert_ne!(other.worker_size, p.worker_size);
    }

    #[test]
    fn a_pod_larger_than_any_node_fails_even_with_room_in_sum() {
        let mut req = sample_request();
        req.components = vec!["huge".into()];
        req.regions[0].worker_count = 3;
        req.regions[0].worker_size = "cpx32".into();
        let fps = Footprints {
            standard: vec![fp("huge", Resources::new(5000, GIB), Resources::ZERO)],
            ha: vec![],
        };
        let f = &fit(&req, &fps, None, &[])[0];
        assert!(!f.largest_fits);
        assert_eq!(f.status, CheckStatus::Fail);
    }

    #[test]
    fn labels_round_to_one_decimal() {
        assert_eq!(cpu_label(3250), "3.3 vCPU");
        assert_eq!(memory_label(6 * GIB + GIB / 2), "6.5 GiB");
        assert_eq!(percent(Resources::new(50, 10), Resources::new(100, 100)), 50);
    }
}
