//! What `infra/hetzner` creates in the Hetzner project for a request, counted per region: the basis of the
//! cost estimate and of the limit checks. Keep it in step with the module (`server/tests/it/preflight.rs`
//! compares it with what the `tofu` stand-in plans from the module itself).

use crate::deployments::DeploymentRequest;

/// `var.load_balancer_type`'s default in `infra/hetzner` (Catalyst does not set it).
pub const LOAD_BALANCER_TYPE: &str = "lb11";
/// Servers a Hetzner placement group can hold.
pub const PLACEMENT_GROUP_MAX: u32 = 10;
/// Servers a Hetzner network can have attached.
pub const NETWORK_SERVERS_MAX: u32 = 100;
/// Hetzner's smallest volume, GB.
pub const VOLUME_MIN_GB: u32 = 10;

/// One region's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPlan {
    pub region: usize,
    pub location: String,
    pub control_planes: u32,
    pub control_plane_size: String,
    pub workers: u32,
    pub worker_size: String,
    /// The public load balancer (every region but the air-gapped one).
    pub public_lb: bool,
    /// The private load balancer in front of the Kubernetes API (HA only).
    pub api_lb: bool,
}

impl RegionPlan {
    pub fn servers(&self) -> u32 {
        self.control_planes + self.workers
    }

    pub fn load_balancers(&self) -> u32 {
        u32::from(self.public_lb) + u32::from(self.api_lb)
    }

    /// Every server has a public IPv4 (the first control plane's is the region's API address, a primary IP
    /// of its own) and a public IPv6: each is a primary IP.
    pub fn primary_ipv4(&self) -> u32 {
        self.servers()
    }

    pub fn primary_ipv6(&self) -> u32 {
        self.servers()
    }
}

/// Everything the module creates for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub regions: Vec<RegionPlan>,
}

impl Plan {
    pub fn of(req: &DeploymentRequest) -> Plan {
        let cps = if req.ha_enabled { 3 } else { 1 };
        Plan {
            regions: req
                .regions
                .iter()
                .enumerate()
                .map(|(i, r)| RegionPlan {
                    region: i,
                    location: r.cloud_region.clone(),
                    control_planes: cps,
                    control_plane_size: r.control_plane_size.clone(),
                    workers: r.worker_count,
                    worker_size: r.worker_size.clone(),
                    public_lb: !r.airgap,
                    api_lb: req.ha_enabled,
                })
                .collect(),
        }
    }

    pub fn servers(&self) -> u32 {
        self.regions.iter().map(RegionPlan::servers).sum()
    }

    pub fn load_balancers(&self) -> u32 {
        self.regions.iter().map(RegionPlan::load_balancers).sum()
    }

    pub fn primary_ips(&self) -> u32 {
        self.regions
            .iter()
            .map(|r| r.primary_ipv4() + r.primary_ipv6())
            .sum()
    }

    /// One network, one firewall, one placement group per region; one SSH key in all.
    pub fn networks(&self) -> u32 {
        self.regions.len() as u32
    }

    pub fn firewalls(&self) -> u32 {
        self.regions.len() as u32
    }

    pub fn placement_groups(&self) -> u32 {
        self.regions.len() as u32
    }

    pub fn ssh_keys(&self) -> u32 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{Provider, Topology};
    use crate::deployments::RegionSpec;

    fn region(loc: &str, workers: u32, airgap: bool) -> RegionSpec {
        RegionSpec {
            provider: Provider::Hetzner,
            cloud_region: loc.into(),
            control_plane_size: "cpx32".into(),
            worker_size: if workers > 0 {
                "cpx42".into()
            } else {
                String::new()
            },
            worker_count: workers,
            airgap,
        }
    }

    #[test]
    fn counts_what_the_module_creates() {
        let mut req = crate::preflight::sample_request();
        req.topology = Topology::Dual;
        req.airgap = true;
        req.ha_enabled = true;
        req.regions = vec![
            region("fsn1", 2, false),
            region("nbg1", 0, false),
            region("hel1", 1, true),
        ];
        let p = Plan::of(&req);
        // 3 control planes per region + 3 workers.
        assert_eq!(p.servers(), 12);
        // A public LB in each of the two public regions, an API LB in each of the three.
        assert_eq!(p.load_balancers(), 5);
        assert_eq!(p.primary_ips(), 24);
        assert_eq!(p.networks(), 3);
        req.ha_enabled = false;
        let p = Plan::of(&req);
        assert_eq!(p.servers(), 6);
        assert_eq!(p.load_balancers(), 2);
    }
}
