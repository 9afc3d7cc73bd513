//! Engine test support: a fake `tofu` that replays realistic `-json` output, the stand-in Kubernetes API
//! (`tests/standins/kube.py`), and a valid provisioning request.
//!
//! The fake `tofu` reads the work directory's `tofu.auto.tfvars.json` like the real module would and
//! decides by what the domain's first label contains:
//! - `fail-once`: the first `apply` fails with a provider diagnostic, later ones succeed;
//! - `fail-apply`: every `apply` fails;
//! - `slow`: `apply` takes about 4 s, printing progress every 100 ms (`very-slow`: about 17 s);
//! - every `plan` prints the Hetzner token on stderr, as a misbehaving provider might (it must be redacted).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::cloud::{Provider, Topology};
use app::deployments::{
    CreateDeployment, DeploymentRequest, DeploymentSecrets, DomainMode, DomainSpec, Industry, OrgProfile,
    OrgSize, RegionSpec, Secret,
};

pub const TOKEN: &str = "hcloudtokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllMMMMnnnn";

/// The fake `tofu` (also used by `scripts/test.sh` for the browser tests).
pub const FAKE_TOFU: &str = include_str!("../fixtures/fake-tofu.py");

/// Writes the fake `tofu` into `dir` and returns its path.
pub fn fake_tofu(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("tofu");
    std::fs::write(&path, FAKE_TOFU).expect("write fake tofu");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A valid request for `fqdn` (a BYO domain, so any name works).
pub fn request(fqdn: &str) -> CreateDeployment {
    CreateDeployment {
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
                control_plane_size: "cx42".into(),
                worker_size: "cx32".into(),
                worker_count: 1,
                airgap: false,
            }],
            hetzner_project_id: "1234567".into(),
            ssh_public_key:
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx1Y2t5IHRlc3Qga2V5IGZvciBjYXRhbHlzdA ops@acme".into(),
            components: vec!["cilium".into(), "cert-manager".into()],
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
    }
}

/// The stand-in Kubernetes API server, stopped on drop.
pub struct KubeStandin {
    child: Child,
    pub url: String,
}

impl KubeStandin {
    pub fn start() -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/standins/kube.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the kube stand-in");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_string();
        Self { child, url }
    }

    /// Sets a HelmRelease's Ready condition (`None`: no condition yet).
    pub async fn set(&self, name: &str, ready: Option<(&str, &str, &str)>) {
        let body = match ready {
            Some((status, reason, message)) => {
                serde_json::json!({"ready": {"status": status, "reason": reason, "message": message}})
            }
            None => serde_json::json!({"ready": null}),
        };
        let res = reqwest::Client::new()
            .put(format!("{}/_standin/helmreleases/{name}", self.url))
            .json(&body)
            .send()
            .await
            .expect("stand-in answers");
        assert!(res.status().is_success());
    }

    pub async fn patches(&self) -> serde_json::Value {
        reqwest::get(format!("{}/_standin/patches", self.url))
            .await
            .expect("stand-in answers")
            .json()
            .await
            .expect("json")
    }

    /// A kubeconfig pointing at this stand-in.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sovereign\n  cluster:\n    server: {}\ncontexts:\n- name: sovereign\n  context:\n    cluster: sovereign\n    user: admin\ncurrent-context: sovereign\nusers:\n- name: admin\n  user:\n    token: kube-admin-token-123456\n",
            self.url
        )
    }
}

impl Drop for KubeStandin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
