//! From the catalog (`platform/<id>/blueprint.yaml`) to what the bootstrap kit installs: one
//! [`ComponentRelease`] per selected component that Flux deploys (has a `chart`).

use std::collections::BTreeSet;

use app::catalog::{Blueprint, Catalog};

use super::{ChartRef, ComponentRelease, GitopsError, spec};

/// The kit of the earlier system (reference §G.3), by catalog id: the committed template kit installs these
/// (those the catalog has) besides every mandatory component, with their dependencies.
pub const REFERENCE_KIT: &[&str] = &[
    "cilium",
    "cert-manager",
    "flux",
    "crossplane",
    "sealed-secrets",
    "spire",
    "nats-jetstream",
    "openbao",
    "keycloak",
    "gitea",
    "powerdns",
    "external-dns",
    "catalyst-platform",
    "crossplane-claims",
    "external-secrets",
    "cnpg",
    "valkey",
    "seaweedfs",
    "harbor",
    "opentelemetry",
    "alloy",
    "loki",
    "mimir",
    "tempo",
    "grafana",
    "langfuse",
    "kyverno",
    "reloader",
    "vpa",
    "trivy",
    "falco",
    "sigstore",
    "syft-grype",
    "velero",
    "coraza",
];

/// The release of one blueprint; `None` when Flux does not deploy it (no `chart`). Dependencies without a
/// chart are left out of `depends_on` (nothing for Flux to wait for).
pub fn component_release(catalog: &Catalog, b: &Blueprint) -> Option<ComponentRelease> {
    let chart = b.chart.as_ref()?;
    let depends_on = b
        .dependencies
        .iter()
        .filter(|d| catalog.blueprint(d).is_some_and(|dep| dep.chart.is_some()))
        .cloned()
        .collect();
    Some(ComponentRelease {
        id: b.id.clone(),
        chart: ChartRef {
            repository: chart.repository.clone(),
            name: chart.name.clone(),
            version: chart.version.clone(),
        },
        namespace: chart.namespace.clone(),
        depends_on,
        values: spec::merged_values(b, false),
        values_ha: spec::merged_values(b, true),
        // The catalog loader checked kit.yaml; a spec it could not read leaves the component unwired.
        spec: spec::spec_of(b).unwrap_or_default(),
    })
}

/// The releases for a selection (catalog ids, e.g. a deployment's `components`), completed with every
/// dependency, in catalog order. Unknown ids are an error.
pub fn components_for(catalog: &Catalog, selected: &[String]) -> Result<Vec<ComponentRelease>, GitopsError> {
    let unknown: Vec<&str> = selected
        .iter()
        .map(String::as_str)
        .filter(|id| catalog.blueprint(id).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(GitopsError::Invalid(format!(
            "unknown component{}: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        )));
    }
    let wanted = closure(catalog, selected.iter().map(String::as_str));
    Ok(catalog
        .blueprints()
        .iter()
        .filter(|b| wanted.contains(b.id.as_str()))
        .filter_map(|b| component_release(catalog, b))
        .collect())
}

/// What the committed `clusters/_template/bootstrap-kit` installs: every (effectively) mandatory component
/// and the reference kit's components the catalog has, with their dependencies.
pub fn template_components(catalog: &Catalog) -> Vec<ComponentRelease> {
    let seeds: Vec<String> = catalog
        .blueprints()
        .iter()
        .filter(|b| catalog.is_mandatory(&b.id) || REFERENCE_KIT.contains(&b.id.as_str()))
        .map(|b| b.id.clone())
        .collect();
    components_for(catalog, &seeds).unwrap_or_default()
}

fn closure<'a>(catalog: &'a Catalog, ids: impl Iterator<Item = &'a str>) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = ids.collect();
    while let Some(id) = todo.pop() {
        if let Some(b) = catalog.blueprint(id)
            && out.insert(b.id.as_str())
        {
            todo.extend(b.dependencies.iter().map(String::as_str));
        }
    }
    out
}
