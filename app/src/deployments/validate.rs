//! The one validation of a provisioning request, run in the browser as the user types and on the server on
//! every draft save and on submit. Each failure names its field (the name the wizard's inputs carry, e.g.
//! `regions[1].workerCount`) and says what to do.
//!
//! Entry points:
//! - [`validate_request`]: the whole request (what the engine calls before it creates a deployment);
//! - [`validate_create`]: the request plus its secrets (the create call);
//! - the parts (`validate_org`, `validate_domain`, …) that the wizard's steps run one at a time
//!   (`wizard::step::validate_step`, with the catalog's selection check on Components and Review);
//! - the field rules (`org_name`, `subdomain`, `ssh_public_key`, …) are [`super::fields`]'s.

use crate::cloud::{Provider, Topology};
use crate::error::FieldError;

use super::fields::*;
use super::request::{
    Compliance, CreateDeployment, DeploymentRequest, DeploymentSecrets, DomainMode, RegionSpec,
};

/// Facts only the server knows, handed to the browser so both run the same rules.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationContext {
    /// Pool domains this console can allocate subdomains under.
    #[serde(rename = "poolDomains")]
    pub pool_domains: Vec<String>,
}

// ---------------------------------------------------------------------------------------------------------
// The request's parts (each wizard step runs one).

fn push(errors: &mut Vec<FieldError>, field: impl Into<String>, message: Option<String>) {
    if let Some(m) = message {
        errors.push(FieldError::new(field, m));
    }
}

pub(crate) fn validate_org(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    push(e, "org.name", org_name(&req.org.name));
    push(e, "org.headquarters", headquarters(&req.org.headquarters));
    // Duplicates: the canonical list is shorter. (No sort: see `Compliance::canonical`.)
    if Compliance::canonical(&req.org.compliance).len() != req.org.compliance.len() {
        e.push(FieldError::new(
            "org.compliance",
            "Select each compliance framework once.",
        ));
    }
}

pub(crate) fn validate_topology(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    // Topology, HA and air-gap are closed choices; what can be wrong is the region list not matching them,
    // which is reported on the provider step where the regions are edited.
    let _ = (req, e);
}

/// The region slots a topology (plus the air-gap add-on) has.
pub fn expected_regions(topology: Topology, airgap: bool) -> usize {
    topology.region_count() + usize::from(airgap)
}

pub(crate) fn validate_region(i: usize, r: &RegionSpec, airgap_slot: bool, e: &mut Vec<FieldError>) {
    let f = |name: &str| format!("regions[{i}].{name}");
    if let Some(reason) = r.provider.unsupported_reason() {
        e.push(FieldError::new(
            f("provider"),
            format!(
                "{} is {reason}: Catalyst provisions on Hetzner Cloud today. Choose Hetzner Cloud for this region.",
                r.provider.label()
            ),
        ));
        return;
    }
    if r.provider.region(&r.cloud_region).is_none() {
        e.push(FieldError::new(
            f("cloudRegion"),
            format!("Choose one of {}'s regions.", r.provider.label()),
        ));
    }
    if r.provider.size(&r.control_plane_size).is_none() {
        e.push(FieldError::new(
            f("controlPlaneSize"),
            "Choose a control-plane node size.",
        ));
    }
    push(e, f("workerCount"), worker_count(r.worker_count));
    if r.worker_count > 0 && r.provider.size(&r.worker_size).is_none() {
        e.push(FieldError::new(
            f("workerSize"),
            "Choose a worker node size, or set the worker count to 0.",
        ));
    }
    if r.airgap != airgap_slot {
        e.push(FieldError::new(
            f("airgap"),
            "Only the last region is the air-gap region; go back to Topology and set the add-on again.",
        ));
    }
}

pub(crate) fn validate_provider(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    let expected = expected_regions(req.topology, req.airgap);
    if req.regions.len() != expected {
        e.push(FieldError::new(
            "regions",
            format!(
                "The {} topology{} needs {expected} region(s), not {}; review the provider step.",
                req.topology.name(),
                if req.airgap { " with AIR-GAP" } else { "" },
                req.regions.len()
            ),
        ));
    }
    for (i, r) in req.regions.iter().enumerate() {
        validate_region(i, r, req.airgap && i + 1 == expected, e);
    }
}

pub(crate) fn validate_credentials(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    push(e, "hetznerProjectId", hetzner_project_id(&req.hetzner_project_id));
    push(e, "sshPublicKey", ssh_public_key(&req.ssh_public_key));
}

pub(crate) fn validate_components(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    if let Some(bad) = req.components.iter().find(|c| !component_id(c)) {
        e.push(FieldError::new(
            "components",
            format!("“{bad}” is not a component id; reset the selection to the defaults."),
        ));
    }
    let mut ids: Vec<&String> = req.components.iter().collect();
    ids.sort();
    ids.dedup();
    if ids.len() != req.components.len() {
        e.push(FieldError::new(
            "components",
            "Each component can be selected once.",
        ));
    }
}

pub(crate) fn validate_domain(req: &DeploymentRequest, ctx: &ValidationContext, e: &mut Vec<FieldError>) {
    let d = &req.domain;
    match d.mode {
        DomainMode::Pool => {
            if !ctx.pool_domains.iter().any(|p| p == &d.pool_domain) {
                e.push(FieldError::new(
                    "domain.poolDomain",
                    if ctx.pool_domains.is_empty() {
                        "This console has no pool domains configured; use your own domain instead.".to_string()
                    } else {
                        format!("Choose one of the pool domains: {}.", ctx.pool_domains.join(", "))
                    },
                ));
            }
            push(e, "domain.subdomain", subdomain(&d.subdomain));
        }
        DomainMode::ByoManual => {
            let byo = d.byo_domain.trim().trim_end_matches('.').to_ascii_lowercase();
            match domain_name(&d.byo_domain) {
                Some(m) => e.push(FieldError::new("domain.byoDomain", m)),
                None => {
                    if let Some(pool) = ctx
                        .pool_domains
                        .iter()
                        .find(|p| byo == **p || byo.ends_with(&format!(".{p}")))
                    {
                        e.push(FieldError::new(
                            "domain.byoDomain",
                            format!("{pool} is a Catalyst pool domain; choose the pool option to get a subdomain of it."),
                        ));
                    }
                }
            }
        }
        DomainMode::ByoApi => e.push(FieldError::new(
            "domain.mode",
            "Registrar API mode is not available yet: choose the pool domain or change the NS records yourself.",
        )),
    }
    push(e, "adminEmail", email(&req.admin_email));
}

/// Every problem with the request (empty when it is valid). Component ids are checked against the catalog
/// separately (`catalog` module), because only the catalog knows them.
pub fn validate_request(req: &DeploymentRequest, ctx: &ValidationContext) -> Vec<FieldError> {
    let mut e = Vec::new();
    validate_org(req, &mut e);
    validate_topology(req, &mut e);
    validate_provider(req, &mut e);
    validate_credentials(req, &mut e);
    validate_components(req, &mut e);
    validate_domain(req, ctx, &mut e);
    e
}

/// The secrets that travel with a create call.
pub fn validate_secrets(req: &DeploymentRequest, secrets: &DeploymentSecrets) -> Vec<FieldError> {
    let mut e = Vec::new();
    push(
        &mut e,
        "secrets.hetznerToken",
        hetzner_token(secrets.hetzner_token.expose()),
    );
    if req.domain.mode == DomainMode::ByoApi && secrets.registrar_token.as_ref().is_none_or(|t| t.is_empty())
    {
        e.push(FieldError::new(
            "secrets.registrarToken",
            "Paste your registrar's API token.",
        ));
    }
    e
}

/// The whole create call: request and secrets.
pub fn validate_create(create: &CreateDeployment, ctx: &ValidationContext) -> Vec<FieldError> {
    let mut e = validate_request(&create.request, ctx);
    e.extend(validate_secrets(&create.request, &create.secrets));
    e
}

/// Whether every region uses a provider Catalyst can provision (used to grey out cards).
pub fn provisionable(p: Provider) -> bool {
    p.is_provisionable()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployments::request::*;
    use crate::wizard::step::*;

    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIJqkUdW0kITcizpA/hK0ctsNltkludKjpEl7vyqQir catalyst@acme";
    const NISTP256: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFOdRDJChQ3y1pYWhvYgoR6AcXO954KcPly1Twpx9S+joLGzFc/gDBWhduvCq/eK3HDNTlS69scDViV7hJ+wzF8= u@h";
    const POOL: &str = "omani.works";

    fn ctx() -> ValidationContext {
        ValidationContext {
            pool_domains: vec![POOL.into()],
        }
    }

    fn region(airgap: bool) -> RegionSpec {
        RegionSpec {
            provider: Provider::Hetzner,
            cloud_region: "fsn1".into(),
            control_plane_size: "cpx32".into(),
            worker_size: String::new(),
            worker_count: 0,
            airgap,
        }
    }

    fn valid() -> DeploymentRequest {
        DeploymentRequest {
            org: OrgProfile {
                name: "Acme Financial".into(),
                headquarters: "Frankfurt, Germany".into(),
                industry: Industry::FinancialServices,
                size: OrgSize::From2000To10000,
                compliance: vec![Compliance::Gdpr],
            },
            topology: Topology::Zoned,
            ha_enabled: false,
            airgap: false,
            regions: vec![region(false), region(false)],
            hetzner_project_id: "1234567".into(),
            ssh_public_key: ED25519.into(),
            components: vec!["cilium".into(), "flux".into()],
            domain: DomainSpec {
                mode: DomainMode::Pool,
                pool_domain: POOL.into(),
                subdomain: "acme".into(),
                byo_domain: String::new(),
                registrar: None,
            },
            admin_email: "platform@acme.io".into(),
        }
    }

    fn fields(e: &[FieldError]) -> Vec<&str> {
        e.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn a_complete_request_is_valid() {
        assert_eq!(validate_request(&valid(), &ctx()), vec![]);
        for step in Step::ALL {
            assert_eq!(validate_step(step, &valid(), &ctx()), vec![], "{step:?}");
        }
    }

    #[test]
    fn owner_org_rule() {
        let allowed = vec!["o1".to_string(), "o2".to_string()];
        assert_eq!(owner_org("o2", &allowed), None);
        assert!(owner_org("", &allowed).is_some_and(|m| m.contains("Choose")));
        assert!(owner_org("o3", &allowed).is_some_and(|m| m.contains("editor or above")));
        assert!(owner_org("o1", &[]).is_some());
    }

    #[test]
    fn components_are_checked_against_the_catalog() {
        use crate::catalog::types::{LicenseKind, Sovereignty, Upstream};
        use crate::catalog::{Blueprint, Catalog, CatalogData, Family, Tier, Visibility};
        let bp = |id: &str, name: &str, tier: Tier, deps: &[&str]| Blueprint {
            id: id.into(),
            name: name.into(),
            family: "core".into(),
            tier,
            visibility: Visibility::Listed,
            summary: format!("{name} summary"),
            description: format!("{name} description"),
            upstream: Upstream {
                project: id.into(),
                url: format!("https://example.org/{id}"),
                license: "Apache-2.0".into(),
            },
            chart: None,
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            sovereignty: Sovereignty {
                steward: "Someone".into(),
                jurisdiction: "International".into(),
                license_kind: LicenseKind::Permissive,
            },
            logo: None,
            kit: Default::default(),
        };
        let data = CatalogData {
            families: vec![Family {
                id: "core".into(),
                name: "Core".into(),
                subtitle: "The core".into(),
                tier: Tier::Optional,
                cascade_on_member_selection: false,
                dependencies: vec![],
                color: "#38BDF8".into(),
                summary: "What every Sovereign runs.".into(),
                overview: vec![],
                capabilities: vec![],
            }],
            blueprints: vec![
                bp("cilium", "Cilium", Tier::Mandatory, &[]),
                bp("flux", "Flux", Tier::Optional, &["cilium"]),
                bp("grafana", "Grafana", Tier::Optional, &["flux"]),
            ],
        };
        let catalog = Catalog::new(data).expect("consistent");
        let mut r = valid();
        assert_eq!(
            validate_step_with_catalog(Step::Components, &r, &ctx(), &catalog),
            vec![]
        );
        // A dependency left out, an unknown id, a mandatory one missing: the engine's messages.
        r.components = vec!["grafana".into(), "nope".into()];
        let e = validate_step_with_catalog(Step::Components, &r, &ctx(), &catalog);
        assert_eq!(
            fields(&e),
            vec!["components[1]", "components", "components"],
            "{e:?}"
        );
        assert!(
            e.iter().any(|f| f.message.contains("Grafana needs Flux")),
            "{e:?}"
        );
        // Review runs it too; other steps do not.
        assert_eq!(
            validate_step_with_catalog(Step::Review, &r, &ctx(), &catalog).len(),
            3
        );
        assert_eq!(
            validate_step_with_catalog(Step::Org, &r, &ctx(), &catalog),
            vec![]
        );
    }

    #[test]
    fn org_name_rule() {
        assert_eq!(org_name("Acme"), None);
        assert!(org_name("   ").is_some());
        assert!(org_name(&"x".repeat(101)).is_some());
        assert_eq!(org_name(&"x".repeat(100)), None);
        assert!(org_name("Acme\nInc").is_some());
        let mut r = valid();
        r.org.name = String::new();
        assert_eq!(fields(&validate_step(Step::Org, &r, &ctx())), vec!["org.name"]);
    }

    #[test]
    fn headquarters_rule() {
        assert_eq!(headquarters(""), None, "optional");
        assert_eq!(headquarters("Paris"), None);
        assert!(headquarters(&"p".repeat(101)).is_some());
        assert!(headquarters("a\u{7}b").is_some());
    }

    #[test]
    fn compliance_once_each() {
        let mut r = valid();
        r.org.compliance = vec![Compliance::Gdpr, Compliance::Gdpr];
        assert_eq!(
            fields(&validate_step(Step::Org, &r, &ctx())),
            vec!["org.compliance"]
        );
    }

    #[test]
    fn region_count_follows_topology_and_airgap() {
        let mut r = valid();
        r.topology = Topology::Citadel;
        assert_eq!(
            fields(&validate_step(Step::Provider, &r, &ctx())),
            vec!["regions"]
        );
        r.topology = Topology::Solo;
        r.regions = vec![region(false)];
        assert_eq!(validate_step(Step::Provider, &r, &ctx()), vec![]);
        r.airgap = true;
        assert_eq!(
            fields(&validate_step(Step::Provider, &r, &ctx())),
            vec!["regions"]
        );
        r.regions.push(region(true));
        assert_eq!(validate_step(Step::Provider, &r, &ctx()), vec![]);
        // The air-gap flag sits on the last slot only.
        r.regions[0].airgap = true;
        r.regions[1].airgap = false;
        assert_eq!(
            fields(&validate_step(Step::Provider, &r, &ctx())),
            vec!["regions[0].airgap", "regions[1].airgap"]
        );
        assert_eq!(expected_regions(Topology::Citadel, true), 5);
    }

    #[test]
    fn only_hetzner_is_accepted() {
        let mut r = valid();
        r.regions[1].provider = Provider::Aws;
        r.regions[1].cloud_region = "eu-west-1".into();
        r.regions[1].control_plane_size = "m6i.xlarge".into();
        let e = validate_step(Step::Provider, &r, &ctx());
        assert_eq!(fields(&e), vec!["regions[1].provider"]);
        assert!(e[0].message.contains("not yet supported"), "{}", e[0].message);
    }

    #[test]
    fn region_and_sizes_must_belong_to_the_provider() {
        let mut r = valid();
        r.regions[0].cloud_region = "eu-west-1".into();
        r.regions[0].control_plane_size = "m6i.xlarge".into();
        assert_eq!(
            fields(&validate_step(Step::Provider, &r, &ctx())),
            vec!["regions[0].cloudRegion", "regions[0].controlPlaneSize"]
        );
    }

    #[test]
    fn worker_rules() {
        assert_eq!(worker_count(0), None);
        assert_eq!(worker_count(50), None);
        assert!(worker_count(51).is_some());
        let mut r = valid();
        r.regions[0].worker_count = 3;
        assert_eq!(
            fields(&validate_step(Step::Provider, &r, &ctx())),
            vec!["regions[0].workerSize"]
        );
        r.regions[0].worker_size = "cx33".into();
        assert_eq!(validate_step(Step::Provider, &r, &ctx()), vec![]);
        r.regions[1].worker_count = 51;
        assert_eq!(
            fields(&validate_step(Step::Provider, &r, &ctx())),
            vec!["regions[1].workerCount", "regions[1].workerSize"]
        );
    }

    #[test]
    fn project_id_rule() {
        assert_eq!(hetzner_project_id("1234567"), None);
        assert_eq!(hetzner_project_id(" proj_abc-123 "), None);
        assert!(hetzner_project_id("").is_some());
        assert!(hetzner_project_id("has space").is_some());
        assert!(hetzner_project_id(&"1".repeat(65)).is_some());
        let mut r = valid();
        r.hetzner_project_id = "  ".into();
        assert_eq!(
            fields(&validate_step(Step::Credentials, &r, &ctx())),
            vec!["hetznerProjectId"]
        );
    }

    #[test]
    fn token_rule() {
        assert_eq!(hetzner_token(&"a".repeat(64)), None);
        let short = hetzner_token(&"a".repeat(63)).expect("rejected");
        assert!(short.contains("at least 64 characters"), "{short}");
        assert!(hetzner_token("").is_some());
        assert!(hetzner_token(&format!("{} {}", "a".repeat(40), "b".repeat(40))).is_some());
        assert!(hetzner_token(&"a".repeat(257)).is_some());
    }

    #[test]
    fn ssh_key_rule() {
        assert_eq!(ssh_public_key(ED25519), None);
        assert_eq!(ssh_public_key(NISTP256), None);
        // Without a comment, with surrounding blanks.
        let bare: String = ED25519.split(' ').take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(ssh_public_key(&format!("  {bare}\n")), None);
        assert!(ssh_public_key("").is_some());
        assert!(
            ssh_public_key("hello world")
                .expect("rejected")
                .contains("did not parse")
        );
        // Types the OpenTofu module does not accept.
        let p384 = ssh_public_key("ecdsa-sha2-nistp384 AAAAE2VjZHNh").expect("rejected");
        assert!(p384.contains("not supported"), "{p384}");
        assert!(ssh_public_key("ssh-dss AAAAB3NzaC1kc3MAAACBAP").is_some());
        // Damaged base64, wrong type inside, truncated.
        assert!(ssh_public_key("ssh-ed25519 AAAA$$$").is_some());
        let swapped = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(
            ssh_public_key(&swapped)
                .expect("rejected")
                .contains("does not hold")
        );
        assert!(ssh_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq").is_some());
        assert!(
            ssh_public_key("-----BEGIN OPENSSH PRIVATE KEY-----")
                .expect("rejected")
                .contains("private key")
        );
        assert!(ssh_public_key(&format!("{ED25519}\n{ED25519}")).is_some());
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("aGVsbG8h"), Some(b"hello!".to_vec()));
        assert_eq!(base64_decode("aGVsbA=="), Some(b"hell".to_vec()));
        assert_eq!(base64_decode("aGVsbA="), None);
        assert_eq!(base64_decode("a=Vs"), None);
        assert_eq!(base64_decode(""), None);
        // Bits after the last byte must be zero (canonical), as OpenSSH writes them.
        assert_eq!(base64_decode("aGVsbG9="), None);
    }

    #[test]
    fn ssh_fingerprints_match_ssh_keygen() {
        // `ssh-keygen -lf` of the same lines.
        assert_eq!(
            ssh_fingerprint(ED25519).as_deref(),
            Some("SHA256:kHCzDlZwL3Kuj84qI1SmihDxjG9ptAjY4h5d8IqNoTs")
        );
        assert_eq!(
            ssh_fingerprint(&format!("  {NISTP256}  ")).as_deref(),
            Some("SHA256:wMTJvx94uC/i+iswpKbeWOPx6wcRxxM/MzUD87tnyXg")
        );
        // The comment is not part of the key.
        assert_eq!(
            ssh_fingerprint(ED25519.trim_end_matches(" catalyst@acme")),
            ssh_fingerprint(ED25519)
        );
        for refused in [
            "",
            "hello world",
            "ssh-ed25519 AAAA$$$",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq",
        ] {
            assert_eq!(ssh_fingerprint(refused), None, "{refused}");
        }
    }

    #[test]
    fn subdomain_rules() {
        for ok in ["acme", "a", "acme-bank", "a1", &"a".repeat(63)] {
            assert_eq!(subdomain(ok), None, "{ok}");
        }
        for bad in [
            "",
            "1acme",
            "-acme",
            "acme-",
            "ac_me",
            "Acme",
            "acme.bank",
            "acme bank",
            &"a".repeat(64),
        ] {
            assert!(subdomain_format(bad).is_some(), "{bad}");
        }
        assert!(subdomain_format("Acme").expect("rejected").contains("lowercase"));
        for reserved in RESERVED_SUBDOMAINS {
            assert_eq!(subdomain_format(reserved), None);
            assert!(
                subdomain(reserved).expect("reserved").contains("reserved"),
                "{reserved}"
            );
        }
        let mut r = valid();
        r.domain.subdomain = "console".into();
        assert_eq!(
            fields(&validate_step(Step::Domain, &r, &ctx())),
            vec!["domain.subdomain"]
        );
    }

    #[test]
    fn pool_domain_must_be_configured() {
        let mut r = valid();
        r.domain.pool_domain = "evil.example".into();
        assert_eq!(
            fields(&validate_step(Step::Domain, &r, &ctx())),
            vec!["domain.poolDomain"]
        );
        let none = ValidationContext::default();
        assert!(
            validate_step(Step::Domain, &valid(), &none)[0]
                .message
                .contains("no pool domains")
        );
    }

    #[test]
    fn byo_domain_rules() {
        assert_eq!(domain_name("sovereign.example.com"), None);
        assert_eq!(domain_name("example.com."), None);
        for bad in [
            "",
            "example",
            "-x.com",
            "x..com",
            "1x.com",
            "ex ample.com",
            &format!("{}.com", "a.".repeat(130)),
        ] {
            assert!(domain_name(bad).is_some(), "{bad}");
        }
        let mut r = valid();
        r.domain.mode = DomainMode::ByoManual;
        r.domain.byo_domain = "sovereign.example.com".into();
        assert_eq!(validate_step(Step::Domain, &r, &ctx()), vec![]);
        r.domain.byo_domain = "x.omani.works".into();
        assert_eq!(
            fields(&validate_step(Step::Domain, &r, &ctx())),
            vec!["domain.byoDomain"]
        );
        r.domain.byo_domain = "nope".into();
        assert_eq!(
            fields(&validate_step(Step::Domain, &r, &ctx())),
            vec!["domain.byoDomain"]
        );
    }

    #[test]
    fn registrar_api_mode_is_refused_until_it_exists() {
        let mut r = valid();
        r.domain.mode = DomainMode::ByoApi;
        r.domain.byo_domain = "sovereign.example.com".into();
        assert_eq!(
            fields(&validate_step(Step::Domain, &r, &ctx())),
            vec!["domain.mode"]
        );
    }

    #[test]
    fn email_rule() {
        for ok in ["platform@acme.io", "a.b+c@x.y.z"] {
            assert_eq!(email(ok), None, "{ok}");
        }
        for bad in [
            "",
            "acme.io",
            "@acme.io",
            "a@acme",
            "a@@acme.io",
            "a b@acme.io",
            "a@acme..io",
            "a@.io",
        ] {
            assert!(email(bad).is_some(), "{bad}");
        }
        let mut r = valid();
        r.admin_email = "nope".into();
        assert_eq!(
            fields(&validate_step(Step::Domain, &r, &ctx())),
            vec!["adminEmail"]
        );
    }

    #[test]
    fn component_rules() {
        assert!(component_id("cert-manager"));
        assert!(!component_id("Cert Manager"));
        assert!(!component_id(""));
        let mut r = valid();
        r.components = vec!["flux".into(), "flux".into()];
        assert_eq!(
            fields(&validate_step(Step::Components, &r, &ctx())),
            vec!["components"]
        );
        r.components = vec!["../etc".into()];
        assert_eq!(
            fields(&validate_step(Step::Components, &r, &ctx())),
            vec!["components"]
        );
    }

    #[test]
    fn secrets_are_checked_on_create() {
        let create = CreateDeployment {
            org_id: None,
            request: valid(),
            secrets: DeploymentSecrets {
                hetzner_token: Secret::new("short"),
                registrar_token: None,
            },
            acknowledged_warnings: Vec::new(),
        };
        let e = validate_create(&create, &ctx());
        assert_eq!(fields(&e), vec!["secrets.hetznerToken"]);
        let ok = CreateDeployment {
            org_id: None,
            request: valid(),
            secrets: DeploymentSecrets {
                hetzner_token: Secret::new("x".repeat(64)),
                registrar_token: None,
            },
            acknowledged_warnings: Vec::new(),
        };
        assert_eq!(validate_create(&ok, &ctx()), vec![]);
    }

    #[test]
    fn review_checks_everything() {
        let mut r = valid();
        r.org.name.clear();
        r.admin_email.clear();
        assert_eq!(
            fields(&validate_step(Step::Review, &r, &ctx())),
            vec!["org.name", "adminEmail"]
        );
    }
}
