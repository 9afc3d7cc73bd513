//! The one validation of a provisioning request, run in the browser as the user types and on the server on
//! every draft save and on submit. Every rule lives here; each failure names its field (the name the
//! wizard's inputs carry, e.g. `regions[1].workerCount`) and says what to do.
//!
//! Entry points:
//! - [`validate_request`]: the whole request (what the engine calls before it creates a deployment);
//! - [`validate_create`]: the request plus its secrets (the create call);
//! - [`validate_step`]: the fields of one wizard step;
//! - [`validate_step_with_catalog`]: the same plus the component selection against the catalog
//!   (`Catalog::validate_selection`: unknown ids, mandatory components, dependencies);
//! - the field helpers (`org_name`, `subdomain`, `ssh_public_key`, …) the browser calls per keystroke.
//!
//! No regex crate (the browser bundle stays small): the checks are written out by hand.

use crate::cloud::{Provider, Topology};
use crate::error::FieldError;

use super::request::{
    Compliance, CreateDeployment, DeploymentRequest, DeploymentSecrets, DomainMode, MAX_WORKERS,
    RESERVED_SUBDOMAINS, RegionSpec,
};

/// Facts only the server knows, handed to the browser so both run the same rules.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ValidationContext {
    /// Pool domains this console can allocate subdomains under.
    #[serde(rename = "poolDomains")]
    pub pool_domains: Vec<String>,
}

/// The wizard's seven steps, in order. Each request field belongs to exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Org,
    Topology,
    Provider,
    Credentials,
    Components,
    Domain,
    Review,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Org,
        Step::Topology,
        Step::Provider,
        Step::Credentials,
        Step::Components,
        Step::Domain,
        Step::Review,
    ];

    /// 1-based position.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_number(n: u8) -> Option<Step> {
        Step::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// The URL segment: `/sovereign/wizard/<slug>`.
    pub fn slug(self) -> &'static str {
        match self {
            Step::Org => "organisation",
            Step::Topology => "topology",
            Step::Provider => "provider",
            Step::Credentials => "credentials",
            Step::Components => "components",
            Step::Domain => "domain",
            Step::Review => "review",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::Org => "Organisation",
            Step::Topology => "Topology",
            Step::Provider => "Provider",
            Step::Credentials => "Credentials",
            Step::Components => "Components",
            Step::Domain => "Domain",
            Step::Review => "Review",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Step::Org => "Industry, size, HQ, compliance",
            Step::Topology => "Regions, HA, air-gap",
            Step::Provider => "Cloud + region + sizing per slot",
            Step::Credentials => "API tokens + SSH key",
            Step::Components => "Platform building blocks",
            Step::Domain => "Pool or BYO + admin email",
            Step::Review => "Confirm and provision",
        }
    }

    /// The heading of the step's page.
    pub fn title(self) -> &'static str {
        match self {
            Step::Org => "Tell us about your organisation",
            Step::Topology => "Choose your infrastructure topology",
            Step::Provider => "Cloud provider per region",
            Step::Credentials => "Cloud credentials",
            Step::Components => "Platform components",
            Step::Domain => "Where will your Sovereign live in DNS?",
            Step::Review => "Ready to launch",
        }
    }

    /// `round(N / 7 · 100)`.
    pub fn percent(self) -> u8 {
        ((u32::from(self.number()) * 100 + 3) / 7) as u8
    }

    pub fn next(self) -> Option<Step> {
        Step::from_number(self.number() + 1)
    }

    pub fn prev(self) -> Option<Step> {
        Step::from_number(self.number().checked_sub(1)?)
    }

    /// The step whose page shows `field`, so a rejected submit lands where the message belongs.
    pub fn of_field(field: &str) -> Step {
        let root = field.split(['.', '[']).next().unwrap_or_default();
        match root {
            "org" | "orgId" => Step::Org,
            "topology" | "haEnabled" | "airgap" => Step::Topology,
            "regions" => Step::Provider,
            "hetznerProjectId" | "sshPublicKey" | "secrets" => Step::Credentials,
            "components" => Step::Components,
            "domain" | "adminEmail" => Step::Domain,
            _ => Step::Review,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Field rules. Each returns the message for a bad value, or `None`.

pub const ORG_NAME_MAX: usize = 100;
pub const HQ_MAX: usize = 100;
pub const PROJECT_ID_MAX: usize = 64;
pub const HETZNER_TOKEN_MIN: usize = 64;
pub const HETZNER_TOKEN_MAX: usize = 256;
pub const EMAIL_MAX: usize = 254;
pub const SUBDOMAIN_MAX: usize = 63;
pub const DOMAIN_MAX: usize = 253;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The organisation a wizard draft belongs to: one of `allowed` (the caller's organisations where they may
/// create deployments). Checked on step 1 and at launch; the server decides `allowed` from the session.
pub fn owner_org(value: &str, allowed: &[String]) -> Option<String> {
    if value.is_empty() {
        Some("Choose the organisation this Sovereign belongs to.".into())
    } else if !allowed.iter().any(|a| a == value) {
        Some(
            "You cannot create Sovereigns in this organisation; choose one where you are an editor or above."
                .into(),
        )
    } else {
        None
    }
}

pub fn org_name(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        Some("Enter your organisation's name.".into())
    } else if v.chars().count() > ORG_NAME_MAX {
        Some(format!("Shorten the name to {ORG_NAME_MAX} characters or fewer."))
    } else if has_control(v) {
        Some("Remove the line breaks and control characters from the name.".into())
    } else {
        None
    }
}

pub fn headquarters(value: &str) -> Option<String> {
    let v = value.trim();
    if v.chars().count() > HQ_MAX {
        Some(format!(
            "Shorten the headquarters to {HQ_MAX} characters or fewer."
        ))
    } else if has_control(v) {
        Some("Remove the line breaks and control characters from the headquarters.".into())
    } else {
        None
    }
}

pub fn worker_count(count: u32) -> Option<String> {
    (count > MAX_WORKERS).then(|| format!("Choose between 0 and {MAX_WORKERS} worker nodes per region."))
}

/// A Hetzner project id: what the console shows in the project URL (digits), or a name-like id.
pub fn hetzner_project_id(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        Some("Enter your Hetzner project ID (the number in the console URL, e.g. 1234567).".into())
    } else if v.len() > PROJECT_ID_MAX {
        Some(format!(
            "A Hetzner project ID is at most {PROJECT_ID_MAX} characters; check what you pasted."
        ))
    } else if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Some("Use only letters, digits, hyphens and underscores in the project ID.".into())
    } else {
        None
    }
}

/// The local check of a Hetzner API token, before the server asks Hetzner about it.
pub fn hetzner_token(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        Some("Paste a Hetzner Cloud API token with Read & Write permission.".into())
    } else if v.chars().count() < HETZNER_TOKEN_MIN {
        Some(format!(
            "Token too short — Hetzner API tokens are at least {HETZNER_TOKEN_MIN} characters; copy the whole token."
        ))
    } else if v.len() > HETZNER_TOKEN_MAX || !v.chars().all(|c| c.is_ascii_graphic()) {
        Some(
            "That is not a Hetzner API token: it has spaces or unusual characters. Paste only the token."
                .into(),
        )
    } else {
        None
    }
}

/// SSH key types the OpenTofu module accepts (`infra/hetzner`): the same list on both sides.
pub const SSH_KEY_TYPES: [&str; 3] = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"];

const SSH_KEY_HELP: &str = "Paste a single line beginning with \"ssh-ed25519\", \"ecdsa-sha2-nistp256\" or \"ssh-rsa\" followed by the base64 key (the contents of your .pub file).";

/// An OpenSSH public key line: `<type> <base64 blob> [comment]`, where the blob decodes and names the same
/// type, and the type is one the OpenTofu module accepts.
pub fn ssh_public_key(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some("Generate a key pair or paste your OpenSSH public key.".into());
    }
    if v.contains('\n') || v.contains('\r') {
        return Some(format!("The key must be one line. {SSH_KEY_HELP}"));
    }
    if v.contains("PRIVATE KEY") {
        return Some(
            "That is a private key — never paste it anywhere. Paste the public key (.pub) instead.".into(),
        );
    }
    let mut parts = v.split_whitespace();
    let kind = parts.next().unwrap_or_default();
    let blob = parts.next().unwrap_or_default();
    if !SSH_KEY_TYPES.contains(&kind) {
        return Some(
            if kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-") {
                format!("Key type “{kind}” is not supported by the provisioner. {SSH_KEY_HELP}")
            } else {
                format!("Public key did not parse. {SSH_KEY_HELP}")
            },
        );
    }
    let Some(bytes) = base64_decode(blob) else {
        return Some(format!("The key's base64 part is damaged. {SSH_KEY_HELP}"));
    };
    // The blob starts with a length-prefixed copy of the key type; it must match the text before it.
    let inner = bytes
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
        .and_then(|n| bytes.get(4..4 + n));
    if inner != Some(kind.as_bytes()) {
        return Some(format!(
            "The key's base64 part does not hold a “{kind}” key. {SSH_KEY_HELP}"
        ));
    }
    let min_len = match kind {
        "ssh-ed25519" => 51,          // 4+11 type, 4+32 key
        "ecdsa-sha2-nistp256" => 104, // type, curve name, 65-byte point
        _ => 200,                     // RSA: 1024 bits at the very least
    };
    if bytes.len() < min_len {
        return Some(format!(
            "The key is truncated — copy the whole line. {SSH_KEY_HELP}"
        ));
    }
    None
}

/// Standard base64 with canonical padding (what OpenSSH writes). `None` if malformed or empty.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if s.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// The key's SHA-256 fingerprint as `ssh-keygen -l` prints it: `SHA256:` and the unpadded base64 of the
/// digest of the decoded key blob. `None` for a line [`ssh_public_key`] refuses. The console shows it for a
/// pasted key so the operator can compare it with `ssh-keygen -lf key.pub` before launching.
pub fn ssh_fingerprint(line: &str) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    if ssh_public_key(line).is_some() {
        return None;
    }
    let blob = base64_decode(line.split_whitespace().nth(1)?)?;
    let digest = sha2::Sha256::digest(&blob);
    Some(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}

/// One DNS label as a Sovereign subdomain: `^[a-z]([a-z0-9-]*[a-z0-9])?$`, at most 63 characters.
pub fn subdomain_format(value: &str) -> Option<String> {
    const RULE: &str =
        "Use a-z, 0-9 and hyphens, start with a letter, end with a letter or digit, at most 63 characters.";
    let v = value;
    if v.is_empty() {
        return Some("Choose a subdomain for your Sovereign.".into());
    }
    if v.len() > SUBDOMAIN_MAX {
        return Some(format!("The subdomain is too long. {RULE}"));
    }
    let bytes = v.as_bytes();
    let ok_chars = bytes
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    let ok_ends = bytes[0].is_ascii_lowercase() && bytes[bytes.len() - 1] != b'-';
    if !ok_chars {
        let upper = bytes.iter().any(|c| c.is_ascii_uppercase());
        return Some(if upper {
            format!("Use lowercase letters. {RULE}")
        } else {
            format!("The subdomain has characters that cannot appear in a DNS name. {RULE}")
        });
    }
    if !ok_ends {
        return Some(format!(
            "The subdomain must start with a letter and not end with a hyphen. {RULE}"
        ));
    }
    None
}

pub fn is_reserved_subdomain(value: &str) -> bool {
    RESERVED_SUBDOMAINS.contains(&value)
}

/// The format rule plus the reserved names (§F.1): everything the browser can decide alone.
pub fn subdomain(value: &str) -> Option<String> {
    subdomain_format(value).or_else(|| {
        is_reserved_subdomain(value).then(|| {
            format!("“{value}” is reserved for the Sovereign's own services; choose another subdomain.")
        })
    })
}

/// A domain the customer owns: at most 253 characters, at least two labels, each a valid label.
pub fn domain_name(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some("Enter the domain your Sovereign will live under, e.g. sovereign.example.com.".into());
    }
    if v.len() > DOMAIN_MAX {
        return Some(format!("A domain name is at most {DOMAIN_MAX} characters."));
    }
    let labels: Vec<&str> = v.trim_end_matches('.').split('.').collect();
    if labels.len() < 2 {
        return Some("Enter a full domain with at least two parts, e.g. example.com.".into());
    }
    if labels.iter().any(|l| subdomain_format(l).is_some()) {
        return Some(
            "Each part of the domain must use a-z, 0-9 and hyphens, start with a letter and not end with a hyphen (e.g. sovereign.example.com)."
                .into(),
        );
    }
    None
}

/// An e-mail address: `local@domain.tld`, no spaces, one `@`.
pub fn email(value: &str) -> Option<String> {
    let v = value.trim();
    let bad = || Some("Enter an e-mail address like platform@example.com.".to_string());
    if v.is_empty() {
        return Some("Enter the admin e-mail address (used for TLS certificates and notices).".into());
    }
    if v.len() > EMAIL_MAX {
        return Some(format!("An e-mail address is at most {EMAIL_MAX} characters."));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let Some((local, domain)) = v.split_once('@') else {
        return bad();
    };
    if local.is_empty() || domain.contains('@') {
        return bad();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return bad();
    }
    None
}

/// A catalog component id: lowercase kebab-case.
pub fn component_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !value.starts_with('-')
}

// ---------------------------------------------------------------------------------------------------------
// Step rules.

fn push(errors: &mut Vec<FieldError>, field: impl Into<String>, message: Option<String>) {
    if let Some(m) = message {
        errors.push(FieldError::new(field, m));
    }
}

fn validate_org(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
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

fn validate_topology(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    // Topology, HA and air-gap are closed choices; what can be wrong is the region list not matching them,
    // which is reported on the provider step where the regions are edited.
    let _ = (req, e);
}

/// The region slots a topology (plus the air-gap add-on) has.
pub fn expected_regions(topology: Topology, airgap: bool) -> usize {
    topology.region_count() + usize::from(airgap)
}

fn validate_region(i: usize, r: &RegionSpec, airgap_slot: bool, e: &mut Vec<FieldError>) {
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

fn validate_provider(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
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

fn validate_credentials(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
    push(e, "hetznerProjectId", hetzner_project_id(&req.hetzner_project_id));
    push(e, "sshPublicKey", ssh_public_key(&req.ssh_public_key));
}

fn validate_components(req: &DeploymentRequest, e: &mut Vec<FieldError>) {
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

fn validate_domain(req: &DeploymentRequest, ctx: &ValidationContext, e: &mut Vec<FieldError>) {
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

/// The rules of step 1 alone: what `validate_step(Step::Org, …)` runs, for callers that must not carry the
/// other steps' rules (the wizard's first page in the browser).
pub fn org_step(req: &DeploymentRequest) -> Vec<FieldError> {
    let mut e = Vec::new();
    validate_org(req, &mut e);
    e
}

/// The rules of one step. `Review` checks everything (it is the whole request).
pub fn validate_step(step: Step, req: &DeploymentRequest, ctx: &ValidationContext) -> Vec<FieldError> {
    let mut e = Vec::new();
    match step {
        Step::Org => validate_org(req, &mut e),
        Step::Topology => validate_topology(req, &mut e),
        Step::Provider => validate_provider(req, &mut e),
        Step::Credentials => validate_credentials(req, &mut e),
        Step::Components => validate_components(req, &mut e),
        Step::Domain => validate_domain(req, ctx, &mut e),
        Step::Review => return validate_request(req, ctx),
    }
    e
}

/// [`validate_step`], plus — on the Components and Review steps — the selection checked against the
/// catalog by the marketplace's own dependency engine. What the wizard runs in the browser and on the server.
pub fn validate_step_with_catalog(
    step: Step,
    req: &DeploymentRequest,
    ctx: &ValidationContext,
    catalog: &crate::catalog::Catalog,
) -> Vec<FieldError> {
    let mut e = validate_step(step, req, ctx);
    if matches!(step, Step::Components | Step::Review) && e.iter().all(|f| f.field != "components") {
        e.extend(catalog.validate_selection(&req.components));
    }
    e
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
    fn steps_are_ordered_and_named() {
        assert_eq!(Step::Org.number(), 1);
        assert_eq!(Step::Review.number(), 7);
        assert_eq!(Step::from_slug("credentials"), Some(Step::Credentials));
        assert_eq!(Step::from_slug("nope"), None);
        assert_eq!(Step::from_number(0), None);
        assert_eq!(Step::from_number(8), None);
        assert_eq!(Step::Org.next(), Some(Step::Topology));
        assert_eq!(Step::Org.prev(), None);
        assert_eq!(Step::Review.next(), None);
        let percents: Vec<u8> = Step::ALL.iter().map(|s| s.percent()).collect();
        assert_eq!(percents, vec![14, 29, 43, 57, 71, 86, 100]);
        assert_eq!(Step::of_field("regions[1].workerCount"), Step::Provider);
        assert_eq!(Step::of_field("secrets.hetznerToken"), Step::Credentials);
        assert_eq!(Step::of_field("domain.subdomain"), Step::Domain);
        assert_eq!(Step::of_field("adminEmail"), Step::Domain);
        assert_eq!(Step::of_field("org.name"), Step::Org);
        assert_eq!(Step::of_field("orgId"), Step::Org);
        assert_eq!(Step::of_field("components[3]"), Step::Components);
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
