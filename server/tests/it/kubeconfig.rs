//! A Sovereign's kubeconfig is data, never instructions (issue 18 item 1): the strict rules with real
//! certificates (every refused field named; token and client-certificate kubeconfigs accepted, reduced, and
//! usable in memory against the stand-in API with CA pinning), an `exec` kubeconfig that never runs through
//! the whole run (PUT, components phase, component retry), and the bearers (per region, single use,
//! expiring with the cluster phase, new on a retry that re-creates the control plane), on both backends.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use app::deployments::{Actor, DeploymentStatus, RetryRequest};
use common::engine::{
    GitRepo, KubeStandin, eventually, helm_releases, module_dir, request, standin_tofu, userdata_bearer,
};
use server::crypto::SecretBox;
use server::db::Db;
use server::deployments::{Engine, EngineConfig};
use server::kube::kubeconfig::{self, Credential};

// --- the rules ---------------------------------------------------------------------------------------------

/// `good` with `from` replaced by `to` (once), checked to have changed.
fn edit(good: &str, from: &str, to: &str) -> String {
    assert!(good.contains(from), "{from:?} not in the kubeconfig");
    good.replacen(from, to, 1)
}

#[test]
fn every_refused_field_is_named() {
    let kube = KubeStandin::start();
    let other = KubeStandin::start();
    let good = kube.kubeconfig();
    let cert = kube.kubeconfig_cert();
    let user = "  user:\n    token:";
    let cluster = "  cluster:\n";
    let cases: Vec<(String, &str)> = vec![
        (
            edit(
                &good,
                user,
                "  user:\n    exec:\n      command: /bin/sh\n      args: [-c, 'id > /tmp/x']\n    token:",
            ),
            "users[0].user.exec",
        ),
        (
            edit(
                &good,
                user,
                "  user:\n    auth-provider:\n      name: gcp\n    token:",
            ),
            "users[0].user.auth-provider",
        ),
        (
            edit(&good, user, "  user:\n    tokenFile: /etc/shadow\n    token:"),
            "users[0].user.tokenFile",
        ),
        (
            edit(
                &good,
                user,
                "  user:\n    client-certificate: /etc/ssl/private/console.pem\n    token:",
            ),
            "users[0].user.client-certificate",
        ),
        (
            edit(
                &good,
                user,
                "  user:\n    client-key: /etc/ssl/private/console.key\n    token:",
            ),
            "users[0].user.client-key",
        ),
        (
            edit(&good, user, "  user:\n    username: admin\n    token:"),
            "users[0].user.username",
        ),
        (
            edit(&good, user, "  user:\n    as: system:admin\n    token:"),
            "users[0].user.as",
        ),
        (
            edit(
                &good,
                cluster,
                "  cluster:\n    certificate-authority: /var/lib/catalyst/secret.key\n",
            ),
            "clusters[0].cluster.certificate-authority",
        ),
        (
            edit(
                &good,
                cluster,
                "  cluster:\n    proxy-url: http://127.0.0.1:3128\n",
            ),
            "clusters[0].cluster.proxy-url",
        ),
        (
            edit(&good, cluster, "  cluster:\n    insecure-skip-tls-verify: true\n"),
            "clusters[0].cluster.insecure-skip-tls-verify",
        ),
        (
            edit(&good, cluster, "  cluster:\n    tls-server-name: evil.example\n"),
            "clusters[0].cluster.tls-server-name",
        ),
        (format!("{good}extensions: []\n"), "extensions"),
        (
            edit(
                &good,
                "contexts:\n",
                "contexts:\n- name: second\n  context:\n    cluster: sovereign\n    user: admin\n",
            ),
            "contexts",
        ),
        (
            edit(
                &good,
                "contexts:\n",
                &format!(
                    "- name: second\n  cluster:\n    server: {}\n    certificate-authority-data: x\ncontexts:\n",
                    kube.url
                ),
            ),
            "clusters",
        ),
        (
            format!("{good}- name: second\n  user:\n    token: another-token\n"),
            "users",
        ),
        (
            edit(
                &good,
                &format!("server: {}", kube.url),
                "server: https://192.0.2.10:6443",
            ),
            "clusters[0].cluster.server",
        ),
        (
            edit(&good, &format!("    server: {}\n", kube.url), ""),
            "clusters[0].cluster.server",
        ),
        (
            edit(
                &good,
                "    certificate-authority-data: ",
                "    certificate-authority-data: bm90IGEgY2VydA==\n    x-was: ",
            ),
            "clusters[0].cluster.x-was",
        ),
        (
            edit(
                &good,
                "    certificate-authority-data: ",
                "    certificate-authority-data: bm90IGEgY2VydA==\n#",
            ),
            "clusters[0].cluster.certificate-authority-data",
        ),
        (
            edit(&good, "    token: kube-admin-token-123456\n", ""),
            "users[0].user",
        ),
        (
            edit(
                &cert,
                "    client-key-data: ",
                "    token: both\n    client-key-data: ",
            ),
            "users[0].user.token",
        ),
        (
            {
                let key_line = cert
                    .lines()
                    .find(|l| l.trim_start().starts_with("client-key-data:"))
                    .expect("key line")
                    .to_string();
                edit(&cert, &format!("{key_line}\n"), "")
            },
            "users[0].user.client-key-data",
        ),
        (
            edit(&good, "    user: admin\n", "    user: somebody-else\n"),
            "contexts[0].context.user",
        ),
        (
            edit(&good, "current-context: sovereign", "current-context: other"),
            "current-context",
        ),
    ];
    for (yaml, field) in &cases {
        let e = kubeconfig::parse(yaml, &kube.url).expect_err(field);
        assert_eq!(e.field, *field, "{e}\n---\n{yaml}");
        assert!(!e.message.is_empty());
    }
    // The exec reason says what to send instead.
    let e = kubeconfig::parse(&cases[0].0, &kube.url).expect_err("exec");
    assert!(e.message.contains("never runs commands"), "{e}");
    // Another cluster's CA parses (it is a CA certificate) but is another trust root: see the client test.
    assert!(kubeconfig::parse(&other.kubeconfig().replace(&other.url, &kube.url), &kube.url).is_ok());
    // Garbage is refused without a field path of ours.
    assert!(kubeconfig::parse("- just\n- a list\n", &kube.url).is_err());
    assert!(kubeconfig::parse("", &kube.url).is_err());
}

#[tokio::test]
async fn token_and_certificate_kubeconfigs_are_accepted_reduced_and_used_in_memory() {
    let kube = KubeStandin::start();
    kube.set("bp-cilium", Some(("True", "InstallSucceeded", "ok")))
        .await;
    for (yaml, token) in [(kube.kubeconfig(), true), (kube.kubeconfig_cert(), false)] {
        let accepted = kubeconfig::parse(&yaml, &kube.url).expect("accepted");
        assert_eq!(accepted.server, kube.url);
        assert_eq!(matches!(accepted.credential, Credential::Token(_)), token);
        let reduced = kubeconfig::reduce(&accepted, "acme.example.com-fsn1");
        // Only our names and the accepted fields remain; the reduced form passes the rules again.
        assert!(
            reduced.contains("current-context: acme.example.com-fsn1"),
            "{reduced}"
        );
        assert!(
            !reduced.contains("name: sovereign") && !reduced.contains("name: default"),
            "{reduced}"
        );
        assert!(!reduced.contains("preferences"), "{reduced}");
        assert_eq!(
            reduced.contains("token: kube-admin-token-123456"),
            token,
            "{reduced}"
        );
        assert_eq!(reduced.contains("client-key-data: "), !token, "{reduced}");
        let again = kubeconfig::parse(&reduced, &kube.url).expect("the reduced form is accepted");
        assert_eq!(kubeconfig::reduce(&again, "acme.example.com-fsn1"), reduced);

        // The client built from these parts talks to the stand-in (its CA, this credential).
        let client = server::kube::helmwatch::client(&accepted).expect("client");
        server::kube::helmwatch::request_reconcile(client, "cilium", "2026-12-07T00:00:00Z")
            .await
            .expect("the stand-in accepts the client");
    }
    let patches = kube.patches().await;
    assert_eq!(patches.as_array().map(Vec::len), Some(2), "{patches}");

    // CA pinning: the same server and token with another cluster's CA does not connect, and what the
    // tenant would read is a fixed sentence.
    let other = KubeStandin::start();
    let foreign = other.kubeconfig().replace(&other.url, &kube.url);
    let accepted = kubeconfig::parse(&foreign, &kube.url).expect("shape accepted");
    let client = server::kube::helmwatch::client(&accepted).expect("client");
    let e = server::kube::helmwatch::request_reconcile(client, "cilium", "x")
        .await
        .expect_err("another CA's server certificate is refused");
    assert_eq!(
        e.sentence(),
        "The console cannot reach the cluster's API (connection failed or timed out).",
        "{e}"
    );
    assert!(!e.sentence().contains("127.0.0.1"));
}

// --- through the engine ------------------------------------------------------------------------------------

struct Run {
    engine: Engine,
    actor: Actor,
    dir: PathBuf,
    _git: GitRepo,
}

/// An engine on `db` provisioning through the stand-ins, every region's API address being `kube`'s.
fn engine(db: Db, kube: &KubeStandin, cluster_timeout: Duration) -> Run {
    let git = GitRepo::new();
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let mut cfg = EngineConfig::for_data_dir(&dir, common::repo_catalog().engine.clone());
    cfg.tofu_bin = standin_tofu();
    cfg.module_dir = module_dir();
    cfg.gitops = git.settings();
    let (k, v) = kube.tofu_env();
    cfg.tofu_env = vec![
        (k.to_string(), v),
        (
            "TOFU_STANDIN_USERDATA".into(),
            dir.join("userdata").display().to_string(),
        ),
        (
            "TOFU_STANDIN_LOG".into(),
            dir.join("tofu.log").display().to_string(),
        ),
    ];
    cfg.hetzner_api_url = "http://127.0.0.1:9/v1".into();
    cfg.poll = Duration::from_millis(100);
    cfg.lease_ttl = Duration::from_secs(2);
    // Many deployments in one organisation; the limits have their own tests.
    cfg.limits = server::db::deployments::CreateLimits::OFF;
    // The pre-flight of the create path has its own tests (it::preflight).
    cfg.preflight.on_create = false;
    cfg.cluster_timeout = cluster_timeout;
    cfg.install_timeout = Duration::from_secs(60);
    Run {
        engine: Engine::new(
            db,
            SecretBox::generate(),
            cfg,
            "replica-a".into(),
            common::create_checks(),
        ),
        actor: common::engine::owner(),
        dir,
        _git: git,
    }
}

impl Run {
    async fn status(&self, id: &str) -> DeploymentStatus {
        self.engine.get(&self.actor, id).await.expect("get").status
    }

    async fn wait_for(&self, id: &str, want: DeploymentStatus, secs: u64) {
        eventually(secs, &format!("{id} to become {want}"), || async {
            (self.status(id).await == want).then_some(())
        })
        .await
    }

    fn bearer(&self, id: &str, region: &str) -> String {
        userdata_bearer(&self.dir.join("userdata"), id, region).expect("a control plane got user data")
    }

    async fn put(
        &self,
        id: &str,
        region: Option<&str>,
        bearer: &str,
        yaml: &str,
    ) -> Result<(), server::deployments::kubeconfig::PutError> {
        self.engine
            .receive_kubeconfig(id, region, Some(&format!("Bearer {bearer}")), yaml.as_bytes())
            .await
    }

    /// The `-replace=` arguments of every `apply` the stand-in saw.
    fn replaced(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.dir.join("tofu.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|c| c["argv"][0] == "apply")
            .map(|c| {
                c["argv"]
                    .as_array()
                    .expect("argv")
                    .iter()
                    .filter_map(|a| a.as_str())
                    .filter(|a| a.starts_with("-replace="))
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }
}

fn assert_absent(marker: &Path, when: &str) {
    assert!(
        !marker.exists(),
        "{when}: the kubeconfig's exec command ran on the console ({})",
        std::fs::read_to_string(marker).unwrap_or_default()
    );
}

async fn an_exec_kubeconfig_is_refused_and_never_runs(db: Db) {
    let kube = KubeStandin::start();
    let run = engine(db, &kube, Duration::from_secs(60));
    let fqdn = "exec.example.com";
    let id = run
        .engine
        .create(&run.actor, request(fqdn))
        .await
        .expect("created")
        .id;
    run.wait_for(&id, DeploymentStatus::WaitingForCluster, 90).await;
    let bearer = run.bearer(&id, "fsn1");
    let marker = run.dir.join("exec-marker");
    let exec = kube.kubeconfig().replace(
        "  user:\n    token: kube-admin-token-123456\n",
        &format!(
            "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [\"-c\", \"id > {}\"]\n",
            marker.display()
        ),
    );
    assert!(exec.contains("exec:"));
    let e = run.put(&id, None, &bearer, &exec).await.expect_err("refused");
    assert_eq!(e.status, http::StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e.field.as_deref(), Some("users[0].user.exec"), "{e:?}");
    assert_absent(&marker, "after the PUT");
    assert_eq!(run.status(&id).await, DeploymentStatus::WaitingForCluster);

    // The control plane's real kubeconfig (client certificate, as k3s writes it) is then accepted with
    // the same bearer: a refusal does not use it up.
    run.put(&id, None, &bearer, &kube.kubeconfig_cert())
        .await
        .expect("accepted");
    run.wait_for(&id, DeploymentStatus::Installing, 30).await;
    let stored = server::deployments::kubeconfig::load(&run.engine, &id, "fsn1")
        .await
        .expect("load")
        .expect("stored");
    assert!(
        !stored.contains("exec:") && !stored.contains("command") && stored.contains("client-key-data"),
        "{stored}"
    );

    // Components phase: one component fails; the watch talked to the cluster with the stored credentials.
    let components = helm_releases(&request(fqdn).request.components);
    let (failing, fine) = components.split_last().expect("components");
    for c in fine {
        kube.set(&format!("bp-{c}"), Some(("True", "InstallSucceeded", "ok")))
            .await;
    }
    kube.set(&format!("bp-{failing}"), Some(("False", "InstallFailed", "boom")))
        .await;
    run.wait_for(&id, DeploymentStatus::Failed, 30).await;
    assert_absent(&marker, "after the components phase");

    // A component retry reaches the cluster through the same in-memory client.
    run.engine
        .retry(
            &run.actor,
            &id,
            RetryRequest {
                phase: None,
                component: Some(failing.clone()),
            },
        )
        .await
        .expect("component retry");
    kube.set(&format!("bp-{failing}"), Some(("True", "InstallSucceeded", "ok")))
        .await;
    run.wait_for(&id, DeploymentStatus::Ready, 30).await;
    assert_absent(&marker, "after a component retry");
    let events = run
        .engine
        .events(&run.actor, &id, 0, Some(1000))
        .await
        .expect("events")
        .events;
    assert!(!events.iter().any(|e| e.message.contains("uid=")));
}

async fn bearers_are_per_region_single_use_expire_and_are_new_on_retry(db: Db) {
    let kube = KubeStandin::start();
    // A short cluster phase: the second region never reports back within it.
    let run = engine(db, &kube, Duration::from_secs(8));
    let mut body = request("two.example.com");
    body.request.topology = app::cloud::Topology::Dual;
    let mut second = body.request.regions[0].clone();
    second.cloud_region = "hel1".into();
    body.request.regions.push(second);
    let id = run.engine.create(&run.actor, body).await.expect("created").id;
    run.wait_for(&id, DeploymentStatus::WaitingForCluster, 90).await;
    let fsn1 = run.bearer(&id, "fsn1");
    let hel1 = run.bearer(&id, "hel1");
    assert_ne!(fsn1, hel1, "one bearer per region");
    assert!(!fsn1.contains(&id) && fsn1.len() >= 32);
    let yaml = kube.kubeconfig();

    // Per region: hel1's bearer does not deliver fsn1's kubeconfig.
    let e = run.put(&id, None, &hel1, &yaml).await.expect_err("wrong region");
    assert_eq!((e.status.as_u16(), e.code), (403, "invalid-bearer"));
    run.put(&id, None, &fsn1, &yaml).await.expect("fsn1 accepted");
    // Single use.
    let e = run.put(&id, None, &fsn1, &yaml).await.expect_err("used");
    assert_eq!((e.status.as_u16(), e.code), (409, "already-set"));

    // hel1 never reports back: the cluster phase fails after --cluster-timeout and its bearer expires.
    run.wait_for(&id, DeploymentStatus::Failed, 60).await;
    let d = run.engine.get(&run.actor, &id).await.expect("get");
    assert!(d.error.expect("error").message.contains("hel1"));
    let e = run
        .put(&id, Some("hel1"), &hel1, &yaml)
        .await
        .expect_err("expired");
    assert_eq!((e.status.as_u16(), e.code), (410, "bearer-expired"));

    // A retry of the cluster phase issues hel1 a new bearer and re-creates its control plane with it
    // (fsn1 delivered: no new bearer, its servers stay).
    run.engine
        .retry(
            &run.actor,
            &id,
            RetryRequest {
                phase: Some("cluster".into()),
                component: None,
            },
        )
        .await
        .expect("retry");
    let new_hel1 = eventually(90, "a new hel1 bearer", || async {
        userdata_bearer(&run.dir.join("userdata"), &id, "hel1").filter(|b| *b != hel1)
    })
    .await;
    assert_eq!(
        run.bearer(&id, "fsn1"),
        fsn1,
        "fsn1's control plane was not re-created"
    );
    run.wait_for(&id, DeploymentStatus::WaitingForCluster, 60).await;
    let replaced = run.replaced();
    assert_eq!(
        replaced.first(),
        Some(&Vec::new()),
        "the first apply replaces nothing"
    );
    assert_eq!(
        replaced.last(),
        Some(&vec![
            "-replace=hcloud_server.control_plane[\"hel1-cp1\"]".to_string()
        ]),
        "{replaced:?}"
    );
    let e = run
        .put(&id, Some("hel1"), &hel1, &yaml)
        .await
        .expect_err("the old bearer is gone");
    assert_eq!((e.status.as_u16(), e.code), (403, "invalid-bearer"));
    run.put(&id, Some("hel1"), &new_hel1, &yaml)
        .await
        .expect("the new bearer delivers");
    run.wait_for(&id, DeploymentStatus::Installing, 30).await;
}

on_both_backends!(
    an_exec_kubeconfig_is_refused_and_never_runs,
    bearers_are_per_region_single_use_expire_and_are_new_on_retry,
);
