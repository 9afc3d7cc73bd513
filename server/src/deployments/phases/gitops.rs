//! The GitOps step of Phase 0: render `clusters/<fqdn>/` from `clusters/_template` plus one HelmRelease per
//! selected component (dependencies included) and push it to the configured repository — before OpenTofu
//! creates the servers whose cloud-init points Flux at that folder, so Flux finds it on first boot.
//!
//! Where the tree goes depends on the console's mode (SECURITY.md "GitOps isolation"):
//! - with a forge (`--gitops-forge-url`): first the Sovereign's own private repository and its read-only
//!   deploy key ([`own_repository`]: the key is generated once per deployment and sealed at rest as
//!   `gitops-deploy-key`, then registered on that repository only by `Forge::provision_with_key`), then the
//!   push into that repository with the forge token; OpenTofu later gets the repository's SSH URL and the
//!   key, never a shared token. A forge error fails the run before anything is created in the cloud;
//! - otherwise the one shared repository (`--gitops-repo-url`), `clusters/<fqdn>/`, as before.
//!
//! Idempotent: a retry, a restart or a takeover renders the same tree again, and an identical tree pushes
//! nothing; the forge keeps the deploy key the Sovereign already holds. Without any repository the step fails
//! at once, naming the option, before anything is created in the cloud (a Sovereign whose Flux has nothing to
//! pull would come up empty).

use std::sync::Arc;

use app::deployments::{DeploymentRequest, Level, Phase, PhaseState, Secret};
use serde::{Deserialize, Serialize};

use crate::db::deployment_events::NewEvent;
use crate::db::secrets as secret_store;
use crate::deployments::redact::Redactor;
use crate::deployments::step::{StepError, phase_finished, phase_started};
use crate::deployments::{Engine, RunCtx};
use crate::gitops::catalog::components_for;
use crate::gitops::config::ForgeSettings;
use crate::gitops::forge::ForgeError;
use crate::gitops::{
    Acme, GitRemote, GitopsError, KitOptions, RenderInput, cluster_path, kit_order, publish, render,
};
use crate::tofu::OwnRepo;
use crate::tofu::runner::humanize;

/// What the step handed to Flux.
#[derive(Debug, Clone)]
pub struct Published {
    /// The HelmReleases `bp-<id>` of the kit (catalog ids with a Helm chart, dependencies included, those
    /// cloud-init installs itself left out), in install order: what the component watch waits for.
    pub components: Vec<String>,
    /// The branch's commit after the push.
    pub commit: String,
    /// With a forge: the Sovereign's own repository and deploy key, for OpenTofu.
    pub own: Option<OwnRepo>,
}

/// The name of the sealed deploy key in `deployment_secrets`.
pub const DEPLOY_KEY: &str = "gitops-deploy-key";

/// A Sovereign's read-only deploy key and the repository it reads, as sealed at rest.
#[derive(Clone, Serialize, Deserialize)]
pub struct DeployKey {
    /// OpenSSH private key.
    pub private_key: Secret,
    /// The repository's `ssh://` URL; empty until the forge made the repository.
    #[serde(default)]
    pub ssh_url: String,
}

fn deploy_key_aad(id: &str) -> Vec<u8> {
    format!("{id}/{DEPLOY_KEY}").into_bytes()
}

/// The deployment's sealed deploy key, if it has one.
pub async fn load_deploy_key(engine: &Engine, id: &str) -> Result<Option<DeployKey>, String> {
    let sealed = secret_store::get(engine.db(), id, DEPLOY_KEY)
        .await
        .map_err(|e| format!("cannot read the stored deploy key: {e}"))?;
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let plain = engine
        .0
        .secrets
        .open(&deploy_key_aad(id), &sealed.nonce, &sealed.ciphertext)
        .map_err(|_| "the stored deploy key cannot be decrypted with this console's key".to_string())?;
    serde_json::from_slice(&plain)
        .map(Some)
        .map_err(|_| "the stored deploy key is unreadable".to_string())
}

async fn store_deploy_key(engine: &Engine, id: &str, key: &DeployKey) -> Result<(), String> {
    let json = serde_json::to_vec(key).map_err(|_| "cannot encode the deploy key".to_string())?;
    let (nonce, ct) = engine.0.secrets.seal(&deploy_key_aad(id), &json);
    secret_store::put(engine.db(), id, DEPLOY_KEY, &nonce, &ct)
        .await
        .map_err(|e| format!("cannot store the deploy key: {e}"))
}

/// Forgets the deployment's deploy key (after the forge deleted it with the repository).
pub async fn delete_deploy_key(engine: &Engine, id: &str) -> Result<(), String> {
    secret_store::delete(engine.db(), id, DEPLOY_KEY)
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot delete the stored deploy key: {e}"))
}

/// What to check when the forge refused or failed.
pub fn forge_hint(e: &ForgeError) -> &'static str {
    match e {
        ForgeError::Unreachable { .. } => {
            "Check that the console reaches the forge at --gitops-forge-url (DNS, firewall, proxy) and that the forge is up; then retry. Nothing was created in the cloud yet."
        }
        ForgeError::Auth { .. } => {
            "Give the forge token's user (CATALYST_GITOPS_FORGE_TOKEN or --gitops-forge-token-file) the right to create and delete repositories in the --gitops-forge-org organisation, restart the console, then retry. Nothing was created in the cloud yet."
        }
        ForgeError::NoOrg { .. } => {
            "Create that organisation on the forge or correct --gitops-forge-org, restart the console, then retry. Nothing was created in the cloud yet."
        }
        _ => {
            "Retry; if the forge keeps refusing, its own log says why (check --gitops-forge-url). Nothing was created in the cloud yet."
        }
    }
}

/// The Sovereign's own repository and read-only deploy key on the forge: the key is made once per
/// deployment and sealed at rest before the forge sees it, so a retry, a restart or another replica
/// registers the same key (the one a running Sovereign's Flux holds). Returns where to push (the
/// repository's HTTPS URL with the forge token) and what Flux pulls (SSH URL, key, host keys).
async fn own_repository(
    engine: &Engine,
    id: &str,
    fqdn: &str,
    forge: &ForgeSettings,
    ctx: &Arc<RunCtx>,
) -> Result<(GitRemote, OwnRepo), StepError> {
    let cfg = engine.config();
    let stored = |e: String| {
        StepError::failed(
            Phase::Gitops,
            format!("The Sovereign's deploy key: {e}."),
            "Start the console with the secret key it was using when the deployment was created (--secret-key-file), then retry.",
        )
    };
    let mut key = match load_deploy_key(engine, id).await.map_err(stored)? {
        Some(key) => key,
        None => {
            let generated = crate::crypto::generate_ed25519(&format!("flux@{fqdn}")).map_err(|e| {
                StepError::failed(
                    Phase::Gitops,
                    format!("Cannot make the Sovereign's deploy key: {e}."),
                    "Retry.",
                )
            })?;
            let key = DeployKey {
                private_key: generated.private_key,
                ssh_url: String::new(),
            };
            store_deploy_key(engine, id, &key).await.map_err(stored)?;
            key
        }
    };
    let redactor = Redactor::new([forge.token.expose(), key.private_key.expose()]);
    let client = forge
        .client()
        .map_err(|e| StepError::failed(Phase::Gitops, redactor.apply(&e.to_string()), forge_hint(&e)))?;
    let branch = cfg.gitops.branch.clone();
    let provision = client.provision_with_key(fqdn, &branch, &key.private_key);
    let repo = tokio::select! {
        r = tokio::time::timeout(cfg.step_timeout, provision) => r,
        () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::Gitops)),
    };
    let repo = match repo {
        Err(_) => {
            return Err(StepError::failed(
                Phase::Gitops,
                format!(
                    "The forge did not make the Sovereign's repository within {}.",
                    humanize(cfg.step_timeout)
                ),
                forge_hint(&ForgeError::Unreachable {
                    url: forge.url.clone(),
                    why: String::new(),
                }),
            ));
        }
        Ok(Err(e)) => {
            return Err(StepError::failed(
                Phase::Gitops,
                redactor.apply(&format!(
                    "The forge could not make the Sovereign's repository: {e}."
                )),
                forge_hint(&e),
            ));
        }
        Ok(Ok(repo)) => repo,
    };
    if key.ssh_url != repo.ssh_url {
        key.ssh_url = repo.ssh_url.clone();
        store_deploy_key(engine, id, &key).await.map_err(stored)?;
    }
    let fingerprint = ssh_key::PublicKey::from_openssh(&repo.public_key)
        .map(|k| k.fingerprint(ssh_key::HashAlg::Sha256).to_string())
        .unwrap_or_default();
    engine
        .append(
            id,
            &[NewEvent::log(
                Phase::Gitops,
                Level::Info,
                format!(
                    "The Sovereign's own repository {}/{} is ready on the forge with its read-only deploy key {fingerprint}; Flux pulls {} with it.",
                    repo.owner, repo.name, repo.ssh_url
                ),
            )],
            &[],
        )
        .await
        .map_err(|e| StepError::failed(Phase::Gitops, format!("Cannot record progress: {e}"), "Retry."))?;
    let mut template = GitRemote::new(repo.clone_url.clone(), branch, None);
    template.username = cfg.gitops.username.clone();
    let remote = client.push_remote(&repo, &template);
    let own = OwnRepo {
        ssh_url: repo.ssh_url,
        private_key: key.private_key,
        known_hosts: forge.known_hosts.clone(),
    };
    Ok((remote, own))
}

/// The option an operator sets when no repository is configured.
pub const MISSING_REPO_HINT: &str = "Start Catalyst with --gitops-repo-url (CATALYST_GITOPS_REPO_URL) set to an https Git repository and --gitops-token (CATALYST_GITOPS_TOKEN) with write access to its branch — or with a forge that gives every Sovereign a repository of its own (--gitops-forge-url and its options) —, then retry. Nothing was created in the cloud yet.";

/// Renders and pushes the deployment's Flux tree.
pub async fn publish_tree(
    engine: &Engine,
    id: &str,
    request: &DeploymentRequest,
    ctx: &Arc<RunCtx>,
    redactor: &Redactor,
    dns01: bool,
) -> Result<Published, StepError> {
    let cfg = engine.config();
    let fqdn = request.fqdn();
    let root = cluster_path(&fqdn);
    phase_started(
        engine,
        id,
        Phase::Gitops,
        &format!(
            "Rendering {root}/ for {} selected component(s).",
            request.components.len()
        ),
        vec![],
    )
    .await?;
    let (remote, own, redactor) = match &cfg.gitops.forge {
        Some(forge) => {
            let (remote, own) = own_repository(engine, id, &fqdn, forge, ctx).await?;
            let redactor = redactor
                .clone()
                .and(forge.token.expose())
                .and(own.private_key.expose());
            (remote, Some(own), redactor)
        }
        None => {
            let remote = cfg.gitops.require_remote().map_err(|_| {
                StepError::failed(
                    Phase::Gitops,
                    "No GitOps repository is configured on this console (--gitops-repo-url or --gitops-forge-url), so the Sovereign's Flux would have nothing to install.",
                    MISSING_REPO_HINT,
                )
            })?;
            (remote.clone(), None, redactor.clone())
        }
    };
    let remote = &remote;
    let redactor = &redactor;
    let releases = components_for(&cfg.catalog, &request.components).map_err(|e| {
        StepError::failed(
            Phase::Gitops,
            format!("The selected components cannot be deployed: {e}."),
            "The catalog changed since this deployment was created. Create the deployment again with a current selection.",
        )
    })?;
    let components = helm_release_ids(&releases).map_err(|e| {
        StepError::failed(
            Phase::Gitops,
            format!("The selected components cannot be deployed: {e}."),
            "Create the deployment again with a current selection.",
        )
    })?;
    let tree = render(
        &cfg.gitops.template_dir,
        &RenderInput {
            fqdn: fqdn.clone(),
            deployment_id: id.to_string(),
            components: releases,
            kit: KitOptions {
                ha: request.ha_enabled,
                // DNS-01 when the Sovereign has its TSIG key in Catalyst's PowerDNS (it reaches the
                // cluster through OpenTofu: Secrets */sovereign-dns-tsig, settings SOVEREIGN_DNS_*);
                // otherwise HTTP-01 through the Gateway.
                acme: Acme {
                    staging: cfg.gitops.acme_staging,
                    dns01,
                },
            },
        },
    )
    .map_err(|e| {
        let hint = match e {
            GitopsError::Template(_) => {
                "Point --gitops-template-dir (CATALYST_GITOPS_TEMPLATE_DIR) at the clusters/_template folder of this Catalyst release, then retry."
            }
            _ => "Retry; if it fails again, report the message above.",
        };
        StepError::failed(Phase::Gitops, redactor.apply(&e.to_string()), hint)
    })?;
    engine
        .append(
            id,
            &[NewEvent::log(
                Phase::Gitops,
                Level::Info,
                format!(
                    "Rendered {} file(s); Flux installs {} component(s): {}.",
                    tree.files.len(),
                    components.len(),
                    components.join(", ")
                ),
            )],
            &[],
        )
        .await
        .map_err(|e| StepError::failed(Phase::Gitops, format!("Cannot record progress: {e}"), "Retry."))?;

    let message = format!(
        "{fqdn}: {} component(s)\n\nRendered by Catalyst for deployment {id}.",
        components.len()
    );
    let timeout = cfg.step_timeout;
    let push = async {
        let _one_at_a_time = engine.0.push_lock.lock().await;
        publish(remote, &tree, &message).await
    };
    let pushed = tokio::select! {
        r = tokio::time::timeout(timeout, push) => r,
        () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::Gitops)),
    };
    let outcome = match pushed {
        Err(_) => {
            return Err(StepError::failed(
                Phase::Gitops,
                format!(
                    "Pushing to the GitOps repository did not finish within {}.",
                    humanize(timeout)
                ),
                format!(
                    "Check that the console can reach {} (DNS, firewall, proxy), then retry.",
                    remote.url
                ),
            ));
        }
        Ok(Err(e)) => {
            let hint = match &e {
                GitopsError::Auth(_) => {
                    "Give the token in --gitops-token write access to the branch (and check --gitops-username), restart the console, then retry."
                }
                GitopsError::Rejected(_) => {
                    "The branch may be protected against this token's pushes: allow them, or choose another branch with --gitops-branch; then retry."
                }
                GitopsError::Unreachable(_) => {
                    "Check that the console can reach the Git server (DNS, firewall, proxy), then retry."
                }
                _ => "Retry; the push is safe to repeat.",
            };
            return Err(StepError::failed(
                Phase::Gitops,
                redactor.apply(&e.to_string()),
                hint,
            ));
        }
        Ok(Ok(outcome)) => outcome,
    };
    let short: String = outcome.commit.chars().take(12).collect();
    let done = if outcome.changed {
        format!(
            "Pushed {root}/ to {} (branch {}) as commit {short}.",
            remote.url, remote.branch
        )
    } else {
        format!(
            "{root}/ is already up to date in {} (branch {}) at commit {short}.",
            remote.url, remote.branch
        )
    };
    phase_finished(engine, id, Phase::Gitops, PhaseState::Succeeded, &done).await?;
    Ok(Published {
        components,
        commit: outcome.commit,
        own,
    })
}

/// The components Flux installs as HelmReleases (`bp-<id>`) for `releases`, in install order: the
/// bootstrap kit's, so without what cloud-init installs itself (Flux).
pub fn helm_release_ids(releases: &[crate::gitops::ComponentRelease]) -> Result<Vec<String>, GitopsError> {
    Ok(kit_order(releases)?.into_iter().map(|r| r.id.clone()).collect())
}

/// [`helm_release_ids`] for a selection of catalog ids (dependencies added).
pub fn helm_releases_for(
    catalog: &app::catalog::Catalog,
    selected: &[String],
) -> Result<Vec<String>, GitopsError> {
    helm_release_ids(&components_for(catalog, selected)?)
}
