//! A wizard step posted as a plain form (no JavaScript): the step's fields, by the `name`s its controls carry,
//! applied to the draft with the same effects as the controls' handlers in the browser (a new topology or
//! air-gap choice resets the region cards, a region field edited marks them customised). The server
//! (`server::wizard::form`) then runs the shared validation and saves the draft, or shows the errors.
//! Secrets (`secrets.*`) are never applied here: they are read by the caller and never stored.

use super::types::{SshKeyOrigin, WizardDraft};
use crate::cloud::{Provider, Topology};
use crate::deployments::{Compliance, DomainMode, Industry, OrgSize};
use crate::wizard::step::Step;

/// The posted fields, in order (a name may repeat: the compliance checkboxes).
pub struct Posted<'a>(pub &'a [(String, String)]);

impl Posted<'_> {
    /// The first value of `name`, if posted.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A checkbox: posted (with any value) when checked, absent otherwise.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Applies the fields of `step` that were posted. Fields not posted keep the draft's value, except checkboxes,
/// which a browser leaves out when they are not checked.
pub fn apply(step: Step, draft: &mut WizardDraft, posted: &Posted) {
    let set = |to: &mut String, name: &str| {
        if let Some(v) = posted.get(name) {
            *to = v.to_string();
        }
    };
    match step {
        Step::Org => {
            set(&mut draft.org_id, "orgId");
            let org = &mut draft.request.org;
            set(&mut org.name, "org.name");
            set(&mut org.headquarters, "org.headquarters");
            if let Some(i) = posted
                .get("org.industry")
                .and_then(|v| Industry::ALL.into_iter().find(|i| i.label() == v))
            {
                org.industry = i;
            }
            if let Some(s) = posted
                .get("org.size")
                .and_then(|v| OrgSize::ALL.into_iter().find(|s| s.label() == v))
            {
                org.size = s;
            }
            let chosen: Vec<Compliance> = Compliance::ALL
                .into_iter()
                .filter(|c| posted.all("org.compliance").any(|v| v == c.label()))
                .collect();
            org.compliance = Compliance::canonical(&chosen);
            draft.refresh_regions();
        }
        Step::Topology => {
            let before = (draft.request.topology, draft.request.airgap);
            if let Some(t) = posted.get("topology").and_then(Topology::parse) {
                draft.request.topology = t;
            }
            draft.request.ha_enabled = posted.checked("haEnabled");
            draft.request.airgap = posted.checked("airgap");
            if before != (draft.request.topology, draft.request.airgap) {
                draft.reset_regions();
            }
        }
        Step::Provider => {
            let before = draft.request.regions.clone();
            for (i, r) in draft.request.regions.iter_mut().enumerate() {
                let f = |name: &str| format!("regions[{i}].{name}");
                if let Some(p) = posted
                    .get(&f("provider"))
                    .and_then(Provider::parse)
                    .filter(|p| p.is_provisionable())
                    && p != r.provider
                {
                    *r = super::types::region_for_provider(p, r.airgap);
                }
                set(&mut r.cloud_region, &f("cloudRegion"));
                set(&mut r.control_plane_size, &f("controlPlaneSize"));
                // A number input posts only numbers (or nothing): anything else keeps the count.
                if let Some(n) = posted.get(&f("workerCount")).and_then(|n| n.trim().parse().ok()) {
                    r.worker_count = n;
                }
                set(&mut r.worker_size, &f("workerSize"));
                if r.worker_count > 0 && r.worker_size.is_empty() {
                    r.worker_size = r.control_plane_size.clone();
                }
            }
            if draft.request.regions != before {
                draft.regions_customised = true;
            }
        }
        Step::Credentials => {
            set(&mut draft.request.hetzner_project_id, "hetznerProjectId");
            if let Some(key) = posted.get("sshPublicKey").map(str::trim)
                && !key.is_empty()
                && key != draft.request.ssh_public_key
            {
                draft.request.ssh_public_key = key.to_string();
                draft.ssh_key = SshKeyOrigin::Pasted;
            }
        }
        Step::Components => {}
        Step::Domain => {
            let dom = &mut draft.request.domain;
            if let Some(m) = posted
                .get("domain.mode")
                .and_then(|v| DomainMode::ALL.into_iter().find(|m| m.id() == v))
                && m != dom.mode
            {
                dom.mode = m;
                match m {
                    DomainMode::Pool => dom.byo_domain.clear(),
                    DomainMode::ByoManual | DomainMode::ByoApi => dom.subdomain.clear(),
                }
                dom.registrar = None;
            }
            set(&mut dom.subdomain, "domain.subdomain");
            set(&mut dom.pool_domain, "domain.poolDomain");
            set(&mut dom.byo_domain, "domain.byoDomain");
            set(&mut draft.request.admin_email, "adminEmail");
        }
        Step::Review => {}
    }
}

/// The query a posted step's errors come back with, `e=<field>:<message>` for each: the page shows them beside
/// their fields (`WizardState::new`).
pub fn errors_query(errors: &[crate::error::FieldError]) -> String {
    let escape = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    errors
        .iter()
        .map(|e| format!("e={}", escape(&format!("{}:{}", e.field, e.message))))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::WizardConfig;

    fn draft() -> WizardDraft {
        WizardDraft::new(&WizardConfig::default())
    }

    fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_org_step_takes_its_fields_and_unchecked_boxes_clear() {
        let mut d = draft();
        d.request.org.compliance = vec![Compliance::ALL[0]];
        let gdpr = Compliance::ALL[1].label();
        let fields = post(&[
            ("org.name", "Globex Bank"),
            ("org.headquarters", "Helsinki, Finland"),
            ("org.industry", Industry::ALL[2].label()),
            ("org.size", OrgSize::ALL[0].label()),
            ("org.compliance", gdpr),
            ("secrets.hetznerToken", "never-applied"),
        ]);
        apply(Step::Org, &mut d, &Posted(&fields));
        assert_eq!(d.request.org.name, "Globex Bank");
        assert_eq!(d.request.org.headquarters, "Helsinki, Finland");
        assert_eq!(d.request.org.industry, Industry::ALL[2]);
        assert_eq!(d.request.org.size, OrgSize::ALL[0]);
        assert_eq!(d.request.org.compliance, vec![Compliance::ALL[1]]);
    }

    #[test]
    fn a_new_topology_resets_the_region_cards_and_switches_follow_their_boxes() {
        let mut d = draft();
        d.request.ha_enabled = true;
        apply(
            Step::Topology,
            &mut d,
            &Posted(&post(&[("topology", "solo"), ("airgap", "on")])),
        );
        assert_eq!(d.request.topology, Topology::Solo);
        assert!(!d.request.ha_enabled, "an unchecked box is not posted");
        assert!(d.request.airgap);
        assert_eq!(d.request.regions.len(), 2, "one region and the air-gap region");
    }

    #[test]
    fn region_fields_mark_the_cards_customised_and_a_count_that_is_no_number_changes_nothing() {
        let mut d = draft();
        apply(
            Step::Provider,
            &mut d,
            &Posted(&post(&[("regions[0].workerCount", "2")])),
        );
        assert_eq!(d.request.regions[0].worker_count, 2);
        assert_eq!(
            d.request.regions[0].worker_size,
            d.request.regions[0].control_plane_size
        );
        assert!(d.regions_customised);
        apply(
            Step::Provider,
            &mut d,
            &Posted(&post(&[("regions[0].workerCount", "many")])),
        );
        assert_eq!(d.request.regions[0].worker_count, 2);
    }
}
