//! The sample Sovereigns of the platform contract tests (`tests/contracts/samples/*.json`, rendered with
//! `catalyst gitops render --request`) are requests Catalyst accepts: the same JSON the REST API takes,
//! valid by the one validation, with a component selection the catalog can deploy, covering one region and
//! three, HA off and on.

use std::collections::BTreeSet;
use std::path::PathBuf;

use app::deployments::DeploymentRequest;
use app::deployments::validate::{ValidationContext, validate_request};
use server::gitops::catalog::components_for;

use crate::common;

#[test]
fn samples_are_requests_catalyst_accepts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/contracts/samples");
    let catalog = common::repo_catalog();
    let ctx = ValidationContext {
        pool_domains: vec!["omani.works".into()],
    };
    let mut shapes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("tests/contracts/samples") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let name = path.display().to_string();
        let req: DeploymentRequest = serde_json::from_slice(&std::fs::read(&path).expect("read"))
            .unwrap_or_else(|e| panic!("{name}: not a deployment request: {e}"));
        let errors = validate_request(&req, &ctx);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let errors = catalog.engine.validate_selection(&req.components);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        components_for(&catalog.engine, &req.components).unwrap_or_else(|e| panic!("{name}: {e}"));
        shapes.insert((req.regions.len(), req.ha_enabled));
    }
    assert_eq!(
        shapes,
        BTreeSet::from([(1, false), (1, true), (3, false), (3, true)]),
        "one region and three, HA off and on"
    );
}
