//! Pre-flight: everything a launch needs from Hetzner and from Catalyst itself, checked before anything is
//! created — token, server types per location, limits, names already taken, the console's own settings, and
//! whether the chosen components fit the nodes — plus the cost of what the request creates, from Hetzner's
//! prices. The checks run on the server (`server::preflight`); the capacity fit and the estimate are shared
//! code, so the Provider step shows them live with the same sums.

pub mod api;
pub mod capacity;
pub mod cost;
pub mod money;
pub mod plan;
pub mod types;

pub use money::{Money, Price};
pub use types::*;

#[cfg(test)]
pub(crate) fn sample_request() -> crate::deployments::DeploymentRequest {
    use crate::cloud::{Provider, Topology};
    use crate::deployments::*;
    DeploymentRequest {
        org: OrgProfile {
            name: "Acme".into(),
            headquarters: "Frankfurt".into(),
            industry: Industry::Telecommunications,
            size: OrgSize::From500To2000,
            compliance: vec![],
        },
        topology: Topology::Solo,
        ha_enabled: false,
        airgap: false,
        regions: vec![RegionSpec {
            provider: Provider::Hetzner,
            cloud_region: "fsn1".into(),
            control_plane_size: "cpx32".into(),
            worker_size: String::new(),
            worker_count: 0,
            airgap: false,
        }],
        hetzner_project_id: "1234567".into(),
        ssh_public_key: String::new(),
        components: vec![],
        domain: DomainSpec {
            mode: DomainMode::ByoManual,
            pool_domain: String::new(),
            subdomain: String::new(),
            byo_domain: "acme.example.com".into(),
            registrar: None,
        },
        admin_email: "ops@acme.example".into(),
    }
}
