//! The wizard's seven steps: their order, names, URL slugs and page text, which step shows which request
//! field, and the rules each step runs (the request's rules are `deployments::validate`'s; a step runs its part).

use crate::deployments::request::DeploymentRequest;
use crate::deployments::validate::{
    ValidationContext, validate_components, validate_credentials, validate_domain, validate_org,
    validate_provider, validate_request, validate_topology,
};
use crate::error::FieldError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
