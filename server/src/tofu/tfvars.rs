//! The variables Catalyst writes for the `infra/hetzner` module, and the per-deployment work directory the
//! module runs in.
//!
//! [`TfVars`] has one field per variable of `infra/hetzner/variables.tf` (the contract test
//! `server/tests/it/infra_contract.rs` parses the module and proves it: same names, compatible types, required
//! variables always written, allowed values equal to Catalyst's enums). Fields that are `Option` fall back to
//! the module's default when `None`.
//!
//! The engine calls, in order:
//! 1. [`prepare_workdir`]`(module_src, workdir)` — copy the module's `*.tf` and `*.tftpl` into the
//!    deployment's own directory (mode 0700);
//! 2. [`TfVars::new`]`(request, secrets, context)` then [`write_tfvars`]`(workdir, &vars)` — the variables
//!    file `tofu.auto.tfvars.json` (mode 0600), which holds **no secret**: the sensitive variables (the
//!    Hetzner token, the kubeconfig bearers, the GitOps pull token) reach OpenTofu only through its process
//!    environment, [`TfVars::secret_env`] (`TF_VAR_<name>`), so no secret sits in the work directory;
//! 3. `tofu init / plan / apply` in `workdir` with that environment.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use app::cloud::Provider;
use app::deployments::{DeploymentRequest, DeploymentSecrets, DomainMode, RegionSpec, Secret};
use serde::Serialize;

/// The variables file OpenTofu loads automatically from its working directory.
pub const TFVARS_FILE: &str = "tofu.auto.tfvars.json";

/// What the engine knows about a deployment beyond the request: its id, the kubeconfig hand-back and where
/// its GitOps tree lives.
#[derive(Debug, Clone)]
pub struct TfContext {
    /// The deployment's id; labels every Hetzner resource (`catalyst.dev/deployment-id`) and names the
    /// kubeconfig PUT-back URL. 1–63 lowercase letters, digits and dashes.
    pub deployment_id: String,
    /// Region key → the single-use token that region's first control plane presents (`Authorization:
    /// Bearer …`) when it PUTs its kubeconfig back. Catalyst stores only their hashes. A region without
    /// one (its kubeconfig already arrived) does not PUT. At least 32 characters each.
    pub kubeconfig_bearer_tokens: BTreeMap<String, Secret>,
    /// The console's base URL including `/sovereign`, without a trailing slash, as the new nodes reach it:
    /// they PUT to `<catalyst_api_url>/api/v1/deployments/<id>/kubeconfig[?region=<key>]`.
    pub catalyst_api_url: String,
    /// The Git repository (https) Flux pulls from; Catalyst pushes the rendered tree there.
    pub gitops_repo_url: String,
    /// The branch Flux follows.
    pub gitops_branch: String,
    /// This Sovereign's folder in the repository: `clusters/<fqdn>` (see `gitops::cluster_path`).
    pub gitops_path: String,
    /// Read-only token Flux uses to pull a private repository; `None` for a public one.
    pub gitops_pull_token: Option<Secret>,
    /// User name sent with `gitops_pull_token` (HTTP basic auth); `None` for the module default.
    pub gitops_username: Option<String>,
    /// This Sovereign's own read-only deploy key (OpenSSH private key) when it pulls its own repository
    /// over SSH (`gitops_repo_url` is then `ssh://…`; see `gitops::forge`); `None` for https.
    pub gitops_ssh_private_key: Option<Secret>,
    /// known_hosts lines of the forge's SSH server; empty without a deploy key.
    pub gitops_ssh_known_hosts: String,
    /// Networks allowed to SSH into the nodes. Empty: none.
    pub ssh_allowed_cidrs: Vec<String>,
    /// Networks allowed to reach each region's Kubernetes API at its API address: the console's egress
    /// addresses (`--console-egress-cidrs`). Empty: none, and the console cannot watch the Sovereign.
    pub api_allowed_cidrs: Vec<String>,
}

impl TfContext {
    /// The context for one deployment from Catalyst's GitOps settings: the Sovereign pulls from the
    /// configured repository and branch at `clusters/<fqdn>`, with the *pull* token (never the push token).
    /// Fails when no repository is configured.
    pub fn for_deployment(
        gitops: &crate::gitops::config::GitopsSettings,
        deployment_id: &str,
        kubeconfig_bearer_tokens: BTreeMap<String, Secret>,
        catalyst_api_url: &str,
        fqdn: &str,
    ) -> Result<TfContext, crate::gitops::GitopsError> {
        let remote = gitops.require_remote()?;
        Ok(TfContext {
            deployment_id: deployment_id.to_string(),
            kubeconfig_bearer_tokens,
            catalyst_api_url: catalyst_api_url.trim_end_matches('/').to_string(),
            gitops_repo_url: remote.url.clone(),
            gitops_branch: remote.branch.clone(),
            gitops_path: crate::gitops::cluster_path(fqdn),
            gitops_pull_token: gitops.pull_token.clone(),
            gitops_username: Some(gitops.username.clone()),
            gitops_ssh_private_key: None,
            gitops_ssh_known_hosts: String::new(),
            ssh_allowed_cidrs: gitops.node_ssh_cidrs.clone(),
            api_allowed_cidrs: gitops.console_egress_cidrs.clone(),
        })
    }

    /// The context for a Sovereign with a repository of its own on the forge: Flux pulls `own.ssh_url` over
    /// SSH with the Sovereign's read-only deploy key and the forge's host keys; no shared token (neither the
    /// push nor the pull token) reaches OpenTofu.
    pub fn for_own_repo(
        gitops: &crate::gitops::config::GitopsSettings,
        deployment_id: &str,
        kubeconfig_bearer_tokens: BTreeMap<String, Secret>,
        catalyst_api_url: &str,
        fqdn: &str,
        own: &OwnRepo,
    ) -> TfContext {
        TfContext {
            deployment_id: deployment_id.to_string(),
            kubeconfig_bearer_tokens,
            catalyst_api_url: catalyst_api_url.trim_end_matches('/').to_string(),
            gitops_repo_url: own.ssh_url.clone(),
            gitops_branch: gitops.branch.clone(),
            gitops_path: crate::gitops::cluster_path(fqdn),
            gitops_pull_token: None,
            gitops_username: None,
            gitops_ssh_private_key: Some(own.private_key.clone()),
            gitops_ssh_known_hosts: own.known_hosts.clone(),
            ssh_allowed_cidrs: gitops.node_ssh_cidrs.clone(),
            api_allowed_cidrs: gitops.console_egress_cidrs.clone(),
        }
    }
}

/// A Sovereign's own GitOps repository on the forge (`gitops::forge`) as its Flux pulls it.
#[derive(Debug, Clone)]
pub struct OwnRepo {
    /// `ssh://git@host[:port]/org/sovereign-<fqdn>.git`
    pub ssh_url: String,
    /// The Sovereign's read-only deploy key (OpenSSH private key).
    pub private_key: Secret,
    /// known_hosts lines of the forge's SSH server.
    pub known_hosts: String,
}

/// One region of the module's `regions` variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TfRegion {
    /// Unique short id: the cloud region, with `-2`, `-3` … for repeats (see [`region_keys`]). Part of the
    /// resource names and of the kubeconfig PUT-back (`?region=<key>`, secondary regions only).
    pub key: String,
    pub provider: Provider,
    pub cloud_region: String,
    pub control_plane_size: String,
    pub worker_size: String,
    pub worker_count: u32,
    pub airgap: bool,
}

/// One field per variable of `infra/hetzner`. Serialized, it is the contents of `tofu.auto.tfvars.json`:
/// every variable but the sensitive ones, which are skipped there and handed to OpenTofu through its
/// environment ([`TfVars::secret_env`]). `Debug` never shows the secrets (they are [`Secret`]s).
#[derive(Debug, Clone, Serialize)]
pub struct TfVars {
    pub deployment_id: String,
    pub sovereign_fqdn: String,
    pub name_prefix: String,
    pub sovereign_subdomain: String,
    pub org_name: String,
    pub org_email: String,
    pub topology: String,
    #[serde(skip)]
    pub hcloud_token: Secret,
    pub hcloud_project_id: String,
    pub regions: Vec<TfRegion>,
    pub ha_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer_type: Option<String>,
    pub ssh_public_key: String,
    pub ssh_allowed_cidrs: Vec<String>,
    pub api_allowed_cidrs: Vec<String>,
    pub domain_mode: DomainMode,
    pub pool_domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k3s_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cilium_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flux_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helm_version: Option<String>,
    pub catalyst_api_url: String,
    #[serde(skip)]
    pub kubeconfig_bearer_tokens: BTreeMap<String, Secret>,
    pub gitops_repo_url: String,
    pub gitops_branch: String,
    pub gitops_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gitops_username: Option<String>,
    #[serde(skip)]
    pub gitops_token: Secret,
    /// The Sovereign's read-only deploy key (OpenSSH private key); empty: none (https).
    #[serde(skip)]
    pub gitops_ssh_private_key: Secret,
    /// known_hosts lines of the forge's SSH server; empty without a deploy key.
    pub gitops_ssh_known_hosts: String,
    /// Catalyst's PowerDNS for RFC 2136 updates (host, port 53); empty without a TSIG key.
    pub dns_server: String,
    /// The Sovereign's TSIG key name; empty: none (HTTP-01 certificates).
    pub dns_tsig_key_name: String,
    /// The Sovereign's TSIG secret (base64); empty: none.
    #[serde(skip)]
    pub dns_tsig_secret: Secret,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_unattended_upgrades: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_fail2ban: Option<bool>,
}

impl TfVars {
    /// Maps a (validated) request, its secrets and the engine's context onto the module's variables.
    /// The first region is the primary. Software versions, image and hardening switches are left to the
    /// module's defaults; set the `Option` fields afterwards to override them.
    pub fn new(req: &DeploymentRequest, secrets: &DeploymentSecrets, ctx: &TfContext) -> TfVars {
        let fqdn = req.fqdn();
        let pool = req.domain.mode == DomainMode::Pool;
        let keys = region_keys(&req.regions);
        let regions = req
            .regions
            .iter()
            .zip(keys)
            .map(|(r, key)| TfRegion {
                key,
                provider: r.provider,
                cloud_region: r.cloud_region.trim().to_string(),
                control_plane_size: r.control_plane_size.trim().to_string(),
                worker_size: if r.worker_count > 0 {
                    r.worker_size.trim().to_string()
                } else {
                    String::new()
                },
                worker_count: r.worker_count,
                airgap: r.airgap,
            })
            .collect();
        TfVars {
            deployment_id: ctx.deployment_id.clone(),
            name_prefix: crate::hetzner::name_prefix(&fqdn),
            sovereign_fqdn: fqdn,
            sovereign_subdomain: if pool {
                req.domain.subdomain.trim().to_ascii_lowercase()
            } else {
                String::new()
            },
            org_name: req.org.name.trim().to_string(),
            org_email: req.admin_email.trim().to_string(),
            topology: req.topology.id().to_string(),
            hcloud_token: Secret::new(secrets.hetzner_token.expose().trim()),
            hcloud_project_id: req.hetzner_project_id.trim().to_string(),
            regions,
            ha_enabled: req.ha_enabled,
            image: None,
            load_balancer_type: None,
            ssh_public_key: req.ssh_public_key.trim().to_string(),
            ssh_allowed_cidrs: ctx.ssh_allowed_cidrs.clone(),
            api_allowed_cidrs: ctx.api_allowed_cidrs.clone(),
            domain_mode: req.domain.mode,
            pool_domain: if pool {
                req.domain.pool_domain.trim().to_ascii_lowercase()
            } else {
                String::new()
            },
            k3s_version: None,
            cilium_version: None,
            flux_version: None,
            helm_version: None,
            catalyst_api_url: ctx.catalyst_api_url.trim_end_matches('/').to_string(),
            kubeconfig_bearer_tokens: ctx.kubeconfig_bearer_tokens.clone(),
            gitops_repo_url: ctx.gitops_repo_url.clone(),
            gitops_branch: ctx.gitops_branch.clone(),
            gitops_path: ctx.gitops_path.clone(),
            gitops_username: ctx.gitops_username.clone(),
            gitops_token: ctx.gitops_pull_token.clone().unwrap_or_default(),
            gitops_ssh_private_key: ctx.gitops_ssh_private_key.clone().unwrap_or_default(),
            gitops_ssh_known_hosts: ctx.gitops_ssh_known_hosts.trim().to_string(),
            dns_server: String::new(),
            dns_tsig_key_name: String::new(),
            dns_tsig_secret: Secret::default(),
            enable_unattended_upgrades: None,
            enable_fail2ban: None,
        }
    }

    /// The JSON of the variables file: no secret.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("TfVars serializes: plain strings, numbers and lists")
    }

    /// The sensitive variables as OpenTofu reads them from its environment: `TF_VAR_<name>`, strings as
    /// they are, the map of bearers as JSON (which OpenTofu parses as an HCL object).
    pub fn secret_env(&self) -> Vec<(String, String)> {
        let bearers: BTreeMap<&str, &str> = self
            .kubeconfig_bearer_tokens
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        vec![
            (
                "TF_VAR_hcloud_token".into(),
                self.hcloud_token.expose().to_string(),
            ),
            (
                "TF_VAR_kubeconfig_bearer_tokens".into(),
                serde_json::to_string(&bearers).expect("a map of strings serializes"),
            ),
            (
                "TF_VAR_gitops_token".into(),
                self.gitops_token.expose().to_string(),
            ),
            (
                "TF_VAR_gitops_ssh_private_key".into(),
                self.gitops_ssh_private_key.expose().to_string(),
            ),
            (
                "TF_VAR_dns_tsig_secret".into(),
                self.dns_tsig_secret.expose().to_string(),
            ),
        ]
    }

    /// Every variable with its value, the sensitive ones included (what OpenTofu sees from the file and the
    /// environment together; for the module contract test).
    pub fn all_values(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        map.insert("hcloud_token".into(), self.hcloud_token.expose().into());
        map.insert(
            "kubeconfig_bearer_tokens".into(),
            self.kubeconfig_bearer_tokens
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v.expose())))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        );
        map.insert("gitops_token".into(), self.gitops_token.expose().into());
        map.insert(
            "gitops_ssh_private_key".into(),
            self.gitops_ssh_private_key.expose().into(),
        );
        map.insert("dns_tsig_secret".into(), self.dns_tsig_secret.expose().into());
        map
    }
}

/// The region keys of the module: each region's cloud region, with `-2`, `-3` … appended to the second,
/// third … region in the same location (`[fsn1, fsn1, nbg1]` → `[fsn1, fsn1-2, nbg1]`). The engine uses
/// them for the kubeconfig PUT-back (`?region=<key>`) and the module for resource names.
pub fn region_keys(regions: &[RegionSpec]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(regions.len());
    for r in regions {
        let base = sanitize_key(&r.cloud_region);
        let mut key = base.clone();
        let mut n = 1;
        while keys.contains(&key) {
            n += 1;
            key = format!("{base}-{n}");
        }
        keys.push(key);
    }
    keys
}

/// Lowercase letters, digits and single dashes, at most 13 characters (room for a `-NN` suffix).
fn sanitize_key(region: &str) -> String {
    let mut out = String::new();
    for c in region.trim().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 13 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "region".into() } else { out }
}

/// Writes `tofu.auto.tfvars.json` into `workdir` with mode 0600, atomically (a temporary file in the same
/// folder, then a rename), and returns its path.
pub fn write_tfvars(workdir: &Path, vars: &TfVars) -> io::Result<PathBuf> {
    let path = workdir.join(TFVARS_FILE);
    let tmp = workdir.join(format!(".{TFVARS_FILE}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = private_file(&tmp)?;
        file.write_all(vars.to_json().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(with_path(e, &path));
    }
    Ok(path)
}

/// Makes `workdir` the module's working directory: creates it (and sets mode 0700, also when it already
/// exists), copies every `*.tf` and `*.tftpl` file of `module_src` whose content differs, and removes
/// module files that `module_src` no longer has. OpenTofu's own files (`.terraform/`, state, plan, the
/// variables file) are left alone, so running it again for a retry is safe.
pub fn prepare_workdir(module_src: &Path, workdir: &Path) -> io::Result<()> {
    let mut wanted = Vec::new();
    for entry in fs::read_dir(module_src).map_err(|e| with_path(e, module_src))? {
        let entry = entry.map_err(|e| with_path(e, module_src))?;
        let name = entry.file_name();
        let is_file = entry
            .file_type()
            .map_err(|e| with_path(e, &entry.path()))?
            .is_file();
        if is_file && is_module_file(&name.to_string_lossy()) {
            wanted.push(name);
        }
    }
    if !wanted.iter().any(|n| n.to_string_lossy().ends_with(".tf")) {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{}: no OpenTofu module here (no *.tf files)",
                module_src.display()
            ),
        ));
    }
    create_private_dir(workdir)?;
    for name in &wanted {
        let from = module_src.join(name);
        let to = workdir.join(name);
        let content = fs::read(&from).map_err(|e| with_path(e, &from))?;
        if fs::read(&to).ok().as_deref() != Some(content.as_slice()) {
            fs::write(&to, &content).map_err(|e| with_path(e, &to))?;
        }
    }
    for entry in fs::read_dir(workdir).map_err(|e| with_path(e, workdir))? {
        let entry = entry.map_err(|e| with_path(e, workdir))?;
        let name = entry.file_name();
        if is_module_file(&name.to_string_lossy()) && !wanted.contains(&name) {
            fs::remove_file(entry.path()).map_err(|e| with_path(e, &entry.path()))?;
        }
    }
    Ok(())
}

fn is_module_file(name: &str) -> bool {
    !name.starts_with('.') && (name.ends_with(".tf") || name.ends_with(".tftpl"))
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> io::Result<fs::File> {
    fs::File::create(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| with_path(e, dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| with_path(e, dir))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir).map_err(|e| with_path(e, dir))
}

/// A complete request and context, for tests here and in `server/tests`.
#[doc(hidden)]
pub mod fixtures {
    use app::cloud::{Provider, Topology};
    use app::deployments::*;

    use super::TfContext;

    pub const TOKEN: &str = "hzTOKENhzTOKENhzTOKENhzTOKENhzTOKENhzTOKENhzTOKENhzTOKENhzTOKEN01";
    pub const BEARER: &str = "b3a7e0f1c2d4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5";
    pub const BEARER_2: &str = "0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d";

    pub fn request() -> DeploymentRequest {
        DeploymentRequest {
            org: OrgProfile {
                name: " Acme Bank ".into(),
                headquarters: "Frankfurt".into(),
                industry: Industry::Banking,
                size: OrgSize::From500To2000,
                compliance: vec![Compliance::Gdpr],
            },
            topology: Topology::Dual,
            ha_enabled: true,
            airgap: false,
            regions: vec![
                RegionSpec {
                    provider: Provider::Hetzner,
                    cloud_region: "fsn1".into(),
                    control_plane_size: "cpx32".into(),
                    worker_size: "cpx42".into(),
                    worker_count: 2,
                    airgap: false,
                },
                RegionSpec {
                    provider: Provider::Hetzner,
                    cloud_region: "hel1".into(),
                    control_plane_size: "cpx32".into(),
                    worker_size: String::new(),
                    worker_count: 0,
                    airgap: false,
                },
            ],
            hetzner_project_id: "proj_4711".into(),
            ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA catalyst@acme".into(),
            components: vec!["cilium".into(), "flux".into()],
            domain: DomainSpec {
                mode: DomainMode::Pool,
                pool_domain: "omani.works".into(),
                subdomain: "acme".into(),
                byo_domain: String::new(),
                registrar: None,
            },
            admin_email: "ops@acme.example".into(),
        }
    }

    pub fn secrets() -> DeploymentSecrets {
        DeploymentSecrets {
            hetzner_token: Secret::new(TOKEN),
            registrar_token: None,
        }
    }

    pub fn context() -> TfContext {
        TfContext {
            deployment_id: "3f2a9c4e8b1d4f6a".into(),
            kubeconfig_bearer_tokens: [
                ("fsn1".to_string(), Secret::new(BEARER)),
                ("hel1".to_string(), Secret::new(BEARER_2)),
            ]
            .into(),
            catalyst_api_url: "https://console.example.com/sovereign/".into(),
            gitops_repo_url: "https://git.example.com/acme/sovereigns.git".into(),
            gitops_branch: "main".into(),
            gitops_path: "clusters/acme.omani.works".into(),
            gitops_pull_token: Some(Secret::new("pull-token-123")),
            gitops_ssh_private_key: None,
            gitops_ssh_known_hosts: String::new(),
            gitops_username: None,
            ssh_allowed_cidrs: vec!["203.0.113.0/24".into()],
            api_allowed_cidrs: vec!["198.18.0.7/32".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn the_deploy_key_reaches_opentofu_only_through_its_environment() {
        let mut ctx = context();
        ctx.gitops_repo_url = "ssh://git@git.example.com/sovereigns/sovereign-acme.omani.works.git".into();
        ctx.gitops_pull_token = None;
        ctx.gitops_ssh_private_key = Some(Secret::new("-----BEGIN OPENSSH PRIVATE KEY-----\nDEPLOYKEY\n"));
        ctx.gitops_ssh_known_hosts = " git.example.com ssh-ed25519 AAAA\n".into();
        let v = TfVars::new(&request(), &secrets(), &ctx);
        let file = v.to_json();
        assert!(!file.contains("DEPLOYKEY"), "{file}");
        let json: serde_json::Value = serde_json::from_str(&file).expect("json");
        assert_eq!(json["gitops_ssh_known_hosts"], "git.example.com ssh-ed25519 AAAA");
        assert_eq!(json["gitops_repo_url"], ctx.gitops_repo_url.as_str());
        let env: BTreeMap<String, String> = v.secret_env().into_iter().collect();
        assert!(env["TF_VAR_gitops_ssh_private_key"].contains("DEPLOYKEY"));
        assert_eq!(
            env["TF_VAR_gitops_token"], "",
            "no shared pull token with a deploy key"
        );
        assert!(!format!("{v:?}").contains("DEPLOYKEY"), "Debug hides the key");
    }

    #[test]
    fn maps_the_request() {
        let v = TfVars::new(&request(), &secrets(), &context());
        assert_eq!(v.sovereign_fqdn, "acme.omani.works");
        assert_eq!(v.name_prefix, "catalyst-acme-omani-works");
        assert_eq!(v.sovereign_subdomain, "acme");
        assert_eq!(v.pool_domain, "omani.works");
        assert_eq!(v.org_name, "Acme Bank");
        assert_eq!(v.org_email, "ops@acme.example");
        assert_eq!(v.topology, "dual");
        assert_eq!(v.catalyst_api_url, "https://console.example.com/sovereign");
        assert_eq!(v.regions.len(), 2);
        assert_eq!(v.regions[0].key, "fsn1");
        assert_eq!(v.regions[1].key, "hel1");
        assert_eq!(v.regions[1].worker_size, "", "no workers, no size");
        let json: serde_json::Value = serde_json::from_str(&v.to_json()).expect("json");
        assert_eq!(json["domain_mode"], "pool");
        assert_eq!(json["regions"][0]["provider"], "hetzner");
        for secret in ["hcloud_token", "gitops_token", "kubeconfig_bearer_tokens"] {
            assert!(json.get(secret).is_none(), "{secret} is not written to the file");
        }
        let text = v.to_json();
        for value in [TOKEN, BEARER, BEARER_2, "pull-token-123"] {
            assert!(!text.contains(value), "a secret in the variables file");
        }
        let env: BTreeMap<String, String> = v.secret_env().into_iter().collect();
        assert_eq!(env["TF_VAR_hcloud_token"], TOKEN);
        assert_eq!(env["TF_VAR_gitops_token"], "pull-token-123");
        let bearers: serde_json::Value =
            serde_json::from_str(&env["TF_VAR_kubeconfig_bearer_tokens"]).expect("json");
        assert_eq!(bearers, serde_json::json!({"fsn1": BEARER, "hel1": BEARER_2}));
        assert!(json.get("k3s_version").is_none(), "module default applies");
    }

    #[test]
    fn context_from_settings_uses_the_pull_token() {
        use crate::gitops::GitRemote;
        use crate::gitops::config::GitopsSettings;
        let mut settings = GitopsSettings::default();
        let e = TfContext::for_deployment(
            &settings,
            "d1",
            BTreeMap::new(),
            "https://c/sovereign",
            "a.example.com",
        )
        .expect_err("no repository");
        assert!(e.to_string().contains("--gitops-repo-url"), "{e}");
        settings.remote = Some(GitRemote::new(
            "https://git.example.com/f.git",
            "prod",
            Some(Secret::new("push")),
        ));
        settings.pull_token = Some(Secret::new("pull"));
        settings.node_ssh_cidrs = vec!["198.51.100.0/24".into()];
        settings.console_egress_cidrs = vec!["198.18.0.7/32".into()];
        let ctx = TfContext::for_deployment(
            &settings,
            "d1",
            BTreeMap::new(),
            "https://c/sovereign/",
            "A.Example.com",
        )
        .expect("context");
        assert_eq!(ctx.gitops_path, "clusters/a.example.com");
        assert_eq!(ctx.gitops_branch, "prod");
        assert_eq!(ctx.catalyst_api_url, "https://c/sovereign");
        assert_eq!(ctx.gitops_pull_token.as_ref().map(|t| t.expose()), Some("pull"));
        assert_eq!(ctx.ssh_allowed_cidrs, ["198.51.100.0/24"]);
        assert_eq!(ctx.api_allowed_cidrs, ["198.18.0.7/32"]);
    }

    #[test]
    fn byo_modes_carry_no_pool_fields() {
        let mut req = request();
        req.domain.mode = DomainMode::ByoApi;
        req.domain.byo_domain = "Sovereign.Example.COM".into();
        let v = TfVars::new(&req, &secrets(), &context());
        assert_eq!(v.sovereign_fqdn, "sovereign.example.com");
        assert_eq!(v.sovereign_subdomain, "");
        assert_eq!(v.pool_domain, "");
        assert_eq!(serde_json::to_value(&v).expect("json")["domain_mode"], "byo-api");
    }

    #[test]
    fn debug_hides_secrets() {
        let v = TfVars::new(&request(), &secrets(), &context());
        let dbg = format!("{v:?}");
        assert!(!dbg.contains(TOKEN), "{dbg}");
        assert!(!dbg.contains(BEARER), "{dbg}");
        assert!(!dbg.contains(BEARER_2), "{dbg}");
        assert!(!dbg.contains("pull-token-123"), "{dbg}");
        assert!(dbg.contains("acme.omani.works"));
    }

    #[test]
    fn repeated_locations_get_distinct_keys() {
        let mut req = request();
        let r = req.regions[0].clone();
        req.regions = vec![r.clone(), r.clone(), req.regions[1].clone(), r];
        assert_eq!(region_keys(&req.regions), ["fsn1", "fsn1-2", "hel1", "fsn1-3"]);
        let mut odd = req.regions[0].clone();
        odd.cloud_region = " EU West/1 ".into();
        assert_eq!(region_keys(&[odd]), ["eu-west-1"]);
    }

    #[cfg(unix)]
    #[test]
    fn tfvars_file_is_private_and_complete() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let v = TfVars::new(&request(), &secrets(), &context());
        let path = write_tfvars(dir.path(), &v).expect("written");
        assert_eq!(path, dir.path().join(TFVARS_FILE));
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back: serde_json::Value = serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        assert_eq!(back["deployment_id"], "3f2a9c4e8b1d4f6a");
        // Rewriting replaces the file.
        let mut v2 = v.clone();
        v2.k3s_version = Some("v1.32.7+k3s1".into());
        write_tfvars(dir.path(), &v2).expect("rewritten");
        let back: serde_json::Value = serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        assert_eq!(back["k3s_version"], "v1.32.7+k3s1");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn workdir_gets_the_module_and_loses_stale_files() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let src = tmp.path().join("module");
        fs::create_dir(&src).expect("mkdir");
        fs::write(src.join("main.tf"), "# main").expect("w");
        fs::write(src.join("cloudinit.tftpl"), "#cloud-config").expect("w");
        fs::write(src.join("README.md"), "docs").expect("w");
        let work = tmp.path().join("work").join("dep-1");
        prepare_workdir(&src, &work).expect("prepared");
        let mode = fs::metadata(&work).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert_eq!(fs::read_to_string(work.join("main.tf")).expect("r"), "# main");
        assert!(work.join("cloudinit.tftpl").is_file());
        assert!(!work.join("README.md").exists(), "only *.tf and *.tftpl");

        // OpenTofu's own files survive; a module file that disappeared upstream goes; changes are copied.
        fs::write(work.join("terraform.tfstate"), "{}").expect("w");
        fs::write(work.join(TFVARS_FILE), "{}").expect("w");
        fs::remove_file(src.join("cloudinit.tftpl")).expect("rm");
        fs::write(src.join("main.tf"), "# main v2").expect("w");
        prepare_workdir(&src, &work).expect("prepared again");
        assert_eq!(fs::read_to_string(work.join("main.tf")).expect("r"), "# main v2");
        assert!(!work.join("cloudinit.tftpl").exists());
        assert!(work.join("terraform.tfstate").exists());
        assert!(work.join(TFVARS_FILE).exists());
    }

    #[test]
    fn a_folder_without_a_module_is_an_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let e = prepare_workdir(tmp.path(), &tmp.path().join("w")).expect_err("no module");
        assert!(e.to_string().contains("no OpenTofu module"), "{e}");
        let e = prepare_workdir(&tmp.path().join("missing"), &tmp.path().join("w")).expect_err("missing");
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
