//! The catalog: the repository's blueprints, broken copies in temp dirs (each problem named by file and
//! field), the `catalyst catalog check` command, start-up refusal, and the REST/server-fn endpoints.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use app::catalog::Tier;
use axum::body::Body;
use http::{Request, StatusCode};
use server::db::{Db, DbUrl};

fn repo_platform() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../platform"))
}

/// A copy of the repository's catalog in a fresh temp dir.
fn copy_catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo_platform(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn edit(dir: &Path, rel: &str, from: &str, to: &str) {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{rel} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
}

fn problems(dir: &Path) -> Vec<String> {
    match server::catalog::load(dir) {
        Ok(_) => Vec::new(),
        Err(p) => p.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_repository_catalog_has_the_expected_counts() {
    // The reference catalog's 63 components, plus what the bootstrap kit added (issue 20): the Hetzner CSI
    // driver, the reference kit's Sealed Secrets, SPIRE and NATS JetStream, the CRD charts of KServe and
    // SPIRE, and the slot of the Sovereign's own console. Keycloak is mandatory in effect now that Gitea and
    // Harbor sign in through it.
    let store = common::repo_catalog();
    let c = &store.engine;
    assert_eq!(c.len(), 70);
    assert_eq!(c.families().len(), 9);
    let count = |t: Tier| {
        c.blueprints()
            .iter()
            .filter(|b| c.effective_tier(&b.id) == Some(t))
            .count()
    };
    assert_eq!(
        (
            count(Tier::Mandatory),
            count(Tier::Recommended),
            count(Tier::Optional)
        ),
        (27, 22, 21)
    );
    assert_eq!(c.default_selection().len(), 50);
    for promoted in ["cnpg", "valkey", "keycloak", "kserve-crd"] {
        assert_ne!(c.blueprint(promoted).map(|b| b.tier), Some(Tier::Mandatory));
        assert_eq!(c.effective_tier(promoted), Some(Tier::Mandatory), "{promoted}");
    }
    assert!(c.family("cortex").is_some_and(|f| f.cascade_on_member_selection));
    assert_eq!(
        store.summary(),
        "70 components in 9 families (27 mandatory, 22 recommended, 21 optional; default selection 50)"
    );
}

#[test]
fn selecting_specter_pulls_its_dependencies_and_the_whole_cortex_family() {
    let c = common::repo_catalog().engine.clone();
    let mut s = c.default_selection();
    let change = c.add(&mut s, "specter").expect("known");
    assert_eq!(change.cascaded_families, ["cortex"]);
    for id in [
        "specter",
        "bge",
        "milvus",
        "langfuse",
        "vllm",
        "knative",
        "neo4j",
        "librechat",
        "ferretdb",
    ] {
        assert!(c.is_selected(&s, id), "{id} should be selected");
        assert!(
            change.added.contains(&id.to_string()),
            "{id} should be reported as added"
        );
    }
    // CORTEX has no family dependencies: FABRIC's optional members stay out.
    assert!(!c.is_selected(&s, "flink"));
    // librechat → ferretdb → cnpg (already mandatory).
    let mut s = c.default_selection();
    let change = c.add(&mut s, "ferretdb").expect("known");
    assert_eq!(change.added, ["ferretdb"]);
    // Removing FerretDB takes LibreChat along once it is there.
    c.add(&mut s, "librechat").expect("known");
    assert_eq!(
        c.removal_impact(&s, "ferretdb").expect("removable"),
        ["librechat"]
    );
}

#[test]
fn every_blueprint_has_a_chart_but_opentofu_and_the_console_slot_and_every_logo_exists() {
    let c = common::repo_catalog().engine.clone();
    let logos = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../public/sovereign/component-logos"
    ));
    for b in c.blueprints() {
        // OpenTofu runs from Catalyst; catalyst-platform waits for Catalyst's own chart (its blueprint).
        assert_eq!(
            b.chart.is_none(),
            ["opentofu", "catalyst-platform"].contains(&b.id.as_str()),
            "{}: chart",
            b.id
        );
        if let Some(logo) = &b.logo {
            assert!(logos.join(logo).is_file(), "{}: logo {logo} is missing", b.id);
        }
    }
}

#[test]
fn a_dependency_cycle_is_reported_with_its_path() {
    let dir = copy_catalog();
    edit(
        dir.path(),
        "keda/blueprint.yaml",
        "dependencies: []",
        "dependencies: [reloader]",
    );
    edit(
        dir.path(),
        "reloader/blueprint.yaml",
        "dependencies: []",
        "dependencies: [vpa]",
    );
    edit(
        dir.path(),
        "vpa/blueprint.yaml",
        "dependencies: []",
        "dependencies: [keda]",
    );
    assert_eq!(
        problems(dir.path()),
        ["keda/blueprint.yaml: dependencies: dependency cycle: keda → reloader → vpa → keda"]
    );
}

#[test]
fn an_unknown_dependency_is_named() {
    let dir = copy_catalog();
    edit(
        dir.path(),
        "harbor/blueprint.yaml",
        "  - valkey",
        "  - valkey\n  - redis",
    );
    assert_eq!(
        problems(dir.path()),
        ["harbor/blueprint.yaml: dependencies[3]: unknown dependency “redis”: no blueprint has this id"]
    );
}

#[test]
fn a_duplicate_id_names_both_files() {
    let dir = copy_catalog();
    copy_dir(&dir.path().join("ntfy"), &dir.path().join("ntfy-copy"));
    assert_eq!(
        problems(dir.path()),
        [
            "ntfy-copy/blueprint.yaml: id: “ntfy” differs from its folder name “ntfy-copy”; they must be equal",
            "ntfy-copy/blueprint.yaml: id: duplicate id “ntfy”: ntfy/blueprint.yaml uses it too",
        ]
    );
}

#[test]
fn unknown_family_bad_version_and_licence_mismatch_are_each_reported() {
    let dir = copy_catalog();
    edit(
        dir.path(),
        "ntfy/blueprint.yaml",
        "family: relay",
        "family: messaging",
    );
    edit(
        dir.path(),
        "cilium/blueprint.yaml",
        "version: \"1.16.5\"",
        "version: \"1.16\"",
    );
    edit(
        dir.path(),
        "grafana/blueprint.yaml",
        "licenseKind: network-copyleft",
        "licenseKind: permissive",
    );
    edit(
        dir.path(),
        "envoy/blueprint.yaml",
        "namespace: envoy-gateway-system",
        "namespace: Envoy",
    );
    assert_eq!(
        problems(dir.path()),
        [
            "cilium/blueprint.yaml: chart.version: “1.16” is not a pinned semantic version (e.g. 1.16.5)",
            "envoy/blueprint.yaml: chart.namespace: “Envoy” is not a Kubernetes namespace name",
            "grafana/blueprint.yaml: sovereignty.licenseKind: AGPL-3.0-only is network-copyleft, not permissive",
            "ntfy/blueprint.yaml: family: unknown family “messaging”; known: pilot, spine, surge, silo, guardian, insights, fabric, cortex, relay",
        ]
    );
}

#[test]
fn missing_unknown_and_mistyped_fields_are_named() {
    let dir = copy_catalog();
    edit(dir.path(), "keda/blueprint.yaml", "tier: mandatory\n", "");
    edit(
        dir.path(),
        "keda/blueprint.yaml",
        "logo: keda.svg",
        "logo: keda.svg\nicon: keda.png",
    );
    edit(
        dir.path(),
        "vpa/blueprint.yaml",
        "version: \"11.1.1\"",
        "version: 11.1",
    );
    edit(
        dir.path(),
        "reloader/blueprint.yaml",
        "tier: mandatory",
        "tier: essential",
    );
    edit(
        dir.path(),
        "families.yaml",
        "    cascadeOnMemberSelection: true\n",
        "",
    );
    assert_eq!(
        problems(dir.path()),
        [
            "families.yaml: families[7].cascadeOnMemberSelection: missing required field",
            "keda/blueprint.yaml: tier: missing required field",
            "keda/blueprint.yaml: icon: unknown field; known fields: id, name, family, tier, visibility, summary, description, upstream, chart, dependencies, sovereignty, logo",
            "reloader/blueprint.yaml: tier: “essential” is not one of: mandatory, recommended, optional",
            "vpa/blueprint.yaml: chart.version: must be text, not a number (quote it)",
        ]
    );
}

#[test]
fn bad_yaml_and_a_folder_without_blueprint_are_reported() {
    let dir = copy_catalog();
    std::fs::write(
        dir.path().join("keda/blueprint.yaml"),
        "id: keda\nname: [unclosed\n",
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let p = problems(dir.path());
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!(
        p[0],
        "empty/blueprint.yaml: missing: every folder in the catalog needs a blueprint.yaml"
    );
    assert!(
        p[1].starts_with("keda/blueprint.yaml: not valid YAML: "),
        "{}",
        p[1]
    );
    let missing = tempfile::tempdir().expect("tempdir");
    let p = problems(&missing.path().join("nowhere"));
    assert!(p[0].contains("cannot read the catalog folder"), "{p:?}");
}

fn catalyst(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_catalyst"))
        .args(args)
        .output()
        .expect("catalyst runs")
}

#[test]
fn catalog_check_command_passes_on_the_repository_and_fails_precisely_on_a_broken_copy() {
    let ok = catalyst(&["catalog", "check", repo_platform().to_str().expect("utf8")]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        out.contains("catalog is valid: 70 components in 9 families"),
        "{out}"
    );

    let dir = copy_catalog();
    edit(
        dir.path(),
        "gitea/blueprint.yaml",
        "  - cnpg",
        "  - cnpg\n  - postgres",
    );
    edit(
        dir.path(),
        "keda/blueprint.yaml",
        "dependencies: []",
        "dependencies: [reloader]",
    );
    edit(
        dir.path(),
        "reloader/blueprint.yaml",
        "dependencies: []",
        "dependencies: [keda]",
    );
    let d = dir.path().to_str().expect("utf8");
    let bad = catalyst(&["catalog", "check", d]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{d}/gitea/blueprint.yaml: dependencies[1]: unknown dependency “postgres”: no blueprint has this id").as_str(),
            format!("{d}/keda/blueprint.yaml: dependencies: dependency cycle: keda → reloader → keda").as_str(),
            format!("catalyst: the catalog in {d} has 2 problems").as_str(),
        ]
    );
}

#[test]
fn the_server_refuses_to_start_on_a_broken_catalog() {
    let dir = copy_catalog();
    edit(
        dir.path(),
        "harbor/blueprint.yaml",
        "family: silo",
        "family: vault",
    );
    let data = tempfile::tempdir().expect("tempdir");
    let out = catalyst(&[
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        data.path().to_str().expect("utf8"),
        "--catalog-dir",
        dir.path().to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("catalyst: --catalog-dir: the catalog in "),
        "{err}"
    );
    assert!(
        err.contains("has 1 problem:\n  harbor/blueprint.yaml: family: unknown family “vault”"),
        "{err}"
    );
}

/// The console's router and the session cookie of a signed-in viewer (reading the catalog needs no more).
struct Signed {
    router: axum::Router,
    cookie: String,
}

async fn router(db: Db) -> Signed {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let state = server::app_state(common::settings_for(DbUrl::SqliteMemory, dir), db);
    let (_, cookie) = common::sign_in(
        &state,
        "viewer@example.com",
        None,
        Some(app::auth::OrgRole::Viewer),
    )
    .await;
    Signed {
        router: server::http::router(state),
        cookie,
    }
}

async fn send(s: &Signed, mut req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let headers = req.headers_mut();
    headers.insert("cookie", s.cookie.parse().expect("cookie header"));
    headers.insert("origin", common::ORIGIN.parse().expect("origin header"));
    let (status, headers, body) = common::send(&s.router, req).await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

on_both_backends!(
    the_catalog_api_serves_json_with_an_etag,
    the_catalog_server_function_returns_the_catalog,
    marketplace_pages_render_and_unknown_ids_are_404,
);

async fn the_catalog_api_serves_json_with_an_etag(db: Db) {
    let r = router(db).await;
    let (s, h, body) = send(
        &r,
        Request::get("/sovereign/api/v1/catalog")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "application/json");
    let etag = h["etag"].to_str().expect("ascii").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["blueprints"].as_array().map(Vec::len), Some(70));
    assert_eq!(v["families"].as_array().map(Vec::len), Some(9));
    assert_eq!(v["defaultSelection"].as_array().map(Vec::len), Some(50));
    let cnpg = v["blueprints"]
        .as_array()
        .and_then(|b| b.iter().find(|x| x["id"] == "cnpg"))
        .expect("cnpg");
    assert_eq!(cnpg["tier"], "recommended");
    assert_eq!(cnpg["effectiveTier"], "mandatory");
    assert_eq!(cnpg["chart"]["namespace"], "cnpg-system");
    assert!(
        cnpg["dependents"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "gitea"))
    );

    let again = Request::get("/sovereign/api/v1/catalog")
        .header("if-none-match", &etag)
        .body(Body::empty())
        .expect("req");
    let (s, h, body) = send(&r, again).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert_eq!(h["etag"], etag.as_str());
    assert!(body.is_empty());
    let stale = Request::get("/sovereign/api/v1/catalog")
        .header("if-none-match", "\"0\"")
        .body(Body::empty())
        .expect("req");
    assert_eq!(send(&r, stale).await.0, StatusCode::OK);
}

async fn the_catalog_server_function_returns_the_catalog(db: Db) {
    let r = router(db).await;
    use leptos::server_fn::ServerFn;
    let req = Request::post(app::catalog::GetCatalog::PATH)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .expect("req");
    let (s, _, body) = send(&r, req).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["blueprints"].as_array().map(Vec::len), Some(70));
}

async fn marketplace_pages_render_and_unknown_ids_are_404(db: Db) {
    let r = router(db).await;
    let page = |p: &str| Request::get(p).body(Body::empty()).expect("req");
    let (s, _, html) = send(&r, page("/sovereign/marketplace")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        html.matches("data-testid=\"component-card\"").count(),
        41,
        "non-mandatory listed components"
    );
    assert!(
        html.contains("Selected <!-->50<!--> of 70") || html.contains("50"),
        "counter"
    );
    let (s, _, html) = send(&r, page("/sovereign/marketplace/product/grafana")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Grafana"));
    let (s, _, html) = send(&r, page("/sovereign/marketplace/family/cortex")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("AI &amp; Machine Learning"));
    for missing in [
        "/sovereign/marketplace/product/nope",
        "/sovereign/marketplace/family/nope",
    ] {
        let (s, _, html) = send(&r, page(missing)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
        assert!(html.contains("data-testid=\"not-found\""), "{missing}");
    }
}
