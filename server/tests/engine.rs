//! The provisioning engine end to end with a fake `tofu` and the stand-in Kubernetes API: happy path,
//! failure and retry, cancel, wipe, the component watch, concurrency and takeover after a lost replica.

mod common;

use std::time::Duration;

use app::deployments::{
    Actor, ComponentPhase, DeploymentStatus, EventKind, ListQuery, Phase, PhaseState, ResourceState,
    RetryRequest, WipeRequest,
};
use common::engine::{KubeStandin, TOKEN, eventually, fake_tofu, request};
use server::crypto::SecretBox;
use server::db::Db;
use server::engine::deployments::{Engine, EngineConfig};

struct Harness {
    engine: Engine,
    actor: Actor,
    _dir: std::path::PathBuf,
}

fn config(dir: &std::path::Path) -> EngineConfig {
    let mut cfg = EngineConfig::for_data_dir(dir);
    cfg.tofu_bin = fake_tofu(dir);
    cfg.module_dir = dir.join("no-module");
    cfg.poll = Duration::from_millis(100);
    cfg.lease_ttl = Duration::from_secs(2);
    cfg.cluster_timeout = Duration::from_secs(60);
    cfg.install_timeout = Duration::from_secs(60);
    cfg
}

fn harness_with(db: Db, dir: std::path::PathBuf, secrets: SecretBox, instance: &str) -> Harness {
    let engine = Engine::new(db, secrets, config(&dir), instance.into());
    Harness {
        engine,
        actor: Actor::local(),
        _dir: dir,
    }
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    harness_with(common::sqlite().await, dir, SecretBox::generate(), "replica-a")
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

    /// What cloud-init does on the control plane: PUT the kubeconfig with the bearer from the tfvars.
    async fn put_back(&self, id: &str, kubeconfig: &str) {
        let vars = self.tfvars(id);
        let bearer = vars["kubeconfig_bearer_token"].as_str().expect("bearer");
        self.engine
            .receive_kubeconfig(id, None, Some(&format!("Bearer {bearer}")), kubeconfig.as_bytes())
            .await
            .expect("kubeconfig accepted");
    }
}

#[tokio::test]
async fn happy_path_reaches_ready_with_every_step_recorded() {
    let h = harness().await;
    let kube = KubeStandin::start();
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
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 30).await;

    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let result = d.result.clone().expect("outputs recorded");
    assert_eq!(
        (result.control_plane_ip.as_str(), result.load_balancer_ip.as_str()),
        ("203.0.113.10", "203.0.113.20")
    );
    assert_eq!(d.resources.len(), 7);
    assert!(
        d.resources
            .iter()
            .all(|r| r.state == ResourceState::Complete && r.cloud_id.is_some()),
        "{:?}",
        d.resources
    );
    for p in [
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

    // The control plane reports back; Flux installs the two components.
    h.put_back(&id, &kube.kubeconfig()).await;
    h.wait_for(&id, DeploymentStatus::Installing, 10).await;
    kube.set(
        "bp-cilium",
        Some(("Unknown", "Progressing", "Running 'install' action")),
    )
    .await;
    kube.set("bp-cert-manager", None).await;
    kube.set("bp-unrelated", Some(("True", "InstallSucceeded", "not ours")))
        .await;
    eventually(15, "cilium installing", || async {
        let d = h.engine.get(&h.actor, &id).await.expect("get");
        d.components
            .iter()
            .any(|c| c.id == "cilium" && c.state == ComponentPhase::Installing)
            .then_some(())
    })
    .await;
    kube.set(
        "bp-cilium",
        Some(("True", "InstallSucceeded", "Helm install succeeded")),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.status(&id).await,
        DeploymentStatus::Installing,
        "cert-manager is not installed yet"
    );
    kube.set(
        "bp-cert-manager",
        Some(("True", "InstallSucceeded", "Helm install succeeded")),
    )
    .await;
    h.wait_for(&id, DeploymentStatus::Ready, 15).await;

    let d = h.engine.get(&h.actor, &id).await.expect("get");
    assert_eq!(
        d.components.len(),
        2,
        "only the selected components: {:?}",
        d.components
    );
    assert!(d.components.iter().all(|c| c.state == ComponentPhase::Installed));
    assert!(
        d.phases
            .iter()
            .all(|p| p.state == PhaseState::Succeeded || p.phase == Phase::Gitops)
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
    assert!(
        events
            .iter()
            .any(|e| e.message == "OpenTofu has been successfully initialized!")
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::Component && e.component.as_deref() == Some("cert-manager"))
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

#[tokio::test]
async fn a_failed_apply_is_recorded_and_a_retry_succeeds() {
    let h = harness().await;
    let id = h
        .engine
        .create(&h.actor, request("fail-once.example.com"))
        .await
        .expect("created")
        .id;
    h.wait_for(&id, DeploymentStatus::Failed, 30).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let error = d.error.clone().expect("error recorded");
    assert_eq!(error.phase, Phase::TofuApply);
    assert_eq!(
        error.message,
        "error creating load balancer: server limit reached for project (resource_limit_exceeded)"
    );
    assert!(error.hint.contains("idempotent"), "{}", error.hint);
    assert_eq!(
        d.phase(Phase::TofuApply).expect("apply").state,
        PhaseState::Failed
    );
    assert!(d.resources.iter().any(|r| r.state == ResourceState::Errored));

    // Retrying anything but a failed deployment is refused; retrying this one re-runs from init.
    let retried = h
        .engine
        .retry(&h.actor, &id, RetryRequest::default())
        .await
        .expect("retry");
    assert!(retried.error.is_none());
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 30).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    assert_eq!(d.phase(Phase::TofuApply).expect("apply").attempts, 2);
    assert_eq!(
        d.phase(Phase::TofuInit).expect("init").attempts,
        2,
        "retry starts again at init"
    );
    let again = h
        .engine
        .retry(&h.actor, &id, RetryRequest::default())
        .await
        .expect_err("not failed");
    assert_eq!(again.status(), http::StatusCode::CONFLICT);
    // Retry used the decrypted token (never a placeholder).
    assert_eq!(h.tfvars(&id)["hcloud_token"], TOKEN);
}

#[tokio::test]
async fn cancel_stops_opentofu_and_wipe_removes_everything() {
    let h = harness().await;
    let id = h
        .engine
        .create(&h.actor, request("slow-cancel.example.com"))
        .await
        .expect("created")
        .id;
    eventually(30, "apply running", || async {
        let d = h.engine.get(&h.actor, &id).await.expect("get");
        (d.phase(Phase::TofuApply).map(|p| p.state) == Some(PhaseState::Running)).then_some(())
    })
    .await;
    let delete = h.engine.delete(&h.actor, &id).await.expect_err("in flight");
    assert_eq!(delete.status(), http::StatusCode::CONFLICT);
    let d = h.engine.cancel(&h.actor, &id).await.expect("cancel");
    assert_eq!(d.status, DeploymentStatus::Failed);
    let error = d.error.expect("error");
    assert_eq!(error.phase, Phase::TofuApply);
    assert!(
        error.message.starts_with("Cancelled by local-operator"),
        "{}",
        error.message
    );
    let pid_file = h.engine.config().work_root.join(&id).join(".catalyst-tofu.pid");
    assert!(!pid_file.exists(), "OpenTofu was stopped");

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
            .map(|m| m.contains("slow-cancel.example.com")),
        Some(true)
    );
    h.engine
        .wipe(
            &h.actor,
            &id,
            WipeRequest {
                confirm: "Slow-Cancel.example.com".into(),
                hetzner_token: None,
            },
        )
        .await
        .expect("wipe");
    h.wait_for(&id, DeploymentStatus::Wiped, 30).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let report = d.teardown.expect("teardown report");
    assert_eq!(report.removed.len(), 7, "{report:?}");
    assert!(
        report
            .removed
            .iter()
            .any(|r| r.kind == "server" && r.name == "hcloud_server.control_plane[0]")
    );
    assert!(
        !h.engine.config().work_root.join(&id).exists(),
        "work directory removed"
    );
    h.engine.delete(&h.actor, &id).await.expect("delete the record");
    let gone = h.engine.get(&h.actor, &id).await.expect_err("gone");
    assert_eq!(gone.status(), http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_component_failure_fails_the_deployment_and_a_component_retry_asks_flux_again() {
    let h = harness().await;
    let kube = KubeStandin::start();
    let id = h
        .engine
        .create(&h.actor, request("components.example.com"))
        .await
        .expect("created")
        .id;
    h.wait_for(&id, DeploymentStatus::WaitingForCluster, 30).await;
    kube.set("bp-cilium", Some(("True", "InstallSucceeded", "ok")))
        .await;
    kube.set(
        "bp-cert-manager",
        Some(("False", "InstallFailed", "context deadline exceeded")),
    )
    .await;
    // A late kubeconfig (after apply finished) still starts the watch.
    h.put_back(&id, &kube.kubeconfig()).await;
    h.wait_for(&id, DeploymentStatus::Failed, 20).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let error = d.error.expect("error");
    assert_eq!(error.phase, Phase::Components);
    assert!(error.message.contains("cert-manager"), "{}", error.message);
    h.engine
        .retry(
            &h.actor,
            &id,
            RetryRequest {
                phase: None,
                component: Some("cert-manager".into()),
            },
        )
        .await
        .expect("component retry");
    let patches = kube.patches().await;
    assert_eq!(patches[0]["name"], "bp-cert-manager");
    assert!(patches[0]["patch"]["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].is_string());
    h.wait_for(&id, DeploymentStatus::Installing, 10).await;
    kube.set("bp-cert-manager", Some(("True", "UpgradeSucceeded", "ok")))
        .await;
    h.wait_for(&id, DeploymentStatus::Ready, 15).await;
}

#[tokio::test]
async fn twenty_concurrent_deployments_keep_their_events_and_workdirs_apart() {
    let h = harness().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let id = h
            .engine
            .create(&h.actor, request(&format!("c{i}.example.com")))
            .await
            .expect("created")
            .id;
        ids.push((i, id));
    }
    for (_, id) in &ids {
        h.wait_for(id, DeploymentStatus::WaitingForCluster, 120).await;
    }
    for (i, id) in &ids {
        let vars = h.tfvars(id);
        assert_eq!(vars["deployment_id"], id.as_str());
        assert_eq!(vars["sovereign_fqdn"], format!("c{i}.example.com"));
        let plan =
            std::fs::read_to_string(h.engine.config().work_root.join(id).join("tfplan")).expect("plan");
        assert_eq!(plan, format!("plan for {id}"));
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

#[tokio::test]
async fn another_replica_takes_over_a_run_whose_lease_expired() {
    let db = common::sqlite().await;
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let key = SecretBox::generate();
    let a = harness_with(db.clone(), dir.clone(), key.clone(), "replica-a");
    let id = a
        .engine
        .create(&a.actor, request("slow-takeover.example.com"))
        .await
        .expect("created")
        .id;
    eventually(30, "apply running on a", || async {
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

    let b = harness_with(db, dir, key, "replica-b");
    b.engine.start();
    b.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    let d = b.engine.get(&b.actor, &id).await.expect("get");
    assert_eq!(
        d.phase(Phase::TofuApply).expect("apply").attempts,
        2,
        "resumed from init"
    );
    let events = b.all_events(&id).await;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=d.last_seq).collect::<Vec<_>>()
    );
    b.engine.shutdown().await;
}
