//! One GitOps repository and one read-only deploy key per Sovereign, end to end through the engine (issue 18
//! item 5; SECURITY.md "GitOps isolation"): a console with a forge (`GitopsSettings::forge`) provisions
//! against the Gitea API stand-in (`tests/standins/forge.py`, whose repositories are real bare repositories
//! served by `tests/standins/git_http.py`), the `tofu` stand-in (which logs the SHA-256 of every `TF_VAR_*`
//! it got and writes what each first control plane's cloud-init applies) and, for the wipe, the Hetzner API
//! stand-in. The console is also given a shared repository and a shared pull token, as a decoy: a forge
//! must win, and neither may reach a Sovereign. Every test runs on SQLite and on Postgres.

use crate::common;

use std::path::Path;

use app::deployments::{Actor, DeploymentStatus, Phase, RetryRequest, Secret, WipeRequest};
use common::engine::{GitRepo, HetznerStandin, eventually, request, template_dir};
use serde_json::json;
use server::crypto::{SecretBox, sha256_hex};
use server::db::Db;
use server::deployments::Engine;
use server::deployments::phases::gitops::load_deploy_key;
use server::gitops::config::{ForgeSettings, GitopsSettings};

use crate::forge_repos::{ORG, Stand, TOKEN, files, stand};

on_both_backends!(
    two_sovereigns_get_two_repositories_two_keys_and_nothing_shared,
    wipe_deletes_the_sovereigns_repository_and_its_key,
    a_forge_refusal_fails_the_run_before_anything_is_created_and_a_retry_goes_on,
);

/// The shared pull token of the decoy shared repository: it must reach no Sovereign.
const PULL_TOKEN: &str = "shared-pull-token-never-for-a-sovereign-77";
const KNOWN_HOSTS: &str =
    "forge.invalid ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

struct Harness {
    engine: Engine,
    actor: Actor,
    dir: std::path::PathBuf,
    forge: Stand,
    /// The decoy shared repository.
    shared: GitRepo,
    _hetzner: Option<HetznerStandin>,
}

async fn harness(db: Db, hetzner: Option<HetznerStandin>) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir").keep();
    let forge = stand();
    let shared = GitRepo::new();
    let log = dir.join("tofu.log");
    let log = log.display().to_string();
    let mut cfg = crate::engine::config(&dir, None, &[("TOFU_STANDIN_LOG", &log)]);
    let mut decoy = shared.settings().remote.expect("remote");
    decoy.token = Some(Secret::new("shared-push-token-never-for-a-sovereign"));
    cfg.gitops = GitopsSettings {
        remote: Some(decoy),
        pull_token: Some(Secret::new(PULL_TOKEN)),
        forge: Some(ForgeSettings {
            url: forge.forge.url.clone(),
            org: ORG.into(),
            token: Secret::new(TOKEN),
            known_hosts: KNOWN_HOSTS.into(),
        }),
        template_dir: template_dir(),
        ..GitopsSettings::default()
    };
    if let Some(h) = &hetzner {
        cfg.hetzner_api_url = h.url.clone();
    }
    let engine = Engine::new(
        db,
        SecretBox::generate(),
        cfg,
        "replica-a".into(),
        common::create_checks(),
    );
    Harness {
        engine,
        actor: common::engine::owner(),
        dir,
        forge,
        shared,
        _hetzner: hetzner,
    }
}

impl Harness {
    async fn create(&self, fqdn: &str) -> String {
        self.engine
            .create(&self.actor, request(fqdn))
            .await
            .expect("created")
            .id
    }

    async fn wait_for(&self, id: &str, want: DeploymentStatus) {
        eventually(90, &format!("{id} to become {want}"), || async {
            let s = self.engine.get(&self.actor, id).await.expect("get").status;
            (s == want).then_some(())
        })
        .await
    }

    /// Everything a tenant can read through the API about a deployment: the record and every event.
    async fn api_text(&self, id: &str) -> String {
        let d = self.engine.get(&self.actor, id).await.expect("get");
        let events = self
            .engine
            .events(&self.actor, id, 0, Some(1000))
            .await
            .expect("events");
        format!(
            "{}\n{}",
            serde_json::to_string(&d).expect("json"),
            serde_json::to_string(&events.events).expect("json")
        )
    }

    /// The `tofu` stand-in's log lines of one deployment's work directory.
    fn tofu_calls(&self, id: &str) -> Vec<serde_json::Value> {
        let workdir = self.engine.config().work_root.join(id);
        let Ok(text) = std::fs::read_to_string(self.dir.join("tofu.log")) else {
            return Vec::new();
        };
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json line"))
            .filter(|v| v["cwd"].as_str().map(Path::new) == Some(workdir.as_path()))
            .collect()
    }

    /// What the Sovereign's first control plane applies from its user data (Flux objects and Secrets).
    fn cloud_init(&self, id: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join("userdata").join(id).join("fsn1.json"))
            .expect("a control plane was created");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        format!(
            "{}\n---\n{}",
            v["flux_bootstrap"].as_str().expect("flux_bootstrap"),
            v["cluster_secrets"].as_str().expect("cluster_secrets")
        )
    }

    fn bare_repo(&self, fqdn: &str) -> std::path::PathBuf {
        self.forge
            .dir
            .path()
            .join(ORG)
            .join(format!("sovereign-{fqdn}.git"))
    }
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// A distinctive line of an OpenSSH private key (its random body), to look for in text.
fn key_body(private_key: &str) -> String {
    private_key
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .nth(1)
        .expect("a key body line")
        .to_string()
}

/// The `gitops-auth` Secret of a cloud-init text: its data, decoded.
fn gitops_auth(cloud_init: &str) -> std::collections::BTreeMap<String, String> {
    use base64::Engine as _;
    for doc in cloud_init.split("\n---\n") {
        let Ok(v) = serde_norway::from_str::<serde_json::Value>(doc) else {
            continue;
        };
        if v["kind"] == "Secret" && v["metadata"]["name"] == "gitops-auth" {
            return v["data"]
                .as_object()
                .expect("data")
                .iter()
                .map(|(k, v)| {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(v.as_str().expect("string"))
                        .expect("base64");
                    (k.clone(), String::from_utf8(raw).expect("utf-8"))
                })
                .collect();
        }
    }
    panic!("no gitops-auth Secret in {cloud_init}");
}

async fn two_sovereigns_get_two_repositories_two_keys_and_nothing_shared(db: Db) {
    let h = harness(db, None).await;
    let a = h.create("alpha.example.com").await;
    let b = h.create("beta.example.com").await;
    h.wait_for(&a, DeploymentStatus::WaitingForCluster).await;
    h.wait_for(&b, DeploymentStatus::WaitingForCluster).await;

    // Each deployment sealed its own key; the forge has two repositories, each with only its own key, read-only.
    let key_a = load_deploy_key(&h.engine, &a)
        .await
        .expect("readable")
        .expect("sealed key");
    let key_b = load_deploy_key(&h.engine, &b)
        .await
        .expect("readable")
        .expect("sealed key");
    assert_ne!(key_a.private_key.expose(), key_b.private_key.expose());
    let public = |k: &Secret| {
        let p = ssh_key::PrivateKey::from_openssh(k.expose()).expect("OpenSSH key");
        p.public_key().to_openssh().expect("public")
    };
    let state = h.forge.state().await;
    assert_eq!(
        state["repos"],
        json!([
            format!("{ORG}/sovereign-alpha.example.com"),
            format!("{ORG}/sovereign-beta.example.com")
        ])
    );
    for (fqdn, key) in [("alpha.example.com", &key_a), ("beta.example.com", &key_b)] {
        let keys = state["keys"][format!("{ORG}/sovereign-{fqdn}")]
            .as_array()
            .expect("keys");
        assert_eq!(keys.len(), 1, "{fqdn}: {keys:?}");
        assert_eq!(keys[0]["read_only"], true, "{fqdn}");
        assert_eq!(
            keys[0]["key"]
                .as_str()
                .map(|k| k.split_whitespace().take(2).collect::<Vec<_>>()),
            Some(public(&key.private_key).split_whitespace().take(2).collect()),
            "{fqdn}: the sealed key is the one registered on its own repository"
        );
        assert_eq!(
            key.ssh_url,
            format!("ssh://git@forge.invalid/{ORG}/sovereign-{fqdn}.git")
        );
    }

    // Each tree went into its own repository only; the shared repository got nothing.
    let files_a = files(&h.bare_repo("alpha.example.com"));
    let files_b = files(&h.bare_repo("beta.example.com"));
    assert!(
        files_a
            .iter()
            .any(|f| f == "clusters/alpha.example.com/kustomization.yaml"),
        "{files_a:?}"
    );
    assert!(
        files_a
            .iter()
            .all(|f| f.starts_with("clusters/alpha.example.com/")),
        "{files_a:?}"
    );
    assert!(
        files_b
            .iter()
            .all(|f| f.starts_with("clusters/beta.example.com/")),
        "{files_b:?}"
    );
    assert!(!files_b.is_empty());
    assert_eq!(
        h.shared.commits(),
        0,
        "the shared repository is not used with a forge"
    );

    let push_token = "shared-push-token-never-for-a-sovereign";
    for (id, own, other) in [(&a, &key_a, &key_b), (&b, &key_b, &key_a)] {
        // The variables file: the Sovereign's own repository over SSH, no secret at all.
        let workdir = h.engine.config().work_root.join(id);
        let tfvars = std::fs::read_to_string(workdir.join("tofu.auto.tfvars.json")).expect("tfvars");
        let vars: serde_json::Value = serde_json::from_str(&tfvars).expect("json");
        assert_eq!(vars["gitops_repo_url"], json!(own.ssh_url));
        assert_eq!(
            vars["gitops_ssh_known_hosts"].as_str().map(str::trim),
            Some(KNOWN_HOSTS.trim())
        );
        for secret in [
            TOKEN,
            PULL_TOKEN,
            push_token,
            own.private_key.expose(),
            other.private_key.expose(),
        ] {
            assert!(
                !tfvars.contains(secret),
                "{id}: the variables file holds a secret"
            );
        }
        assert!(!tfvars.contains(&key_body(own.private_key.expose())));

        // OpenTofu's environment: its own key, no shared token, never the forge token or the other key.
        let calls = h.tofu_calls(id);
        assert!(calls.iter().any(|c| c["argv"][0] == "apply"), "{id}: {calls:?}");
        for call in &calls {
            let vars = &call["tf_var_sha256"];
            assert_eq!(
                vars["gitops_ssh_private_key"],
                json!(sha256_hex(own.private_key.expose()))
            );
            assert_eq!(vars["gitops_token"], json!(sha256_hex("")), "{id}: no pull token");
            for forbidden in [TOKEN, PULL_TOKEN, push_token, other.private_key.expose()] {
                let digest = json!(sha256_hex(forbidden));
                assert!(
                    vars.as_object().expect("map").values().all(|v| *v != digest),
                    "{id}: a forbidden value reached OpenTofu's environment"
                );
            }
        }

        // Cloud-init: Flux pulls its own repository with its own key and the forge's host keys.
        let cloud_init = h.cloud_init(id);
        assert!(cloud_init.contains(own.ssh_url.as_str()), "{cloud_init}");
        assert!(!cloud_init.contains(&other.ssh_url), "{cloud_init}");
        assert!(!cloud_init.contains(&h.shared.url), "{cloud_init}");
        let auth = gitops_auth(&cloud_init);
        assert_eq!(auth.keys().collect::<Vec<_>>(), ["identity", "known_hosts"]);
        assert_eq!(auth["identity"], own.private_key.expose());
        assert_eq!(auth["known_hosts"].trim(), KNOWN_HOSTS.trim());
        for secret in [TOKEN, PULL_TOKEN, push_token, other.private_key.expose()] {
            assert!(
                !cloud_init.contains(secret) && !cloud_init.contains(&b64(secret)),
                "{id}: cloud-init holds a foreign secret"
            );
        }

        // Nothing a tenant reads through the API carries a token or a key.
        let api = h.api_text(id).await;
        assert!(
            api.contains(&format!("{ORG}/sovereign-")),
            "the events name the repository"
        );
        for secret in [
            TOKEN,
            PULL_TOKEN,
            push_token,
            own.private_key.expose(),
            other.private_key.expose(),
        ] {
            assert!(!api.contains(secret), "{id}: the API answer holds a secret");
        }
        assert!(!api.contains(&key_body(own.private_key.expose())));
        assert!(!api.contains(&key_body(other.private_key.expose())));
    }
}

async fn wipe_deletes_the_sovereigns_repository_and_its_key(db: Db) {
    let h = harness(db, Some(HetznerStandin::start(json!({})))).await;
    let a = h.create("alpha.example.com").await;
    let b = h.create("beta.example.com").await;
    h.wait_for(&a, DeploymentStatus::WaitingForCluster).await;
    h.wait_for(&b, DeploymentStatus::WaitingForCluster).await;
    assert!(h.bare_repo("alpha.example.com").exists());
    h.engine.cancel(&h.actor, &a).await.expect("cancel");
    h.engine
        .wipe(
            &h.actor,
            &a,
            WipeRequest {
                confirm: "alpha.example.com".into(),
                hetzner_token: None,
            },
        )
        .await
        .expect("wipe accepted");
    h.wait_for(&a, DeploymentStatus::Wiped).await;

    let d = h.engine.get(&h.actor, &a).await.expect("get");
    let report = d.teardown.expect("teardown report");
    assert!(report.remaining.is_empty(), "{report:?}");
    let repo = format!("{ORG}/sovereign-alpha.example.com");
    assert!(
        report
            .removed
            .iter()
            .any(|r| r.kind == "gitops_repository" && r.name == repo),
        "the report says the repository went: {report:?}"
    );
    let state = h.forge.state().await;
    assert_eq!(
        state["repos"],
        json!([format!("{ORG}/sovereign-beta.example.com")])
    );
    assert!(state["keys"].get(&repo).is_none(), "its key went with it");
    assert!(!h.bare_repo("alpha.example.com").exists());
    assert_eq!(
        state["keys"][format!("{ORG}/sovereign-beta.example.com")]
            .as_array()
            .map(Vec::len),
        Some(1),
        "the other Sovereign keeps its repository and key"
    );
    assert!(
        load_deploy_key(&h.engine, &a).await.expect("readable").is_none(),
        "the sealed key is gone"
    );
    assert!(load_deploy_key(&h.engine, &b).await.expect("readable").is_some());
    let api = h.api_text(&a).await;
    assert!(
        api.contains(&format!("Deleted the GitOps repository {repo}")),
        "{api}"
    );
    assert!(!api.contains(TOKEN));
}

async fn a_forge_refusal_fails_the_run_before_anything_is_created_and_a_retry_goes_on(db: Db) {
    let h = harness(db, None).await;
    // The forge's next answer: a 500 whose message is long, multi-line and echoes the token.
    reqwest::Client::new()
        .post(format!("{}/__standin/fail", h.forge.forge.url))
        .json(&json!({"status": 500, "message": format!("database is down {TOKEN}\n{}", "x".repeat(5000))}))
        .send()
        .await
        .expect("arm the fault");
    let id = h.create("alpha.example.com").await;
    h.wait_for(&id, DeploymentStatus::Failed).await;
    let d = h.engine.get(&h.actor, &id).await.expect("get");
    let error = d.error.clone().expect("error");
    assert_eq!(error.phase, Phase::Gitops);
    assert!(error.message.contains("forge"), "{}", error.message);
    assert!(error.message.contains("HTTP 500"), "{}", error.message);
    assert!(!error.message.contains('\n'), "{}", error.message);
    assert!(
        error.message.chars().count() < 400,
        "{} chars",
        error.message.chars().count()
    );
    assert!(error.hint.contains("--gitops-forge-url"), "{}", error.hint);
    assert!(
        error.hint.contains("Nothing was created in the cloud"),
        "{}",
        error.hint
    );
    assert!(!h.api_text(&id).await.contains(TOKEN));
    // Nothing was created: OpenTofu never ran, no resource, no repository, nothing pushed anywhere.
    assert!(h.tofu_calls(&id).is_empty(), "{:?}", h.tofu_calls(&id));
    assert!(d.resources.is_empty(), "{:?}", d.resources);
    assert_eq!(h.forge.state().await["repos"], json!([]));
    assert_eq!(h.shared.commits(), 0);
    let sealed = load_deploy_key(&h.engine, &id)
        .await
        .expect("readable")
        .expect("made before the forge was asked");

    // The forge answers again: a retry makes the repository and goes on to OpenTofu.
    h.engine
        .retry(
            &h.actor,
            &id,
            RetryRequest {
                phase: None,
                component: None,
            },
        )
        .await
        .expect("retry accepted");
    h.wait_for(&id, DeploymentStatus::WaitingForCluster).await;
    assert_eq!(
        h.forge.state().await["repos"],
        json!([format!("{ORG}/sovereign-alpha.example.com")])
    );
    assert!(h.tofu_calls(&id).iter().any(|c| c["argv"][0] == "apply"));
    // One key per deployment: the retry registered the key sealed before, not a new one.
    let after = load_deploy_key(&h.engine, &id)
        .await
        .expect("readable")
        .expect("sealed key");
    assert_eq!(after.private_key.expose(), sealed.private_key.expose());
    let registered = h.forge.state().await["keys"][format!("{ORG}/sovereign-alpha.example.com")][0]["key"]
        .as_str()
        .map(|k| k.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    let public = ssh_key::PrivateKey::from_openssh(sealed.private_key.expose())
        .expect("key")
        .public_key()
        .to_openssh()
        .expect("public");
    assert_eq!(
        registered,
        Some(public.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
    );
}
