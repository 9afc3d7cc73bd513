//! Engine test support: the `tofu` stand-in (`tests/standins/tofu`), the Hetzner API stand-in
//! (`tests/standins/hetzner.py`), the stand-in Kubernetes API (`tests/standins/kube.py`), a real bare Git
//! repository for the GitOps push, and a valid provisioning request.
//!
//! The `tofu` stand-in's behaviour is switched by `TOFU_STANDIN_*` variables (see `tests/standins/README.md`);
//! tests hand them to one engine through `EngineConfig::tofu_env`, so engines in the same test process can
//! behave differently.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::cloud::{Provider, Topology};
use app::deployments::{
    CreateDeployment, DeploymentRequest, DeploymentSecrets, DomainMode, DomainSpec, Industry, OrgProfile,
    OrgSize, RegionSpec, Secret,
};
use server::gitops::GitRemote;
use server::gitops::config::GitopsSettings;

/// A Hetzner API token (64 characters, as Hetzner issues them).
pub const TOKEN: &str = "hcloudtokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllMMMMnn";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `tofu` stand-in (also what `scripts/test.sh` runs the browser tests with).
pub fn standin_tofu() -> PathBuf {
    repo_root().join("tests/standins/tofu")
}

/// The repository's `infra/hetzner` module.
pub fn module_dir() -> PathBuf {
    repo_root().join("infra/hetzner")
}

/// The repository's `clusters/_template`.
pub fn template_dir() -> PathBuf {
    repo_root().join("clusters/_template")
}

/// The catalog's mandatory components: the smallest valid selection.
pub fn mandatory_components() -> Vec<String> {
    let catalog = super::repo_catalog().engine.clone();
    catalog.selection_ids(&catalog.mandatory_selection())
}

/// The HelmReleases (`bp-<id>`) Flux installs for `components`: catalog ids with a chart, dependencies
/// included, bootstrap-provided ones (Flux) left out.
pub fn helm_releases(components: &[String]) -> Vec<String> {
    server::deployments::phases::gitops::helm_releases_for(&super::repo_catalog().engine, components)
        .expect("known components")
}

/// A valid request for `fqdn` (a BYO domain, so any name works) with the catalog's mandatory components.
pub fn request(fqdn: &str) -> CreateDeployment {
    CreateDeployment {
        org_id: None,
        request: DeploymentRequest {
            org: OrgProfile {
                name: "Acme Sovereign".into(),
                headquarters: "Muscat".into(),
                industry: Industry::Telecommunications,
                size: OrgSize::From500To2000,
                compliance: vec![],
            },
            topology: Topology::Solo,
            ha_enabled: false,
            airgap: false,
            regions: vec![RegionSpec {
                provider: Provider::Hetzner,
                cloud_region: "fsn1".into(),
                control_plane_size: "cpx32".into(),
                worker_size: "cpx42".into(),
                worker_count: 1,
                airgap: false,
            }],
            hetzner_project_id: "1234567".into(),
            ssh_public_key:
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIJqkUdW0kITcizpA/hK0ctsNltkludKjpEl7vyqQir ops@acme"
                    .into(),
            components: mandatory_components(),
            domain: DomainSpec {
                mode: DomainMode::ByoManual,
                pool_domain: String::new(),
                subdomain: String::new(),
                byo_domain: fqdn.into(),
                registrar: None,
            },
            admin_email: "ops@acme.example".into(),
        },
        secrets: DeploymentSecrets {
            hetzner_token: Secret::new(TOKEN),
            registrar_token: None,
        },
        acknowledged_warnings: Vec::new(),
    }
}

/// The organisation engine-level tests act in.
pub const ORG: &str = "org-acme";

/// A caller who is a member of `org` with `role` (engine-level tests; HTTP tests sign in for real).
pub fn member(org: &str, role: app::auth::OrgRole) -> app::deployments::Actor {
    app::deployments::Actor::new(
        app::auth::Principal {
            user_id: format!("user-{}-{}", role.as_str(), org),
            email: format!("{}@acme.example", role.as_str()),
            display_name: String::new(),
            platform_role: None,
            memberships: vec![app::auth::Membership {
                org_id: org.into(),
                org_slug: org.into(),
                org_name: org.into(),
                role,
            }],
            credential: app::auth::Credential::Session { id: "test".into() },
            has_password: true,
        },
        app::auth::RequestMeta::default(),
    )
}

/// An owner of [`ORG`].
pub fn owner() -> app::deployments::Actor {
    member(ORG, app::auth::OrgRole::Owner)
}

/// A real bare Git repository (file://) that the GitOps step pushes to; removed on drop.
pub struct GitRepo {
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl GitRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        git2::Repository::init_bare(dir.path()).expect("git init --bare");
        let url = format!("file://{}", dir.path().display());
        Self { dir, url }
    }

    /// GitOps settings pushing here, rendering from the repository's template.
    pub fn settings(&self) -> GitopsSettings {
        let mut remote = GitRemote::new(&self.url, "main", None);
        remote.author_name = "Catalyst Test".into();
        remote.author_email = "test@catalyst.invalid".into();
        GitopsSettings {
            remote: Some(remote),
            template_dir: template_dir(),
            ..GitopsSettings::default()
        }
    }

    /// Every file under `prefix` on `main`, path relative to `prefix` → content.
    pub fn files_under(&self, prefix: &str) -> std::collections::BTreeMap<String, String> {
        let repo = git2::Repository::open_bare(self.dir.path()).expect("open");
        let mut out = std::collections::BTreeMap::new();
        let Ok(reference) = repo.find_reference("refs/heads/main") else {
            return out;
        };
        let tree = reference.peel_to_commit().expect("commit").tree().expect("tree");
        tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            let path = format!("{root}{}", entry.name().unwrap_or_default());
            if let Some(rel) = path.strip_prefix(&format!("{prefix}/"))
                && entry.kind() == Some(git2::ObjectType::Blob)
            {
                let blob = repo.find_blob(entry.id()).expect("blob");
                out.insert(
                    rel.to_string(),
                    String::from_utf8_lossy(blob.content()).into_owned(),
                );
            }
            git2::TreeWalkResult::Ok
        })
        .expect("walk");
        out
    }

    /// Commits on `main`.
    pub fn commits(&self) -> usize {
        let repo = git2::Repository::open_bare(self.dir.path()).expect("open");
        let Ok(mut walk) = repo.revwalk() else { return 0 };
        if walk.push_ref("refs/heads/main").is_err() {
            return 0;
        }
        walk.count()
    }
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// The Hetzner Cloud API stand-in, stopped on drop.
pub struct HetznerStandin {
    child: Child,
    /// `http://127.0.0.1:<port>/v1`
    pub url: String,
    _seed: tempfile::NamedTempFile,
}

/// A read-only token of the stand-in's project ([`HetznerStandin::start_with`] accepts it for reads).
pub const READONLY_TOKEN: &str = "hcloudreadonlyAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllMMMM";

impl HetznerStandin {
    /// Starts it with `seed` (collection → items in API shape), accepting [`TOKEN`].
    pub fn start(seed: serde_json::Value) -> Self {
        Self::start_with(seed, &[])
    }

    /// [`Self::start`] with more of the stand-in's switches (`--unavailable cpx32@hel1`, `--deprecated …`);
    /// [`READONLY_TOKEN`] is accepted for reads.
    pub fn start_with(seed: serde_json::Value, args: &[&str]) -> Self {
        let seed_file = tempfile::NamedTempFile::new().expect("seed file");
        std::fs::write(seed_file.path(), seed.to_string()).expect("write seed");
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/standins/hetzner.py"))
            .args([
                "--port",
                "0",
                "--token",
                TOKEN,
                "--readonly-token",
                READONLY_TOKEN,
            ])
            .args(args)
            .arg("--seed")
            .arg(seed_file.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the Hetzner stand-in");
        let url = first_line_url(&mut child);
        Self {
            child,
            url,
            _seed: seed_file,
        }
    }

    /// The API requests answered so far, `(method, path)`, in order.
    pub async fn requests(&self) -> Vec<(String, String)> {
        let base = self.url.trim_end_matches("/v1");
        let list: Vec<serde_json::Value> = reqwest::get(format!("{base}/__standin/requests"))
            .await
            .expect("stand-in answers")
            .json()
            .await
            .expect("json");
        list.iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_string(),
                    r["path"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Forgets the requests answered so far.
    pub async fn clear_requests(&self) {
        let base = self.url.trim_end_matches("/v1");
        reqwest::Client::new()
            .delete(format!("{base}/__standin/requests"))
            .send()
            .await
            .expect("stand-in answers");
    }

    /// The next `times` requests of `path` (`/v1/server_types`) fail with `status` and Hetzner's `code`.
    pub async fn fail_next(&self, path: &str, times: u32, status: u16, code: &str) {
        let base = self.url.trim_end_matches("/v1");
        reqwest::Client::new()
            .post(format!("{base}/__standin/faults"))
            .json(&serde_json::json!({"path": path, "times": times, "status": status, "code": code}))
            .send()
            .await
            .expect("stand-in answers");
    }

    /// Everything the stand-in holds now, collection → items.
    pub async fn state(&self) -> serde_json::Value {
        let base = self.url.trim_end_matches("/v1");
        reqwest::get(format!("{base}/__standin/state"))
            .await
            .expect("stand-in answers")
            .json()
            .await
            .expect("json")
    }
}

impl Drop for HetznerStandin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn first_line_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string()
}

/// The stand-in Kubernetes API server (HTTPS with its own CA, a client certificate or [`KUBE_TOKEN`]
/// required), stopped on drop.
pub struct KubeStandin {
    child: Child,
    /// `https://127.0.0.1:<port>`: what the `tofu` stand-in reports as every region's API address when
    /// given [`KubeStandin::tofu_env`].
    pub url: String,
    /// The CA, the client certificate and its key (PEM).
    pub ca_pem: String,
    pub client_pem: String,
    pub client_key_pem: String,
    http: reqwest::Client,
    _tls: tempfile::TempDir,
}

/// The bearer token the stand-in Kubernetes API accepts.
pub const KUBE_TOKEN: &str = "kube-admin-token-123456";

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

impl KubeStandin {
    pub fn start() -> Self {
        let tls = tempfile::tempdir().expect("tempdir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/standins/kube.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", "0", "--token", KUBE_TOKEN, "--tls-dir"])
            .arg(tls.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the kube stand-in");
        let url = first_line_url(&mut child);
        let read = |name: &str| std::fs::read_to_string(tls.path().join(name)).expect("stand-in certificate");
        let ca_pem = read("ca.pem");
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA"))
            .build()
            .expect("client");
        Self {
            child,
            url,
            client_pem: read("client.pem"),
            client_key_pem: read("client.key"),
            ca_pem,
            http,
            _tls: tls,
        }
    }

    /// The `tofu` stand-in's switch that makes every region's API address this stand-in.
    pub fn tofu_env(&self) -> (&'static str, String) {
        ("TOFU_STANDIN_API_ENDPOINT", self.url.clone())
    }

    /// Sets a HelmRelease's Ready condition (`None`: no condition yet).
    pub async fn set(&self, name: &str, ready: Option<(&str, &str, &str)>) {
        let body = match ready {
            Some((status, reason, message)) => {
                serde_json::json!({"ready": {"status": status, "reason": reason, "message": message}})
            }
            None => serde_json::json!({"ready": null}),
        };
        let res = self
            .http
            .put(format!("{}/_standin/helmreleases/{name}", self.url))
            .json(&body)
            .send()
            .await
            .expect("stand-in answers");
        assert!(res.status().is_success());
    }

    pub async fn patches(&self) -> serde_json::Value {
        self.http
            .get(format!("{}/_standin/patches", self.url))
            .send()
            .await
            .expect("stand-in answers")
            .json()
            .await
            .expect("json")
    }

    /// A kubeconfig as a k3s control plane hands it back, pointing at this stand-in, with the bearer token.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sovereign\n  cluster:\n    certificate-authority-data: {}\n    server: {}\ncontexts:\n- name: sovereign\n  context:\n    cluster: sovereign\n    user: admin\ncurrent-context: sovereign\npreferences: {{}}\nusers:\n- name: admin\n  user:\n    token: {KUBE_TOKEN}\n",
            b64(&self.ca_pem),
            self.url
        )
    }

    /// The same with the client certificate and key instead of the token (what k3s writes).
    pub fn kubeconfig_cert(&self) -> String {
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {}\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {{}}\nusers:\n- name: default\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(&self.ca_pem),
            self.url,
            b64(&self.client_pem),
            b64(&self.client_key_pem)
        )
    }
}

impl Drop for KubeStandin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The kubeconfig bearer the `tofu` stand-in wrote for a region's newest first control plane under
/// `TOFU_STANDIN_USERDATA=<dir>` (what a tenant reads from its server's user data).
pub fn userdata_bearer(dir: &Path, id: &str, region: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(id).join(format!("{region}.json"))).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["bearer"].as_str().map(str::to_string)
}

/// Polls `f` every 50 ms until it returns `Some`, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
