//! The provisioning request: everything the wizard collects, as one typed value. The same type is built in
//! the browser, validated there and again on the server (`validate`), stored with the deployment, and turned
//! into OpenTofu variables and the GitOps tree by the engine.
//!
//! Secrets are not part of [`DeploymentRequest`]: they travel beside it in [`DeploymentSecrets`] only in
//! the create call, are encrypted at rest by the engine, and are never returned.

use serde::{Deserialize, Serialize};

use crate::cloud::{Provider, Topology};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Industry {
    #[serde(rename = "financial-services")]
    FinancialServices,
    #[serde(rename = "banking")]
    Banking,
    #[serde(rename = "insurance")]
    Insurance,
    #[serde(rename = "healthcare")]
    Healthcare,
    #[serde(rename = "telecommunications")]
    Telecommunications,
    #[serde(rename = "energy-utilities")]
    EnergyUtilities,
    #[serde(rename = "retail")]
    Retail,
    #[serde(rename = "manufacturing")]
    Manufacturing,
    #[serde(rename = "government")]
    Government,
    #[serde(rename = "technology")]
    Technology,
    #[serde(rename = "other")]
    Other,
}

impl Industry {
    pub const ALL: [Industry; 11] = [
        Industry::FinancialServices,
        Industry::Banking,
        Industry::Insurance,
        Industry::Healthcare,
        Industry::Telecommunications,
        Industry::EnergyUtilities,
        Industry::Retail,
        Industry::Manufacturing,
        Industry::Government,
        Industry::Technology,
        Industry::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Industry::FinancialServices => "Financial Services",
            Industry::Banking => "Banking",
            Industry::Insurance => "Insurance",
            Industry::Healthcare => "Healthcare",
            Industry::Telecommunications => "Telecommunications",
            Industry::EnergyUtilities => "Energy & Utilities",
            Industry::Retail => "Retail",
            Industry::Manufacturing => "Manufacturing",
            Industry::Government => "Government",
            Industry::Technology => "Technology",
            Industry::Other => "Other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrgSize {
    #[serde(rename = "under-100")]
    Under100,
    #[serde(rename = "100-500")]
    From100To500,
    #[serde(rename = "500-2000")]
    From500To2000,
    #[serde(rename = "2000-10000")]
    From2000To10000,
    #[serde(rename = "10000-plus")]
    Over10000,
}

impl OrgSize {
    pub const ALL: [OrgSize; 5] = [
        OrgSize::Under100,
        OrgSize::From100To500,
        OrgSize::From500To2000,
        OrgSize::From2000To10000,
        OrgSize::Over10000,
    ];

    pub fn label(self) -> &'static str {
        match self {
            OrgSize::Under100 => "Under 100",
            OrgSize::From100To500 => "100–500",
            OrgSize::From500To2000 => "500–2,000",
            OrgSize::From2000To10000 => "2,000–10,000",
            OrgSize::Over10000 => "10,000+",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Compliance {
    #[serde(rename = "pci-dss")]
    PciDss,
    #[serde(rename = "iso-27001")]
    Iso27001,
    #[serde(rename = "soc2")]
    Soc2,
    #[serde(rename = "gdpr")]
    Gdpr,
    #[serde(rename = "hipaa")]
    Hipaa,
    #[serde(rename = "dora")]
    Dora,
    #[serde(rename = "nis2")]
    Nis2,
    #[serde(rename = "fedramp")]
    FedRamp,
}

impl Compliance {
    pub const ALL: [Compliance; 8] = [
        Compliance::PciDss,
        Compliance::Iso27001,
        Compliance::Soc2,
        Compliance::Gdpr,
        Compliance::Hipaa,
        Compliance::Dora,
        Compliance::Nis2,
        Compliance::FedRamp,
    ];

    /// `selected` without duplicates, in the order of [`Compliance::ALL`] (which is also their `Ord` order).
    /// No sort: a sort of this type would cost the wizard's first page a few KB of wasm.
    pub fn canonical(selected: &[Compliance]) -> Vec<Compliance> {
        Compliance::ALL
            .into_iter()
            .filter(|c| selected.contains(c))
            .collect()
    }

    pub fn label(self) -> &'static str {
        match self {
            Compliance::PciDss => "PCI DSS",
            Compliance::Iso27001 => "ISO 27001",
            Compliance::Soc2 => "SOC 2",
            Compliance::Gdpr => "GDPR",
            Compliance::Hipaa => "HIPAA",
            Compliance::Dora => "DORA",
            Compliance::Nis2 => "NIS2",
            Compliance::FedRamp => "FedRAMP",
        }
    }
}

/// Step 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgProfile {
    pub name: String,
    pub headquarters: String,
    pub industry: Industry,
    pub size: OrgSize,
    pub compliance: Vec<Compliance>,
}

/// One region slot of step 3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionSpec {
    pub provider: Provider,
    /// The provider's region id, e.g. `fsn1`.
    #[serde(rename = "cloudRegion")]
    pub cloud_region: String,
    #[serde(rename = "controlPlaneSize")]
    pub control_plane_size: String,
    /// Required when `worker_count > 0`; empty otherwise.
    #[serde(rename = "workerSize", default)]
    pub worker_size: String,
    #[serde(rename = "workerCount")]
    pub worker_count: u32,
    /// True for the extra region the AIR-GAP add-on adds.
    #[serde(default)]
    pub airgap: bool,
}

/// Maximum workers per region.
pub const MAX_WORKERS: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DomainMode {
    /// A subdomain of one of Catalyst's pool domains, on our PowerDNS.
    #[serde(rename = "pool")]
    Pool,
    /// The customer's own domain; they point its NS records at our nameservers by hand.
    #[serde(rename = "byo-manual")]
    ByoManual,
    /// The customer's own domain; Catalyst flips the NS records through their registrar's API.
    #[serde(rename = "byo-api")]
    ByoApi,
}

impl DomainMode {
    pub const ALL: [DomainMode; 3] = [DomainMode::Pool, DomainMode::ByoManual, DomainMode::ByoApi];

    pub fn id(self) -> &'static str {
        match self {
            DomainMode::Pool => "pool",
            DomainMode::ByoManual => "byo-manual",
            DomainMode::ByoApi => "byo-api",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DomainMode::Pool => "Catalyst pool domain",
            DomainMode::ByoManual => "I'll change NS at my registrar manually",
            DomainMode::ByoApi => "Let Catalyst flip NS via my registrar API",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registrar {
    Cloudflare,
    Namecheap,
    Godaddy,
    Ovh,
    Dynadot,
}

impl Registrar {
    pub const ALL: [Registrar; 5] = [
        Registrar::Cloudflare,
        Registrar::Namecheap,
        Registrar::Godaddy,
        Registrar::Ovh,
        Registrar::Dynadot,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Registrar::Cloudflare => "cloudflare",
            Registrar::Namecheap => "namecheap",
            Registrar::Godaddy => "godaddy",
            Registrar::Ovh => "ovh",
            Registrar::Dynadot => "dynadot",
        }
    }

    pub fn token_hint(self) -> &'static str {
        match self {
            Registrar::Cloudflare => "API token with Zone:Edit + DNS:Edit permission for the domain",
            Registrar::Namecheap => "apiUser:apiKey:clientIP — Namecheap requires the calling IP",
            Registrar::Godaddy => "API key:secret (production tier)",
            Registrar::Ovh => "appKey:appSecret:consumerKey",
            Registrar::Dynadot => "API key from Dynadot account → Tools → API",
        }
    }
}

/// Step 6.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSpec {
    pub mode: DomainMode,
    /// Pool mode: the pool domain, e.g. `omani.works`.
    #[serde(rename = "poolDomain", default)]
    pub pool_domain: String,
    /// Pool mode: the label under the pool domain.
    #[serde(default)]
    pub subdomain: String,
    /// BYO modes: the customer's domain.
    #[serde(rename = "byoDomain", default)]
    pub byo_domain: String,
    /// BYO-API mode.
    #[serde(default)]
    pub registrar: Option<Registrar>,
}

impl DomainSpec {
    /// The Sovereign's domain: `<subdomain>.<pool>` or the BYO domain (lowercased, trimmed).
    pub fn fqdn(&self) -> String {
        match self.mode {
            DomainMode::Pool => {
                format!(
                    "{}.{}",
                    self.subdomain.trim().to_ascii_lowercase(),
                    self.pool_domain.trim().to_ascii_lowercase()
                )
            }
            DomainMode::ByoManual | DomainMode::ByoApi => self.byo_domain.trim().to_ascii_lowercase(),
        }
    }
}

/// Subdomains of a pool that are never given to a Sovereign.
pub const RESERVED_SUBDOMAINS: &[&str] = &[
    "api", "admin", "console", "gitea", "harbor", "keycloak", "www", "mail", "smtp", "imap", "vpn",
    "openova", "catalyst", "docs", "status", "app", "system", "openbao", "vault", "flux", "k8s",
];

/// Everything needed to provision a Sovereign, except secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRequest {
    pub org: OrgProfile,
    pub topology: Topology,
    /// Three control-plane nodes per region (etcd quorum) instead of one.
    #[serde(rename = "haEnabled")]
    pub ha_enabled: bool,
    /// The AIR-GAP add-on: one extra isolated region (last entry of `regions`, flagged `airgap`).
    pub airgap: bool,
    /// One entry per region slot of the topology (plus the air-gap region).
    pub regions: Vec<RegionSpec>,
    #[serde(rename = "hetznerProjectId")]
    pub hetzner_project_id: String,
    /// OpenSSH public key for break-glass access.
    #[serde(rename = "sshPublicKey")]
    pub ssh_public_key: String,
    /// Selected catalog component ids (mandatory ones included): what Flux installs.
    pub components: Vec<String>,
    pub domain: DomainSpec,
    /// Let's Encrypt account and completion notices.
    #[serde(rename = "adminEmail")]
    pub admin_email: String,
}

impl DeploymentRequest {
    pub fn fqdn(&self) -> String {
        self.domain.fqdn()
    }
}

/// A secret string: never printed by `Debug`, never part of a stored request or an API response.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself. Call only where it is used (an API call, an encrypted write).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// `•••••••••••• (64 chars)`
    pub fn masked(&self) -> String {
        format!("•••••••••••• ({} chars)", self.0.chars().count())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(***)")
    }
}

/// Secrets that travel with the create call only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeploymentSecrets {
    /// Hetzner Cloud API token (read & write).
    #[serde(rename = "hetznerToken")]
    pub hetzner_token: Secret,
    /// BYO-API mode: the registrar API token.
    #[serde(rename = "registrarToken", default, skip_serializing_if = "Option::is_none")]
    pub registrar_token: Option<Secret>,
}

/// The body of a create call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateDeployment {
    /// The organisation the deployment belongs to; left out, the caller's only organisation where they
    /// may create deployments.
    #[serde(rename = "orgId", default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    pub request: DeploymentRequest,
    pub secrets: DeploymentSecrets,
    /// Ids of the pre-flight's warnings the person acknowledged (`app::preflight::Check::id`): a launch with
    /// a warning not listed here is refused, as one with a failure is.
    #[serde(
        rename = "acknowledgedWarnings",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub acknowledged_warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_compliance_is_sorted_and_deduplicated() {
        use Compliance::*;
        // ALL is in `Ord` order, so the canonical list is what sort + dedup would give.
        assert!(Compliance::ALL.windows(2).all(|w| w[0] < w[1]));
        let picked = [Nis2, PciDss, Gdpr, Nis2, FedRamp, Gdpr];
        let mut sorted = picked.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(Compliance::canonical(&picked), sorted);
        assert_eq!(Compliance::canonical(&[]), Vec::<Compliance>::new());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.masked(), "•••••••••••• (15 chars)");
        let secrets = DeploymentSecrets {
            hetzner_token: s,
            registrar_token: None,
        };
        assert!(!format!("{secrets:?}").contains("hunter2"));
    }

    #[test]
    fn fqdn_per_mode() {
        let mut d = DomainSpec {
            mode: DomainMode::Pool,
            pool_domain: "omani.works".into(),
            subdomain: " Acme ".into(),
            byo_domain: "ignored.example".into(),
            registrar: None,
        };
        assert_eq!(d.fqdn(), "acme.omani.works");
        d.mode = DomainMode::ByoManual;
        d.byo_domain = "Sovereign.Example.COM ".into();
        assert_eq!(d.fqdn(), "sovereign.example.com");
    }

    #[test]
    fn wire_names_are_stable() {
        assert_eq!(
            serde_json::to_string(&DomainMode::ByoManual).expect("json"),
            "\"byo-manual\""
        );
        assert_eq!(
            serde_json::to_string(&Industry::EnergyUtilities).expect("json"),
            "\"energy-utilities\""
        );
        assert_eq!(
            serde_json::to_string(&Compliance::Iso27001).expect("json"),
            "\"iso-27001\""
        );
        assert_eq!(
            serde_json::to_string(&Provider::Hetzner).expect("json"),
            "\"hetzner\""
        );
    }
}
