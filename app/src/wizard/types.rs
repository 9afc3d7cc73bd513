//! Wire types of the wizard: the saved draft (no secrets), the console facts the browser needs, and the
//! results of the server-side checks (Hetzner token, subdomain, generated SSH key).

use serde::{Deserialize, Serialize};

use crate::cloud::{HOURS_PER_MONTH, Provider, Topology, hq_hint};
use crate::deployments::validate::{ValidationContext, expected_regions};
use crate::deployments::{
    Compliance, DeploymentRequest, DomainMode, DomainSpec, Industry, OrgProfile, OrgSize, RegionSpec, Secret,
};
use crate::wizard::step::Step;

pub const DEFAULT_ORG_NAME: &str = "Acme Financial";
pub const DEFAULT_HQ: &str = "Frankfurt, Germany";
pub const DEFAULT_EMAIL: &str = "platform@acme.io";

/// Where the draft's SSH public key came from (the private key is never kept).
///
/// In JSON (the stored draft, the REST API) it is internally tagged, `{"source": "generated", "fingerprint": …}`;
/// in the browser's postcard, which cannot read internally tagged enums, it is externally tagged. Serde tells
/// the two apart by `is_human_readable`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SshKeyOrigin {
    #[default]
    None,
    /// Generated on the server this session; the private key was offered once as a download.
    Generated { fingerprint: String },
    /// Pasted by the operator.
    Pasted,
}

/// [`SshKeyOrigin`] as JSON has it.
#[derive(Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
enum SshKeyOriginJson {
    None,
    Generated { fingerprint: String },
    Pasted,
}

/// [`SshKeyOrigin`] as postcard has it.
#[derive(Serialize, Deserialize)]
enum SshKeyOriginCompact {
    None,
    Generated { fingerprint: String },
    Pasted,
}

impl Serialize for SshKeyOrigin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fingerprint = || match self {
            SshKeyOrigin::Generated { fingerprint } => fingerprint.clone(),
            _ => String::new(),
        };
        if s.is_human_readable() {
            match self {
                SshKeyOrigin::None => SshKeyOriginJson::None,
                SshKeyOrigin::Generated { .. } => SshKeyOriginJson::Generated {
                    fingerprint: fingerprint(),
                },
                SshKeyOrigin::Pasted => SshKeyOriginJson::Pasted,
            }
            .serialize(s)
        } else {
            match self {
                SshKeyOrigin::None => SshKeyOriginCompact::None,
                SshKeyOrigin::Generated { .. } => SshKeyOriginCompact::Generated {
                    fingerprint: fingerprint(),
                },
                SshKeyOrigin::Pasted => SshKeyOriginCompact::Pasted,
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for SshKeyOrigin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(if d.is_human_readable() {
            match SshKeyOriginJson::deserialize(d)? {
                SshKeyOriginJson::None => SshKeyOrigin::None,
                SshKeyOriginJson::Generated { fingerprint } => SshKeyOrigin::Generated { fingerprint },
                SshKeyOriginJson::Pasted => SshKeyOrigin::Pasted,
            }
        } else {
            match SshKeyOriginCompact::deserialize(d)? {
                SshKeyOriginCompact::None => SshKeyOrigin::None,
                SshKeyOriginCompact::Generated { fingerprint } => SshKeyOrigin::Generated { fingerprint },
                SshKeyOriginCompact::Pasted => SshKeyOrigin::Pasted,
            }
        })
    }
}

/// A wizard run in progress, saved on the server per user. Holds no secrets: the Hetzner token, registrar
/// token and SSH private key live only in the browser's memory until the create call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WizardDraft {
    /// The organisation (tenant of this console) the Sovereign will belong to. The server sets and checks it:
    /// one of the caller's organisations where they may create deployments.
    #[serde(rename = "orgId", default)]
    pub org_id: String,
    pub request: DeploymentRequest,
    /// How many steps are done: step `completed + 1` is the first one not yet confirmed.
    pub completed: u8,
    #[serde(rename = "sshKey", default)]
    pub ssh_key: SshKeyOrigin,
    /// False until the operator edits a region card: until then the cards follow the HQ hint.
    #[serde(rename = "regionsCustomised", default)]
    pub regions_customised: bool,
}

impl WizardDraft {
    /// A fresh run with the documented defaults.
    pub fn new(config: &WizardConfig) -> WizardDraft {
        let topology = Topology::Zoned;
        let request = DeploymentRequest {
            org: OrgProfile {
                name: DEFAULT_ORG_NAME.into(),
                headquarters: DEFAULT_HQ.into(),
                industry: Industry::FinancialServices,
                size: OrgSize::From2000To10000,
                compliance: Vec::<Compliance>::new(),
            },
            topology,
            ha_enabled: false,
            airgap: false,
            regions: default_regions(topology, false, DEFAULT_HQ),
            hetzner_project_id: String::new(),
            ssh_public_key: String::new(),
            components: config.default_components.clone(),
            domain: DomainSpec {
                mode: DomainMode::Pool,
                pool_domain: config
                    .validation
                    .pool_domains
                    .first()
                    .cloned()
                    .unwrap_or_default(),
                subdomain: String::new(),
                byo_domain: String::new(),
                registrar: None,
            },
            admin_email: DEFAULT_EMAIL.into(),
        };
        WizardDraft {
            org_id: String::new(),
            request,
            completed: 0,
            ssh_key: SshKeyOrigin::None,
            regions_customised: false,
        }
    }

    /// The first step not yet confirmed (where a new visit lands).
    pub fn first_incomplete(&self) -> Step {
        Step::from_number(self.completed.saturating_add(1)).unwrap_or(Step::Review)
    }

    /// Completed steps and the first incomplete one can be opened; later ones cannot.
    pub fn reachable(&self, step: Step) -> bool {
        step <= self.first_incomplete()
    }

    /// Topology or air-gap changed: the region cards start again from the HQ hint.
    pub fn reset_regions(&mut self) {
        self.request.regions = default_regions(
            self.request.topology,
            self.request.airgap,
            &self.request.org.headquarters,
        );
        self.regions_customised = false;
    }

    /// Keeps untouched region cards in line with the current HQ and topology.
    pub fn refresh_regions(&mut self) {
        let expected = expected_regions(self.request.topology, self.request.airgap);
        if !self.regions_customised || self.request.regions.len() != expected {
            self.reset_regions();
        }
    }

    /// Drops everything the client must not be able to set: the completed counter is the server's.
    pub fn normalise(&mut self) {
        self.completed = self.completed.min(Step::ALL.len() as u8 - 1);
        let r = &mut self.request;
        r.org.compliance = Compliance::canonical(&r.org.compliance);
        r.domain.subdomain = r.domain.subdomain.trim().to_ascii_lowercase();
        r.domain.byo_domain = r.domain.byo_domain.trim().to_ascii_lowercase();
        r.hetzner_project_id = r.hetzner_project_id.trim().to_string();
        r.ssh_public_key = r.ssh_public_key.trim().to_string();
        r.admin_email = r.admin_email.trim().to_string();
        for region in &mut r.regions {
            if region.worker_count == 0 {
                region.worker_size.clear();
            }
        }
    }
}

/// The provider the HQ suggests, if Catalyst can provision it, and the note to show about it.
pub struct RegionHint {
    pub provider: Provider,
    pub regions: Vec<&'static str>,
    /// "★ Pre-selected based on HQ: …", or why the suggested provider was not used.
    pub note: Option<String>,
}

pub fn region_hint(hq: &str) -> RegionHint {
    let fallback = || {
        Provider::Hetzner
            .regions()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    match hq_hint(hq) {
        Some(h) if h.provider.is_provisionable() => RegionHint {
            provider: h.provider,
            regions: h.regions.to_vec(),
            note: Some(format!("★ Pre-selected based on HQ: {}", hq.trim())),
        },
        Some(h) => RegionHint {
            provider: Provider::Hetzner,
            regions: fallback(),
            note: Some(format!(
                "Your HQ ({}) suggests {}, which is not yet supported: Hetzner Cloud is pre-selected instead.",
                hq.trim(),
                h.provider.label()
            )),
        },
        None => RegionHint {
            provider: Provider::Hetzner,
            regions: fallback(),
            note: None,
        },
    }
}

/// One card per slot: the hinted provider, regions in the hint's order, the recommended size, no workers.
pub fn default_regions(topology: Topology, airgap: bool, hq: &str) -> Vec<RegionSpec> {
    let hint = region_hint(hq);
    let n = expected_regions(topology, airgap);
    (0..n)
        .map(|i| {
            let p = hint.provider;
            RegionSpec {
                provider: p,
                cloud_region: hint.regions[i % hint.regions.len()].to_string(),
                control_plane_size: p.default_size().id.to_string(),
                worker_size: String::new(),
                worker_count: 0,
                airgap: airgap && i + 1 == n,
            }
        })
        .collect()
}

/// A region card after its provider changed: first region, recommended size, no workers.
pub fn region_for_provider(p: Provider, airgap: bool) -> RegionSpec {
    RegionSpec {
        provider: p,
        cloud_region: p.regions()[0].id.to_string(),
        control_plane_size: p.default_size().id.to_string(),
        worker_size: String::new(),
        worker_count: 0,
        airgap,
    }
}

/// Control-plane nodes per region: three with HA (etcd quorum), else one.
pub fn control_plane_nodes(ha: bool) -> u32 {
    if ha { 3 } else { 1 }
}

/// EUR per hour of one region: control plane(s) plus workers. Unknown sizes count as zero.
pub fn region_cost_hour(r: &RegionSpec, ha: bool) -> f64 {
    let price = |id: &str| r.provider.size(id).map(|s| s.price_hour).unwrap_or(0.0);
    let workers = if r.worker_count > 0 {
        price(&r.worker_size) * f64::from(r.worker_count)
    } else {
        0.0
    };
    price(&r.control_plane_size) * f64::from(control_plane_nodes(ha)) + workers
}

/// EUR per hour of the whole request.
pub fn total_cost_hour(req: &DeploymentRequest) -> f64 {
    req.regions
        .iter()
        .map(|r| region_cost_hour(r, req.ha_enabled))
        .sum()
}

/// `€0.046/hr · €34/mo`
pub fn cost_label(hour: f64) -> String {
    format!("€{hour:.3}/hr · €{:.0}/mo", hour * HOURS_PER_MONTH)
}

/// Console facts the wizard needs in the browser.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WizardConfig {
    pub validation: ValidationContext,
    /// Nameservers a BYO domain is delegated to.
    pub nameservers: Vec<String>,
    /// The catalog's default selection for a new draft.
    #[serde(rename = "defaultComponents", default)]
    pub default_components: Vec<String>,
}

/// An organisation the signed-in user may create a Sovereign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgChoice {
    pub id: String,
    pub name: String,
}

/// What the wizard pages load first: the user's draft, the console facts, and the organisations the draft
/// may belong to (never empty: a caller with none is refused before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WizardBootstrap {
    pub draft: WizardDraft,
    pub config: WizardConfig,
    pub orgs: Vec<OrgChoice>,
}

/// Why a Hetzner token was not accepted (§A.4). The browser adds `Network` and `Parse` for calls that failed
/// before an answer arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenFailure {
    Rejected,
    TooShort,
    Unreachable,
    Http,
    Network,
    Parse,
}

impl TokenFailure {
    pub fn id(self) -> &'static str {
        match self {
            TokenFailure::Rejected => "rejected",
            TokenFailure::TooShort => "too-short",
            TokenFailure::Unreachable => "unreachable",
            TokenFailure::Http => "http",
            TokenFailure::Network => "network",
            TokenFailure::Parse => "parse",
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            TokenFailure::Rejected => "Hetzner rejected this token",
            TokenFailure::TooShort => "Token too short",
            TokenFailure::Unreachable => "Could not reach the Hetzner API",
            TokenFailure::Http => "The Hetzner API answered with an error",
            TokenFailure::Network => "Could not reach the console",
            TokenFailure::Parse => "Unexpected answer",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            TokenFailure::Rejected => {
                "Ensure the token belongs to the right project and has Read & Write permission, or create a new one in the Hetzner console (Security → API tokens)."
            }
            TokenFailure::TooShort => {
                "Hetzner API tokens are at least 64 characters: copy the whole token from the Hetzner console."
            }
            TokenFailure::Unreachable => {
                "The console could not connect to the Hetzner API in time. Check the server's outbound network and retry."
            }
            TokenFailure::Http => {
                "Hetzner may be having trouble. Retry in a minute; if it persists, copy the diagnostic for support."
            }
            TokenFailure::Network => {
                "Your browser could not reach this console. Check your connection and retry."
            }
            TokenFailure::Parse => {
                "The console sent an answer the wizard could not read. Reload the page and retry."
            }
        }
    }
}

/// The answer of a Hetzner token check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCheck {
    pub valid: bool,
    /// Set when `valid` is false.
    pub failure: Option<TokenFailure>,
    /// The HTTP status Hetzner answered, if it answered.
    pub status: Option<u16>,
    /// What the check found, in words (never the token).
    pub message: String,
}

impl TokenCheck {
    pub fn ok() -> TokenCheck {
        TokenCheck {
            valid: true,
            failure: None,
            status: Some(200),
            message: "read/write access confirmed".into(),
        }
    }

    pub fn failed(failure: TokenFailure, status: Option<u16>, message: impl Into<String>) -> TokenCheck {
        TokenCheck {
            valid: false,
            failure: Some(failure),
            status,
            message: message.into(),
        }
    }
}

/// The availability states of a pool subdomain (§A.6, §F.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Availability {
    Available,
    Taken,
    Reserved,
    Invalid,
    UnsupportedPool,
    CheckFailed,
}

impl Availability {
    pub fn pill(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Taken => "taken",
            Availability::Reserved => "reserved",
            Availability::Invalid => "invalid",
            Availability::UnsupportedPool => "unsupported pool",
            Availability::CheckFailed => "check failed",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Availability::Available => "Subdomain is available",
            Availability::Taken => "Subdomain is already taken",
            Availability::Reserved => "Subdomain is reserved",
            Availability::Invalid => "Invalid subdomain format",
            Availability::UnsupportedPool => "Pool domain not supported",
            Availability::CheckFailed => "Availability check unavailable",
        }
    }
}

/// The answer of a subdomain availability check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubdomainCheck {
    pub status: Availability,
    pub fqdn: String,
    /// One sentence for the person.
    pub detail: String,
}

/// A key pair generated on the server. The private key is sent once, in this answer, and kept nowhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedKey {
    #[serde(rename = "publicKey")]
    pub public_key: String,
    #[serde(rename = "privateKey")]
    pub private_key: Secret,
    /// `SHA256:<base64>`
    pub fingerprint: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployments::validate::ValidationContext;
    use crate::wizard::step::validate_step;

    fn config() -> WizardConfig {
        WizardConfig {
            validation: ValidationContext {
                pool_domains: vec!["omani.works".into()],
            },
            nameservers: vec![],
            default_components: vec![],
        }
    }

    #[test]
    fn a_new_draft_passes_the_first_steps_and_starts_at_step_one() {
        let d = WizardDraft::new(&config());
        assert_eq!(d.first_incomplete(), Step::Org);
        assert!(d.reachable(Step::Org));
        assert!(!d.reachable(Step::Topology));
        for step in [Step::Org, Step::Topology, Step::Provider] {
            assert_eq!(
                validate_step(step, &d.request, &config().validation),
                vec![],
                "{step:?}"
            );
        }
        assert_eq!(d.request.regions.len(), 2);
        assert_eq!(d.request.regions[0].cloud_region, "fsn1");
        assert_eq!(d.request.regions[1].cloud_region, "nbg1");
        assert_eq!(d.request.domain.pool_domain, "omani.works");
    }

    #[test]
    fn hints_only_preselect_provisionable_providers() {
        let h = region_hint("Helsinki, Finland");
        assert_eq!(h.provider, Provider::Hetzner);
        assert_eq!(h.regions[0], "hel1");
        let h = region_hint("London, UK");
        assert_eq!(h.provider, Provider::Hetzner);
        assert!(h.note.as_deref().is_some_and(|n| n.contains("not yet supported")));
        assert!(region_hint("Nowhere").note.is_none());
    }

    #[test]
    fn regions_follow_topology_until_customised() {
        let mut d = WizardDraft::new(&config());
        d.request.topology = Topology::Citadel;
        d.request.airgap = true;
        d.refresh_regions();
        assert_eq!(d.request.regions.len(), 5);
        assert!(d.request.regions[4].airgap);
        assert!(!d.request.regions[3].airgap);
        d.request.regions[0].worker_count = 3;
        d.regions_customised = true;
        d.refresh_regions();
        assert_eq!(d.request.regions[0].worker_count, 3, "customised cards are kept");
    }

    #[test]
    fn costs() {
        let mut d = WizardDraft::new(&config());
        // Two cpx32 control planes.
        assert!((total_cost_hour(&d.request) - 0.0464).abs() < 1e-9);
        d.request.ha_enabled = true;
        assert!((total_cost_hour(&d.request) - 0.1392).abs() < 1e-9);
        d.request.regions[0].worker_count = 2;
        d.request.regions[0].worker_size = "cx33".into();
        assert!((total_cost_hour(&d.request) - 0.16).abs() < 1e-9);
        assert_eq!(cost_label(0.0464), "€0.046/hr · €34/mo");
    }

    #[test]
    fn normalise_clamps_and_tidies() {
        let mut d = WizardDraft::new(&config());
        d.completed = 200;
        d.request.domain.subdomain = " Acme ".into();
        d.request.regions[0].worker_size = "cx33".into();
        d.normalise();
        assert_eq!(d.completed, 6);
        assert_eq!(d.request.domain.subdomain, "acme");
        assert_eq!(d.request.regions[0].worker_size, "");
    }
}
