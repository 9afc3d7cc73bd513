//! Engine test support: a fake `tofu` that replays realistic `-json` output, the stand-in Kubernetes API
//! (`tests/standins/kube.py`), and a valid provisioning request.
//!
//! The fake `tofu` reads the work directory's `tofu.auto.tfvars.json` like the real module would and
//! decides by what the domain's first label contains:
//! - `fail-once`: the first `apply` fails with a provider diagnostic, later ones succeed;
//! - `fail-apply`: every `apply` fails;
//! - `slow`: `apply` takes about 4 s, printing progress every 100 ms;
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

pub const FAKE_TOFU: &str = r#"#!/usr/bin/env python3
import json, os, sys, time
args = sys.argv[1:]
cmd = args[0] if args else ""
def ui(kind, msg, level="info", **kw):
    d = {"@level": level, "@message": msg, "@module": "tofu.ui", "@timestamp": "2026-11-24T09:00:00Z", "type": kind}
    d.update(kw)
    print(json.dumps(d), flush=True)
def res(addr):
    t, rest = addr.split(".", 1)
    return {"addr": addr, "module": "", "resource": addr, "implied_provider": "hcloud", "resource_type": t,
            "resource_name": rest.split("[")[0], "resource_key": None}
RESOURCES = ["hcloud_network.main", "hcloud_network_subnet.main", "hcloud_firewall.main", "hcloud_ssh_key.main",
             "hcloud_server.control_plane[0]", "hcloud_load_balancer.main", "hcloud_load_balancer_target.cp[0]"]
vars = {}
if os.path.exists("tofu.auto.tfvars.json"):
    vars = json.load(open("tofu.auto.tfvars.json"))
fqdn = vars.get("sovereign_fqdn", "")
label = fqdn.split(".")[0]
if cmd == "version":
    print(json.dumps({"terraform_version": "1.8.2", "platform": "linux_amd64", "provider_selections": {}}))
elif cmd == "init":
    print("Initializing the backend...")
    print("Initializing provider plugins...")
    print("- Installing hetznercloud/hcloud v1.49.1...")
    print("OpenTofu has been successfully initialized!")
elif cmd == "plan":
    ui("version", "OpenTofu 1.8.2", tofu="1.8.2", ui="1.2")
    print("provider debug: authenticating with token " + vars.get("hcloud_token", ""), file=sys.stderr, flush=True)
    for r in RESOURCES:
        ui("planned_change", r + ": Plan to create", change={"resource": res(r), "action": "create"})
    ui("change_summary", "Plan: %d to add, 0 to change, 0 to destroy." % len(RESOURCES),
       changes={"add": len(RESOURCES), "change": 0, "remove": 0, "operation": "plan"})
    open("tfplan", "w").write("plan for " + vars.get("deployment_id", ""))
elif cmd == "apply":
    n = 1
    if os.path.exists(".apply-attempts"):
        n = int(open(".apply-attempts").read()) + 1
    open(".apply-attempts", "w").write(str(n))
    slow = "slow" in label
    ui("version", "OpenTofu 1.8.2", tofu="1.8.2", ui="1.2")
    for i, r in enumerate(RESOURCES):
        ui("apply_start", r + ": Creating...", hook={"resource": res(r), "action": "create"})
        if slow:
            for k in range(6):
                time.sleep(0.1)
                ui("apply_progress", r + ": Still creating... [%ds elapsed]" % (k + 1),
                   hook={"resource": res(r), "action": "create", "elapsed_seconds": k + 1})
        fail = "fail-apply" in label or ("fail-once" in label and n == 1)
        if fail and r.startswith("hcloud_load_balancer."):
            ui("apply_errored", r + ": Creation errored after 1s", hook={"resource": res(r), "action": "create", "elapsed_seconds": 1})
            ui("diagnostic", "Error: error creating load balancer", level="error",
               diagnostic={"severity": "error", "summary": "error creating load balancer",
                           "detail": "server limit reached for project (resource_limit_exceeded)"})
            sys.exit(1)
        ui("apply_complete", r + ": Creation complete after 1s [id=%d]" % (1000 + i),
           hook={"resource": res(r), "action": "create", "id_key": "id", "id_value": str(1000 + i), "elapsed_seconds": 1})
    ui("change_summary", "Apply complete! Resources: %d added, 0 changed, 0 destroyed." % len(RESOURCES),
       changes={"add": len(RESOURCES), "change": 0, "remove": 0, "operation": "apply"})
    open("terraform.tfstate", "w").write(json.dumps({"resources": RESOURCES, "deployment": vars.get("deployment_id")}))
elif cmd == "output":
    print(json.dumps({
        "control_plane_ip": {"sensitive": False, "type": "string", "value": "203.0.113.10"},
        "load_balancer_ip": {"sensitive": False, "type": "string", "value": "203.0.113.20"},
        "console_url": {"sensitive": False, "type": "string", "value": "https://console." + fqdn},
        "gitops_repo_url": {"sensitive": False, "type": "string", "value": "https://example.com/gitops//clusters/" + fqdn},
    }, indent=2))
elif cmd == "destroy":
    ui("version", "OpenTofu 1.8.2", tofu="1.8.2", ui="1.2")
    for i, r in enumerate(reversed(RESOURCES)):
        ui("apply_start", r + ": Destroying... [id=%d]" % (1000 + i), hook={"resource": res(r), "action": "delete", "id_key": "id", "id_value": str(1000 + i)})
        ui("apply_complete", r + ": Destruction complete after 1s", hook={"resource": res(r), "action": "delete", "id_key": "id", "id_value": str(1000 + i), "elapsed_seconds": 1})
    ui("change_summary", "Destroy complete! Resources: %d destroyed." % len(RESOURCES),
       changes={"add": 0, "change": 0, "remove": len(RESOURCES), "operation": "destroy"})
else:
    print("unknown command " + cmd, file=sys.stderr)
    sys.exit(2)
"#;

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
            topology: Topology::ALL[0],
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
