//! `clusters/_template/bootstrap-kit` against the catalog (`platform/`): the committed files are exactly what
//! the generator makes from the blueprints, every `dependsOn` names a HelmRelease of the kit, there is no
//! cycle, every mandatory component with a chart has a HelmRelease, and each HelmRelease's `dependsOn`,
//! chart and namespace agree with its blueprint (differences only where listed below, with the reason).
//!
//! After changing a blueprint, regenerate the committed kit with
//! `CATALYST_WRITE_TEMPLATE_KIT=1 cargo test -p server --test bootstrap_kit`.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_norway::Value;
use server::gitops::catalog::{REFERENCE_KIT, components_for, template_components};
use server::gitops::{BOOTSTRAP_PROVIDED, bootstrap_kit};

/// Mandatory components with a chart that have no HelmRelease, and why.
const NOT_IN_KIT: &[(&str, &str)] = &[(
    "flux",
    "installed by cloud-init from Flux's release manifest; Flux reconciles the kit, it is not part of it",
)];

/// `(component, dependency)` pairs where a HelmRelease's dependsOn differs from its blueprint, and why.
/// Currently none: every blueprint dependency with a chart is a dependsOn.
const DEPENDENCY_DIFFERENCES: &[(&str, &str, &str)] = &[];

fn kit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../clusters/_template/bootstrap-kit")
}

fn committed() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(kit_dir()).expect("clusters/_template/bootstrap-kit exists") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        out.insert(name, std::fs::read_to_string(&p).expect("read"));
    }
    out
}

struct Release {
    file: String,
    depends_on: Vec<String>,
    chart: String,
    version: String,
    namespace: String,
    repository: String,
}

/// HelmReleases of the committed kit by component id, read with a YAML parser.
fn releases() -> BTreeMap<String, Release> {
    let mut out = BTreeMap::new();
    for (file, text) in committed() {
        if file == "kustomization.yaml" {
            continue;
        }
        let docs: Vec<Value> = serde_norway::Deserializer::from_str(&text)
            .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{file}: {e}")))
            .collect();
        let kinds: Vec<&str> = docs
            .iter()
            .map(|d| d["kind"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(kinds, ["HelmRepository", "HelmRelease"], "{file}");
        let (repo, hr) = (&docs[0], &docs[1]);
        let name = hr["metadata"]["name"].as_str().expect("name").to_string();
        let id = name
            .strip_prefix("bp-")
            .unwrap_or_else(|| panic!("{file}: {name} is not bp-<id>"))
            .to_string();
        assert!(file.ends_with(&format!("-{id}.yaml")), "{file} holds {name}");
        assert_eq!(repo["metadata"]["name"].as_str(), Some(name.as_str()), "{file}");
        assert_eq!(
            hr["metadata"]["namespace"].as_str(),
            Some("flux-system"),
            "{file}"
        );
        let spec = &hr["spec"]["chart"]["spec"];
        assert_eq!(
            spec["sourceRef"]["kind"].as_str(),
            Some("HelmRepository"),
            "{file}"
        );
        assert_eq!(spec["sourceRef"]["name"].as_str(), Some(name.as_str()), "{file}");
        let depends_on = hr["spec"]["dependsOn"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .map(|d| {
                        let n = d["name"].as_str().expect("dependsOn name");
                        n.strip_prefix("bp-").expect("bp- prefix").to_string()
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            id,
            Release {
                file: file.clone(),
                depends_on,
                chart: spec["chart"].as_str().expect("chart").to_string(),
                version: spec["version"].as_str().expect("version").to_string(),
                namespace: hr["spec"]["targetNamespace"]
                    .as_str()
                    .expect("targetNamespace")
                    .to_string(),
                repository: repo["spec"]["url"].as_str().expect("url").to_string(),
            },
        );
    }
    out
}

#[test]
fn committed_kit_is_what_the_catalog_generates() {
    let catalog = common::repo_catalog();
    let expected = bootstrap_kit(&template_components(&catalog.engine)).expect("the catalog makes a kit");
    if std::env::var_os("CATALYST_WRITE_TEMPLATE_KIT").is_some() {
        std::fs::create_dir_all(kit_dir()).expect("mkdir");
        for name in committed().keys() {
            std::fs::remove_file(kit_dir().join(name)).expect("remove stale file");
        }
        for (name, content) in &expected {
            std::fs::write(kit_dir().join(name), content).expect("write");
        }
    }
    let got = committed();
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "bootstrap-kit differs from the catalog (missing {missing:?}, extra {extra:?}); regenerate it with \
         CATALYST_WRITE_TEMPLATE_KIT=1 cargo test -p server --test bootstrap_kit"
    );
    for (name, content) in &expected {
        assert_eq!(
            &got[name], content,
            "{name} differs from what the catalog generates; regenerate with CATALYST_WRITE_TEMPLATE_KIT=1"
        );
    }
}

#[test]
fn every_dependency_exists_and_there_is_no_cycle() {
    let rel = releases();
    for (id, r) in &rel {
        for d in &r.depends_on {
            assert!(
                rel.contains_key(d),
                "{} ({id}) depends on bp-{d}, which the kit does not have",
                r.file
            );
        }
    }
    // Kahn's algorithm over the parsed graph.
    let mut left: BTreeMap<&str, BTreeSet<&str>> = rel
        .iter()
        .map(|(id, r)| (id.as_str(), r.depends_on.iter().map(String::as_str).collect()))
        .collect();
    while let Some(ready) = left.iter().find(|(_, deps)| deps.is_empty()).map(|(id, _)| *id) {
        left.remove(ready);
        for deps in left.values_mut() {
            deps.remove(ready);
        }
    }
    assert!(left.is_empty(), "dependency cycle among {:?}", left.keys());

    // Files are numbered so that every dependency comes first, and kustomization.yaml lists them all.
    for r in rel.values() {
        for d in &r.depends_on {
            assert!(
                rel[d].file < r.file,
                "{} comes before its dependency {}",
                r.file,
                rel[d].file
            );
        }
    }
    let k: Value = serde_norway::from_str(&committed()["kustomization.yaml"]).expect("kustomization");
    let listed: BTreeSet<String> = k["resources"]
        .as_sequence()
        .expect("resources")
        .iter()
        .map(|v| v.as_str().expect("file").to_string())
        .collect();
    let files: BTreeSet<String> = rel.values().map(|r| r.file.clone()).collect();
    assert_eq!(listed, files);
}

#[test]
fn the_kit_agrees_with_the_catalog() {
    let catalog = common::repo_catalog();
    let engine = &catalog.engine;
    let rel = releases();

    // Every mandatory component Flux can deploy is in the kit, except the listed ones.
    for b in engine.blueprints() {
        if !engine.is_mandatory(&b.id) || b.chart.is_none() {
            continue;
        }
        let excused = NOT_IN_KIT.iter().any(|(id, _)| *id == b.id);
        assert_eq!(
            rel.contains_key(&b.id),
            !excused,
            "mandatory component {} {}",
            b.id,
            if excused {
                "is listed in NOT_IN_KIT but has a HelmRelease"
            } else {
                "has no HelmRelease"
            }
        );
    }
    for (id, _) in NOT_IN_KIT {
        assert!(
            BOOTSTRAP_PROVIDED.iter().any(|(p, _)| p == id),
            "{id} is not bootstrap-provided"
        );
    }
    // The reference kit's components the catalog has are all there.
    for id in REFERENCE_KIT {
        if engine.blueprint(id).is_some_and(|b| b.chart.is_some()) && !NOT_IN_KIT.iter().any(|(n, _)| n == id)
        {
            assert!(rel.contains_key(*id), "reference kit component {id} missing");
        }
    }

    // Chart, version, repository, namespace and dependsOn per blueprint.
    let mut differences = BTreeSet::new();
    for (id, r) in &rel {
        let b = engine
            .blueprint(id)
            .unwrap_or_else(|| panic!("{}: no blueprint {id}", r.file));
        let chart = b
            .chart
            .as_ref()
            .unwrap_or_else(|| panic!("{id} has a HelmRelease but no chart"));
        assert_eq!(r.chart, chart.name, "{id}: chart");
        assert_eq!(r.version, chart.version, "{id}: version");
        assert_eq!(r.namespace, chart.namespace, "{id}: namespace");
        assert_eq!(
            r.repository,
            chart.repository.trim_end_matches('/'),
            "{id}: repository"
        );
        let want: BTreeSet<&str> = b.dependencies.iter().map(String::as_str).collect();
        let have: BTreeSet<&str> = r.depends_on.iter().map(String::as_str).collect();
        for d in want.symmetric_difference(&have) {
            differences.insert((id.clone(), d.to_string()));
        }
    }
    let allowed: BTreeSet<(String, String)> = DEPENDENCY_DIFFERENCES
        .iter()
        .map(|(c, d, _)| (c.to_string(), d.to_string()))
        .collect();
    let unexplained: Vec<_> = differences.difference(&allowed).collect();
    let stale: Vec<_> = allowed.difference(&differences).collect();
    assert!(
        unexplained.is_empty(),
        "dependsOn differs from the catalog without a reason: {unexplained:?}"
    );
    assert!(
        stale.is_empty(),
        "DEPENDENCY_DIFFERENCES lists differences that no longer exist: {stale:?}"
    );
}

#[test]
fn cloud_init_installs_the_catalogs_cilium() {
    // The kit's cilium HelmRelease adopts the release cloud-init installs: same chart version, or Flux
    // would up- or downgrade the CNI of a fresh cluster.
    let catalog = common::repo_catalog();
    let version = &catalog
        .engine
        .blueprint("cilium")
        .expect("cilium")
        .chart
        .as_ref()
        .expect("chart")
        .version;
    let vars = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/hetzner/variables.tf"),
    )
    .expect("variables.tf");
    let body = hcl::parse(&vars).expect("parses");
    let default = body
        .blocks()
        .find(|b| b.identifier() == "variable" && b.labels()[0].as_str() == "cilium_version")
        .and_then(|b| {
            b.body()
                .attributes()
                .find(|a| a.key() == "default")
                .map(|a| a.expr().clone())
        })
        .expect("cilium_version has a default");
    assert_eq!(default, hcl::Expression::String(version.clone()));
}

#[test]
fn a_deployments_selection_becomes_its_components() {
    let catalog = common::repo_catalog();
    let engine = &catalog.engine;
    let selection = engine.selection_ids(&engine.default_selection());
    let components = components_for(engine, &selection).expect("components");
    // Everything selected that has a chart, with its dependencies; OpenTofu has no chart.
    let ids: BTreeSet<&str> = components.iter().map(|c| c.id.as_str()).collect();
    for id in &selection {
        let has_chart = engine.blueprint(id).is_some_and(|b| b.chart.is_some());
        assert_eq!(ids.contains(id.as_str()), has_chart, "{id}");
    }
    let files = bootstrap_kit(&components).expect("the default selection makes a kit");
    assert_eq!(
        files.len(),
        components.len() - usize::from(ids.contains("flux")) + 1
    );
    let e = components_for(engine, &["no-such-component".to_string()]).expect_err("unknown");
    assert!(e.to_string().contains("no-such-component"), "{e}");
}
