//! The GitOps step of Phase 0: render `clusters/<fqdn>/` from `clusters/_template` plus one HelmRelease per
//! selected component (dependencies included) and push it to the configured repository — before OpenTofu
//! creates the servers whose cloud-init points Flux at that folder, so Flux finds it on first boot.
//!
//! Idempotent: a retry, a restart or a takeover renders the same tree again, and an identical tree pushes
//! nothing. Without `--gitops-repo-url` the step fails at once, naming the option, before anything is created
//! in the cloud (a Sovereign whose Flux has nothing to pull would come up empty).

use std::sync::Arc;

use app::deployments::{DeploymentRequest, Level, Phase, PhaseState};

use crate::db::deployment_events::NewEvent;
use crate::deployments::redact::Redactor;
use crate::deployments::step::{StepError, phase_finished, phase_started};
use crate::deployments::{Engine, RunCtx};
use crate::gitops::catalog::components_for;
use crate::gitops::{Acme, GitopsError, KitOptions, RenderInput, cluster_path, kit_order, publish, render};
use crate::tofu::runner::humanize;

/// What the step handed to Flux.
#[derive(Debug, Clone)]
pub struct Published {
    /// The HelmReleases `bp-<id>` of the kit (catalog ids with a Helm chart, dependencies included, those
    /// cloud-init installs itself left out), in install order: what the component watch waits for.
    pub components: Vec<String>,
    /// The branch's commit after the push.
    pub commit: String,
}

/// The option an operator sets when no repository is configured.
pub const MISSING_REPO_HINT: &str = "Start Catalyst with --gitops-repo-url (CATALYST_GITOPS_REPO_URL) set to an https Git repository and --gitops-token (CATALYST_GITOPS_TOKEN) with write access to its branch, then retry. Nothing was created in the cloud yet.";

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
    let remote = cfg.gitops.require_remote().map_err(|_| {
        StepError::failed(
            Phase::Gitops,
            "No GitOps repository is configured on this console (--gitops-repo-url), so the Sovereign's Flux would have nothing to install.",
            MISSING_REPO_HINT,
        )
    })?;
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
