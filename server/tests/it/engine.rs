//! The provisioning engine end to end with the `tofu` stand-in, a real bare Git repository, the Hetzner API
//! stand-in and the stand-in Kubernetes API: happy path, failure and retry, a missing GitOps repository,
//! cancel, wipe with sweep and teardown report, the component watch, concurrency and takeover after a lost
//! replica. Every test runs on SQLite and on Postgres.

use crate::common;

use std::time::Duration;

use app::deployments::{
    Actor, ComponentPhase, DeploymentStatus, EventKind, ListQuery, Phase, PhaseState, ResourceState,
    RetryRequest, WipeRequest,
};
use common::engine::{
    GitRepo, HetznerStandin, KubeStandin, TOKEN, eventually, helm_releases, module_dir, request, standin_tofu,
};
use serde_json::json;
use server::crypto::SecretBox;
use server::db::Db;
use server::deployments::{Engine, EngineConfig};
use server::hetzner::SweepOptions;

struct Harness {
    engine: Engine,
    actor: Actor,
    _dir: std::path::PathBuf,
}

/// An engine on the stand-ins. `tofu_env`: the `tofu` stand-in's switches for this engine.
pub(crate) fn config(
    dir: &std::path::Path,
    git: Option<&GitRepo>,
    tofu_env: &[(&str, &str)],
) -> EngineConfig {
    let mut cfg = EngineConfig::for_data_dir(dir, common::repo_catalog().engine.clone());
    cfg.tofu_bin = standin_tofu();
    cfg.module_dir = module_dir();
    if let Some(git) = git {
        cfg.gitops = git.settings();
    }
    cfg.tofu_env = tofu_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // What each new control plane's user data carries (the tenant can read it on its server).
    cfg.tofu_env.push((
        "TOFU_STANDIN_USERDATA".into(),
        dir.join("userdata").display().to_string(),
    ));
    // Nothing listens here: a wipe without a Hetzner stand-in fails its sweep quickly.
    cfg.hetzner_api_url = "http://127.0.0.1:9/v1".into();
    cfg.sweep = SweepOptions {
        rounds: 4,
        round_delay: Duration::from_millis(50),
    };
    cfg.poll = Duration::from_millis(100);
    cfg.lease_ttl = Duration::from_secs(2);
    // Many deployments in one organisation; the limits have their own tests.
    cfg.limits = server::db::deployments::CreateLimits::OFF;
    // These runs are about the engine (some on a console without a repository or OpenTofu on purpose); the
    // pre-flight of the create path has its own tests (it::preflight).
    cfg.preflight.on_create = false;
    cfg.cluster_timeout = Duration::from_secs(60);
    cfg.install_timeout = Duration::from_secs(60);
    cfg
}

on_both_backends!(
    happy_path_pushes_the_gitops_tree_then_provisions_and_reaches_ready,
    a_failed_apply_is_recorded_and_a_retry_succeeds,
    without_a_gitops_repository_the_run_fails_at_once_and_retries_once_one_is_set,
    a_missing_tofu_binary_fails_at_once_saying_how_to_install_it,
    cancel_stops_opentofu_and_wipe_destroys_sweeps_and_reports,
    a_wipe_that_leaves_something_fails_with_what_is_left_and_its_cost,
    a_component_failure_fails_the_deployment_and_a_component_retry_asks_flux_again,
    twenty_concurrent_deployments_keep_their_events_trees_and_workdirs_apart,
    another_replica_takes_over_a_run_whose_lease_expired,
);

fn harness_with(
    db: Db,
    dir: std::path::PathBuf,
    secrets: SecretBox,
    instance: &str,
    cfg: EngineConfig,
) -> Harness {
    let engine = Engine::new(db, secrets, cfg, instance.into(), common::create_checks());
    Harness {
        engine,
        actor: common::engine::owner(),
        _dir: dir,
    }
}

async fn harness(db: Db, git: &GitRepo, tofu_env: &[(&str, &str)]) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let cfg = config(&dir, Some(git), tofu_env);
    harness_with(db, dir, SecretBox::generate(), "replica-a", cfg)
}

impl Harness {
    async fn status(&self, id: &str) -> DeploymentStatus {
        self.engine.get(&self.actor, id).await.expect("get").status
    }

    async fn wait_for(&self, id: &str, want: DeploymentStatus, secs: u64) {
        eventually(secs, &format!("{id} to become {want}"), || async {
            let s = self.status(id).await;
            (s == want).then_some(())
        })
        .await
    }

    fn tfvars(&self, id: &str) -> serde_json::Value {
        let path = self
            .engine
            .config()
            .work_root
            .join(id)
            .join("tofu.auto.tfvars.json");
        serde_json::from_slice(&std::fs::read(path).expect("tfvars")).expect("json")
    }

    async fn all_events(&self, id: &str) -> Vec<app::deployments::DeploymentEvent> {
        self.engine
            .events(&self.actor, id, 0, Some(1000))
            .await
            .expect("events")
            .events
    }

    /// The bearer the primary region's control plane got in its user data (the newest one).
    fn bearer(&self, id: &str) -> String {
        common::engine::userdata_bearer(&self._dir.join("userdata"), id, "fsn1")
            .expect("a control plane was created")
    }

    /// What cloud-init does on the control plane: PUT the kubeconfig with the bearer from its user data.
    async fn put_back(&self, id: &str, kubeconfig: &str) {
        let bearer = self.bearer(id);
        self.engine
            .receive_kubeconfig(id, None, Some(&format!("Bearer {bearer}")), kubeconfig.as_bytes())
            .await
            .expect("kubeconfig accepted");
    }

    async fn create(&self, fqdn: &str) -> String {
        self.engine
            .create(&self.actor, request(fqdn))
            .await
            .expect("created")
            .id
    }

    async fn wipe(&self, id: &str, fqdn: &str) {
        self.engine
            .wipe(
                &self.actor,
                id,
                WipeRequest {
                    confirm: fqdn.into(),
                    hetzner_token: None,
                },
            )
            .await
            .expect("wipe accepted");
    }
}

async fn happy_path_pushes_the_gitops_tree_then_provisions_and_reaches_ready(db: Db) {
    let git = GitRepo::new();
    let kube = KubeStandin::start();
    let (k, v) = kube.tofu_env();
    let h = harness(db, &git, &[(k, &v)]).await;
    let created = h
        .engine
        .create(&h.actor, request("acme.example.com"))
        .await
        .expect("created");
    assert_eq!(created.status, DeploymentStatus::Pending);
    assert_eq!(
        created.stream_url,
        format!("/sovereign/api/v1/deployments/{}/stream", created.id)
    );
    let id = created.id;
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;

    // GitOps: clusters/<fqdn>/ holds the template and one HelmRelease per deployed component, nothing else.
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let expected = helm_releases(&d.request.components);
    assert!(expected.len() >= 3, "{expected:?}");
    let tree = git.files_under("clusters/acme.example.com");
    assert!(tree.contains_key("kustomization.yaml"), "{:?}", tree.keys());
    assert!(tree["README.md"].contains(&id));
    let kit: Vec<&String> = tree
        .iter()
        .filter(|(p, _)| p.starts_with("bootstrap-kit/") && !p.ends_with("kustomization.yaml"))
        .map(|(_, c)| c)
        .collect();
    for component in &expected {
        assert!(
            kit.iter().any(|c| c.contains(&format!("name: bp-{component}\n"))),
            "no HelmRelease bp-{component} in {:?}",
            tree.keys()
        );
    }
    let catalog = &common::repo_catalog().engine;
    let unselected = catalog
        .blueprints()
        .iter()
        .find(|b| b.chart.is_some() && !catalog.is_mandatory(&b.id))
        .expect("an optional component with a chart");
    assert!(
        !tree
            .values()
            .any(|c| c.contains(&format!("name: bp-{}\n", unselected.id))),
        "an unselected component ({}) is not deployed",
        unselected.id
    );
    assert!(
        d.request.components.iter().any(|c| c == "flux") && !expected.iter().any(|c| c == "flux"),
        "Flux is selected but installed by cloud-init, not by a HelmRelease"
    );
    assert_eq!(git.commits(), 1);
    let result = d.result.clone().expect("outputs recorded");
    assert_eq!(result.components, expected, "the watch waits for what was pushed");
    assert_eq!(result.gitops_commit.len(), 40);
    assert!(result.load_balancer_ip.starts_with("198.51.100."), "{result:?}");
    assert!(result.control_plane_ip.starts_with("203.0.113."), "{result:?}");
    assert_eq!(
        result.gitops_repo_url,
        format!("{}//clusters/acme.example.com", git.url)
    );

    // OpenTofu: every resource of the module, complete, with its cloud id.
    assert_eq!(d.resources.len(), 14, "{:?}", d.resources);
    assert!(
        d.resources
            .iter()
            .all(|r| r.state == ResourceState::Complete && r.cloud_id.is_some()),
        "{:?}",
        d.resources
    );
    for p in [
        Phase::Gitops,
        Phase::TofuInit,
        Phase::TofuPlan,
        Phase::TofuApply,
        Phase::TofuOutput,
    ] {
        let phase = d.phase(p).expect("phase");
        assert_eq!(phase.state, PhaseState::Succeeded, "{p}");
        assert!(phase.duration(0).is_some());
    }
    assert_eq!(
        d.phase(Phase::Cluster).expect("cluster").state,
        PhaseState::Running
    );
    let vars = h.tfvars(&id);
    assert_eq!(vars["deployment_id"], id.as_str());
    assert_eq!(vars["sovereign_fqdn"], "acme.example.com");
    assert_eq!(vars["name_prefix"], "catalyst-acme-example-com");
    assert_eq!(vars["gitops_repo_url"], git.url.as_str());
    assert_eq!(vars["gitops_path"], "clusters/acme.example.com");
    assert_eq!(vars["regions"][0]["key"], "fsn1");
    use std::os::unix::fs::PermissionsExt;
    let workdir = h.engine.config().work_root.join(&id);
    assert_eq!(
        std::fs::metadata(&workdir).expect("workdir").permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(workdir.join("tofu.auto.tfvars.json"))
            .expect("tfvars")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(workdir.join("main.tf").is_file(), "the module was copied in");

    // The control plane reports back; Flux installs the components one by one.
    h.put_back(&id, &kube.kubeconfig()).await;
    h.wait_for(&id, DeploymentStatus::Installing, 10).await;
    let (last, first) = expected.split_last().expect("components");
    kube.set(
        &format!("bp-{}", first[0]),
        Some(("Unknown", "Progressing", "Running 'install' action")),
    )
    .await;
    kube.set(&format!("bp-{last}"), None).await;
    kube.set("bp-unrelated", Some(("True", "InstallSucceeded", "not ours")))
        .await;
    eventually(15, "the first component installing", || async {
        let d = h.engine.get(&h.actor, &id).await.expect("get");
        d.components
            .iter()
            .any(|c| c.id == first[0] && c.state == ComponentPhase::Installing)
            .then_some(())
    })
    .await;
    for c in first {
        kube.set(
            &format!("bp-{c}"),
            Some(("True", "InstallSucceeded", "Helm install succeeded")),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.status(&id).await,
        DeploymentStatus::Installing,
        "{last} is not installed yet"
    );
    kube.set(
        &format!("bp-{last}"),
        Some(("True", "InstallSucceeded", "Helm install succeeded")),
    )
    .await;
    h.wait_for(&id, DeploymentStatus::Ready, 15).await;

    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let mut seen: Vec<String> = d.components.iter().map(|c| c.id.clone()).collect();
    seen.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(seen, want, "exactly the deployed components");
    assert!(d.components.iter().all(|c| c.state == ComponentPhase::Installed));
    // No pool manager in this engine: the DNS step says so and is skipped (it_dns_run:: runs it for real).
    assert!(
        d.phases.iter().all(|p| p.state
            == if p.phase == Phase::Dns {
                PhaseState::Skipped
            } else {
                PhaseState::Succeeded
            }),
        "{:?}",
        d.phases
    );
    assert_eq!(d.kubeconfig_regions, ["fsn1"]);
    let events = h.all_events(&id).await;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=d.last_seq).collect::<Vec<_>>(),
        "every event stored, in order, no gaps"
    );
    let statuses: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::Status)
        .filter_map(|e| e.state.as_deref())
        .collect();
    assert_eq!(
        statuses,
        [
            "pending",
            "provisioning",
            "waiting-for-cluster",
            "installing",
            "ready"
        ]
    );
    for line in [
        "Pushed clusters/acme.example.com/ to ",
        "OpenTofu has been successfully initialized!",
        "Apply complete! Resources: 14 added, 0 changed, 0 destroyed.",
    ] {
        assert!(
            events.iter().any(|e| e.message.starts_with(line)),
            "no event “{line}”"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::Component && e.component.as_deref() == Some(last.as_str()))
    );
    assert!(
        !events.iter().any(|e| e.message.contains("unrelated")),
        "unselected HelmReleases are ignored"
    );
    let (file, yaml) = h
        .engine
        .download_kubeconfig(&h.actor, &id, None)
        .await
        .expect("download");
    assert_eq!(file, "acme.example.com-kubeconfig.yaml");
    assert!(yaml.contains(&kube.url));
}

async fn a_failed_apply_is_recorded_and_a_retry_succeeds(db: Db) {
    let git = GitRepo::new();
    let log = tempfile::NamedTempFile::new().expect("log");
    let log_path = log.path().display().to_string();
    let h = harness(
        db,
        &git,
        &[
            ("TOFU_STANDIN_FAIL_RESOURCE", "hcloud_load_balancer.region"),
            ("TOFU_STANDIN_FAIL_TIMES", "1"),
            ("TOFU_STANDIN_LOG", &log_path),
        ],
    )
    .await;
    let id = h.create("fail-once.example.com").await;
    h.wait_for(&id, DeploymentStatus::Failed, 60).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let error = d.error.clone().expect("error recorded");
    assert_eq!(error.phase, Phase::TofuApply);
    assert!(
        error
            .message
            .starts_with("creating server: resource_unavailable: with hcloud_load_balancer.region[\"fsn1\"]"),
        "{}",
        error.message
    );
    assert!(error.hint.contains("idempotent"), "{}", error.hint);
    assert_eq!(
        d.phase(Phase::TofuApply).expect("apply").state,
        PhaseState::Failed
    );
    assert!(d.resources.iter().any(|r| r.state == ResourceState::Errored));
    assert!(
        d.resources.iter().any(|r| r.state == ResourceState::Complete),
        "what was created before the error is recorded"
    );

    // Retrying re-runs from the GitOps step and init; the tree is already pushed, so nothing new is committed.
    let retried = h
        .engine
        .retry(&h.actor, &id, RetryRequest::default())
        .await
        .expect("retry");
    assert!(retried.error.is_none());
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    assert_eq!(d.phase(Phase::TofuApply).expect("apply").attempts, 2);
    assert_eq!(
        d.phase(Phase::TofuInit).expect("init").attempts,
        2,
        "retry starts again at init"
    );
    assert_eq!(d.phase(Phase::Gitops).expect("gitops").attempts, 2);
    assert_eq!(git.commits(), 1, "an identical tree pushes nothing");
    assert!(
        h.all_events(&id)
            .await
            .iter()
            .any(|e| e.message.contains("is already up to date in"))
    );
    let again = h
        .engine
        .retry(&h.actor, &id, RetryRequest::default())
        .await
        .expect_err("not failed");
    assert_eq!(again.status(), http::StatusCode::CONFLICT);
    // Retry used the decrypted token (never a placeholder), handed over in OpenTofu's environment: the
    // variables file holds no secret.
    let vars = h.tfvars(&id);
    for secret in ["hcloud_token", "kubeconfig_bearer_tokens", "gitops_token"] {
        assert!(
            vars.get(secret).is_none(),
            "{secret} written to the variables file"
        );
    }
    let calls: Vec<serde_json::Value> = std::fs::read_to_string(log.path())
        .expect("log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let applies: Vec<&serde_json::Value> = calls.iter().filter(|c| c["argv"][0] == "apply").collect();
    assert_eq!(applies.len(), 2, "the failed apply and the retry");
    let token_sha = server::crypto::sha256_hex(TOKEN.as_bytes());
    for apply in applies {
        assert_eq!(apply["tf_var_sha256"]["hcloud_token"], token_sha.as_str());
    }
}

async fn without_a_gitops_repository_the_run_fails_at_once_and_retries_once_one_is_set(db: Db) {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let key = SecretBox::generate();
    let bare = harness_with(
        db.clone(),
        dir.clone(),
        key.clone(),
        "replica-a",
        config(&dir, None, &[]),
    );
    let id = bare.create("no-repo.example.com").await;
    bare.wait_for(&id, DeploymentStatus::Failed, 30).await;
    let d = bare.engine.get(&bare.actor, &id).await.expect("get");
    let error = d.error.expect("error");
    assert_eq!(error.phase, Phase::Gitops);
    assert!(error.message.contains("--gitops-repo-url"), "{}", error.message);
    assert!(error.hint.contains("CATALYST_GITOPS_REPO_URL"), "{}", error.hint);
    assert!(error.hint.contains("Nothing was created"), "{}", error.hint);
    assert!(
        !dir.join("deployments")
            .join(&id)
            .join("terraform.tfstate")
            .exists(),
        "OpenTofu never ran"
    );
    bare.engine.shutdown().await;

    // The operator configures a repository and restarts; retry goes through.
    let git = GitRepo::new();
    let h = harness_with(db, dir.clone(), key, "replica-b", config(&dir, Some(&git), &[]));
    h.engine
        .retry(&h.actor, &id, RetryRequest::default())
        .await
        .expect("retry");
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    assert!(!git.files_under("clusters/no-repo.example.com").is_empty());
}

async fn a_missing_tofu_binary_fails_at_once_saying_how_to_install_it(db: Db) {
    let git = GitRepo::new();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut cfg = config(&dir, Some(&git), &[]);
    cfg.tofu_bin = dir.join("no-such-tofu");
    let h = harness_with(db, dir, SecretBox::generate(), "a", cfg);
    let id = h.create("no-tofu.example.com").await;
    h.wait_for(&id, DeploymentStatus::Failed, 30).await;
    let error = h
        .engine
        .get(&h.actor, &id)
        .await
        .expect("get")
        .error
        .expect("error");
    assert_eq!(error.phase, Phase::TofuInit);
    assert!(
        error.message.contains("OpenTofu was not found"),
        "{}",
        error.message
    );
    assert!(error.hint.contains("--tofu-bin"), "{}", error.hint);
    assert_eq!(git.commits(), 0, "nothing pushed for a run that cannot continue");
}

/// Left-overs of `fqdn` in a Hetzner project, as the cluster would leave them (nothing labelled by
/// OpenTofu: a server of a lost state, a volume the CSI driver attached to it), plus a resource of another
/// deployment that must survive. `protected`: the server has delete protection.
fn leftovers(fqdn: &str, protected: bool) -> serde_json::Value {
    let prefix = server::hetzner::name_prefix(fqdn);
    json!({
        "servers": [{
            "id": 41, "name": format!("{prefix}-fsn1-cp1"), "server_type": "cpx32",
            "protection": {"delete": protected, "rebuild": false}
        }],
        "volumes": [{"id": 51, "name": "pvc-3f1c", "server": 41, "size": 50}],
        "load_balancers": [{"id": 61, "name": format!("{prefix}-fsn1-lb"), "load_balancer_type": "lb11"}],
        "firewalls": [{
            "id": 71, "name": format!("{prefix}-fsn1-fw"),
            "labels": {"catalyst.dev/deployment-id": "someone-else"}
        }],
    })
}

async fn cancel_stops_opentofu_and_wipe_destroys_sweeps_and_reports(db: Db) {
    let git = GitRepo::new();
    let hetzner = HetznerStandin::start(leftovers("cancel.example.com", false));
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut cfg = config(&dir, Some(&git), &[("TOFU_STANDIN_DELAY", "0.4")]);
    cfg.hetzner_api_url = hetzner.url.clone();
    let h = harness_with(db, dir, SecretBox::generate(), "a", cfg);
    let id = h.create("cancel.example.com").await;
    eventually(60, "apply under way", || async {
        let d = h.engine.get(&h.actor, &id).await.expect("get");
        let running = d.phase(Phase::TofuApply).map(|p| p.state) == Some(PhaseState::Running);
        (running && d.resources.iter().any(|r| r.state == ResourceState::Complete)).then_some(())
    })
    .await;
    let delete = h.engine.delete(&h.actor, &id).await.expect_err("in flight");
    assert_eq!(delete.status(), http::StatusCode::CONFLICT);
    let d = h.engine.cancel(&h.actor, &id).await.expect("cancel");
    assert_eq!(d.status, DeploymentStatus::Failed);
    let error = d.error.expect("error");
    assert_eq!(error.phase, Phase::TofuApply);
    assert!(
        error.message.starts_with("Cancelled by owner@acme.example"),
        "{}",
        error.message
    );
    let workdir = h.engine.config().work_root.join(&id);
    assert!(
        !workdir.join(".catalyst-tofu.pid").exists(),
        "OpenTofu was stopped"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(workdir.join("terraform.tfstate")).expect("state"))
            .expect("json");
    assert!(
        !state["resources"].as_array().expect("resources").is_empty(),
        "apply had created something before the cancel"
    );

    let bad = h
        .engine
        .wipe(
            &h.actor,
            &id,
            WipeRequest {
                confirm: "other.example.com".into(),
                hetzner_token: None,
            },
        )
        .await
        .expect_err("confirmation must match");
    assert_eq!(
        bad.field_message("confirm")
            .map(|m| m.contains("cancel.example.com")),
        Some(true)
    );
    h.wipe(&id, "Cancel.example.com").await;
    h.wait_for(&id, DeploymentStatus::Wiped, 60).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let report = d.teardown.clone().expect("teardown report");
    assert!(report.remaining.is_empty(), "{report:?}");
    let server = report
        .removed
        .iter()
        .find(|r| r.kind == "server")
        .expect("the left-over server");
    assert_eq!(server.name, "catalyst-cancel-example-com-fsn1-cp1");
    assert!((server.monthly_cost - 13.99).abs() < 0.001, "{server:?}");
    assert!(report.removed.iter().any(|r| r.kind == "volume" && r.id == "51"));
    assert!(report.removed.iter().any(|r| r.kind == "load_balancer"));
    assert!(!report.removed.iter().any(|r| r.id == "71"), "not ours");
    assert_eq!(
        d.phase(Phase::TofuDestroy).expect("destroy").state,
        PhaseState::Succeeded
    );
    assert_eq!(d.phase(Phase::Sweep).expect("sweep").state, PhaseState::Succeeded);
    let events = h.all_events(&id).await;
    assert!(
        events
            .iter()
            .any(|e| e.message.starts_with("Destroy complete! Resources:")),
        "OpenTofu destroyed what its state held"
    );
    assert!(events.iter().any(|e| {
        e.message
            .starts_with("Removed the left-over server catalyst-cancel-example-com-fsn1-cp1")
    }));
    let cloud = hetzner.state().await;
    assert_eq!(cloud["servers"], json!([]));
    assert_eq!(cloud["volumes"], json!([]));
    assert_eq!(
        cloud["firewalls"][0]["id"], 71,
        "another deployment's firewall survives"
    );
    assert!(!workdir.exists(), "work directory removed");
    h.engine.delete(&h.actor, &id).await.expect("delete the record");
    let gone = h.engine.get(&h.actor, &id).await.expect_err("gone");
    assert_eq!(gone.status(), http::StatusCode::NOT_FOUND);
}

async fn a_wipe_that_leaves_something_fails_with_what_is_left_and_its_cost(db: Db) {
    let git = GitRepo::new();
    let hetzner = HetznerStandin::start(leftovers("protected.example.com", true));
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut cfg = config(&dir, Some(&git), &[("TOFU_STANDIN_FAIL_AT", "plan")]);
    cfg.hetzner_api_url = hetzner.url.clone();
    let h = harness_with(db, dir, SecretBox::generate(), "a", cfg);
    let id = h.create("protected.example.com").await;
    h.wait_for(&id, DeploymentStatus::Failed, 60).await;
    h.wipe(&id, "protected.example.com").await;
    eventually(60, "the wipe to settle", || async {
        let d = h.engine.get(&h.actor, &id).await.expect("get");
        (d.status == DeploymentStatus::Failed && d.teardown.is_some()).then_some(d)
    })
    .await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    assert_eq!(
        d.phase(Phase::TofuDestroy).expect("destroy").state,
        PhaseState::Skipped,
        "no state: the plan failed, nothing was applied"
    );
    let report = d.teardown.expect("report");
    assert_eq!(report.remaining.len(), 1, "{report:?}");
    let left = &report.remaining[0];
    assert_eq!(
        (left.kind.as_str(), left.name.as_str()),
        ("server", "catalyst-protected-example-com-fsn1-cp1")
    );
    assert!(left.reason.contains("delete protection"), "{}", left.reason);
    assert!((report.remaining_monthly_cost() - 13.99).abs() < 0.001);
    assert!(report.removed.iter().any(|r| r.kind == "load_balancer"));
    let error = d.error.expect("error");
    assert_eq!(error.phase, Phase::Sweep);
    assert!(error.message.contains("€13.99/month"), "{}", error.message);
    assert!(error.hint.contains("retry the wipe"), "{}", error.hint);
}

async fn a_component_failure_fails_the_deployment_and_a_component_retry_asks_flux_again(db: Db) {
    let git = GitRepo::new();
    let kube = KubeStandin::start();
    let (k, v) = kube.tofu_env();
    let h = harness(db, &git, &[(k, &v)]).await;
    let id = h.create("components.example.com").await;
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    let expected = h
        .engine
        .get(&h.actor, &id)
        .await
        .expect("get")
        .result
        .expect("result")
        .components;
    let (failing, fine) = expected.split_last().expect("components");
    for c in fine {
        kube.set(&format!("bp-{c}"), Some(("True", "InstallSucceeded", "ok")))
            .await;
    }
    kube.set(
        &format!("bp-{failing}"),
        Some(("False", "InstallFailed", "context deadline exceeded")),
    )
    .await;
    // A late kubeconfig (after apply finished) still starts the watch.
    h.put_back(&id, &kube.kubeconfig()).await;
    h.wait_for(&id, DeploymentStatus::Failed, 20).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let error = d.error.expect("error");
    assert_eq!(error.phase, Phase::Components);
    assert!(error.message.contains(failing.as_str()), "{}", error.message);
    // The failed component's job says why in the console's words (Flux's "context deadline exceeded" is a
    // timeout); the installed ones have nothing to explain.
    let jobs = server::db::jobs::list(h.engine.db(), &id).await.expect("jobs");
    let causes = app::flow::cause::explain(&jobs);
    let job = app::flow::install_job(failing);
    assert_eq!(
        jobs.iter()
            .find(|j| j.job_name == job)
            .and_then(|j| j.reason.clone()),
        Some(app::flow::cause::Reason::Timeout)
    );
    assert!(
        causes[&job]
            .sentence
            .starts_with(&format!("The install of {failing} timed out")),
        "{:?}",
        causes[&job]
    );
    assert!(!causes[&job].sentence.contains("deadline"));
    for c in fine {
        assert!(!causes.contains_key(&app::flow::install_job(c)), "{c}");
    }
    let unknown = h
        .engine
        .retry(
            &h.actor,
            &id,
            RetryRequest {
                phase: None,
                component: Some("not-deployed".into()),
            },
        )
        .await
        .expect_err("not a component of this deployment");
    assert_eq!(unknown.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
    h.engine
        .retry(
            &h.actor,
            &id,
            RetryRequest {
                phase: None,
                component: Some(failing.clone()),
            },
        )
        .await
        .expect("component retry");
    let patches = kube.patches().await;
    assert_eq!(patches[0]["name"], format!("bp-{failing}"));
    assert!(patches[0]["patch"]["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_string());
    h.wait_for(&id, DeploymentStatus::Installing, 10).await;
    kube.set(&format!("bp-{failing}"), Some(("True", "UpgradeSucceeded", "ok")))
        .await;
    h.wait_for(&id, DeploymentStatus::Ready, 15).await;
}

async fn twenty_concurrent_deployments_keep_their_events_trees_and_workdirs_apart(db: Db) {
    let git = GitRepo::new();
    let h = harness(db, &git, &[]).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push((i, h.create(&format!("c{i}.example.com")).await));
    }
    for (_, id) in &ids {
        h.wait_for(id, DeploymentStatus::WaitingForCluster, 240).await;
    }
    assert_eq!(git.commits(), 20, "one commit per Sovereign");
    for (i, id) in &ids {
        let vars = h.tfvars(id);
        assert_eq!(vars["deployment_id"], id.as_str());
        assert_eq!(vars["sovereign_fqdn"], format!("c{i}.example.com"));
        assert!(
            !h.engine.config().work_root.join(id).join("tfplan").exists(),
            "no saved plan: it would hold the variables' values"
        );
        let tree = git.files_under(&format!("clusters/c{i}.example.com"));
        assert!(tree["README.md"].contains(id.as_str()));
        let events = h.all_events(id).await;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        for e in &events {
            for (j, other) in &ids {
                if j != i {
                    assert!(
                        !e.message.contains(other.as_str()),
                        "{id} got an event of {other}"
                    );
                    assert!(
                        !e.message.contains(&format!("c{j}.example.com")),
                        "{id}: {}",
                        e.message
                    );
                }
            }
        }
        let d = h.engine.get(&h.actor, id).await.expect("get");
        assert_eq!(
            d.result.expect("result").console_url,
            format!("https://console.c{i}.example.com")
        );
    }
    let page = h
        .engine
        .list(
            &h.actor,
            ListQuery {
                status: Some("waiting-for-cluster".into()),
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(page.total, 20);
}

async fn another_replica_takes_over_a_run_whose_lease_expired(db: Db) {
    let git = GitRepo::new();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let key = SecretBox::generate();
    let a = harness_with(
        db.clone(),
        dir.clone(),
        key.clone(),
        "replica-a",
        config(&dir, Some(&git), &[("TOFU_STANDIN_DELAY", "0.5")]),
    );
    let id = a.create("takeover.example.com").await;
    eventually(60, "apply running on a", || async {
        let d = a.engine.get(&a.actor, &id).await.expect("get");
        (d.phase(Phase::TofuApply).map(|p| p.state) == Some(PhaseState::Running)).then_some(())
    })
    .await;
    // Replica a dies: its runs stop without writing anything and without releasing the lease.
    a.engine.abandon_runs().await;
    assert!(
        !a.engine
            .config()
            .work_root
            .join(&id)
            .join(".catalyst-tofu.pid")
            .exists()
    );
    assert_eq!(
        a.status(&id).await,
        DeploymentStatus::Provisioning,
        "still owed, not failed"
    );

    let b = harness_with(db, dir.clone(), key, "replica-b", config(&dir, Some(&git), &[]));
    b.engine.start();
    b.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    let d = b.engine.get(&b.actor, &id).await.expect("get");
    assert_eq!(
        d.phase(Phase::TofuApply).expect("apply").attempts,
        2,
        "resumed from init"
    );
    assert_eq!(git.commits(), 1);
    let events = b.all_events(&id).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=d.last_seq).collect::<Vec<_>>()
    );
    b.engine.shutdown().await;
}

/// A replica that shuts down hands its runs' leases back before it exits: another replica takes the run
/// over at once, not after the lease expires (here ten minutes, far beyond the wait).
async fn shutdown_hands_the_lease_back_on(db: Db) {
    let git = GitRepo::new();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let key = SecretBox::generate();
    let mut long = config(&dir, Some(&git), &[("TOFU_STANDIN_DELAY", "0.5")]);
    long.lease_ttl = Duration::from_secs(600);
    let a = harness_with(db.clone(), dir.clone(), key.clone(), "replica-a", long);
    let id = a.create("handback.example.com").await;
    eventually(60, "apply running on a", || async {
        let d = a.engine.get(&a.actor, &id).await.expect("get");
        (d.phase(Phase::TofuApply).map(|p| p.state) == Some(PhaseState::Running)).then_some(())
    })
    .await;
    let holder = server::db::leases::holder(&db, &id).await.expect("holder");
    assert_eq!(holder.map(|(h, _)| h).as_deref(), Some("replica-a"));
    a.engine.shutdown().await;
    assert_eq!(
        server::db::leases::holder(&db, &id).await.expect("holder"),
        None,
        "the lease is handed back when shutdown returns"
    );
    assert_eq!(
        a.status(&id).await,
        DeploymentStatus::Provisioning,
        "still owed, not failed"
    );

    let b = harness_with(db, dir.clone(), key, "replica-b", config(&dir, Some(&git), &[]));
    b.engine.start();
    b.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    b.engine.shutdown().await;
    // What the run did is in the metrics (process-wide: other tests add to them too).
    let m = server::metrics::process_series();
    let at_least_one = |series: &str| {
        assert!(crate::metrics::value(&m, series) >= 1.0, "{series} in {m}");
    };
    at_least_one("catalyst_lease_takeovers_total");
    at_least_one(r#"catalyst_tofu_command_duration_seconds_count{command="init",outcome="ok"}"#);
    at_least_one(r#"catalyst_tofu_command_duration_seconds_count{command="apply",outcome="ok"}"#);
    at_least_one(r#"catalyst_phase_duration_seconds_count{phase="gitops",state="succeeded"}"#);
}

#[tokio::test]
async fn shutdown_hands_the_lease_back_sqlite() {
    shutdown_hands_the_lease_back_on(common::sqlite().await).await;
}

#[tokio::test]
async fn shutdown_hands_the_lease_back_postgres() {
    shutdown_hands_the_lease_back_on(common::postgres().await).await;
}
