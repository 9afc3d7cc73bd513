//! The `wiping` step: `tofu destroy` of what the OpenTofu state holds, then the sweep of everything else the
//! deployment left in the Hetzner project (by the label `catalyst.dev/deployment-id` and by the module's
//! resource-name prefix: volumes the CSI driver made, load balancers of the cloud controller, resources of a
//! lost state), then the teardown report — what was removed and anything still left, with its monthly cost.
//!
//! Nothing left → `wiped`. Something left (delete protection, a resource Hetzner keeps busy) → `failed` in the
//! sweep phase with the report, so the page shows what remains, why and what it costs, and a retry of the
//! wipe tries again. After the cloud, the Sovereign's own GitOps repository and its deploy key go (with a
//! forge; `gitops::forge`, idempotent), then the DNS names (records, zone, delegation, update key;
//! `crate::dns`): what the forge or Catalyst's PowerDNS kept is in the report too.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use app::deployments::{
    CloudResource, DeploymentError, DeploymentStatus, Level, Phase, PhaseState, TeardownReport,
};

use crate::db::deployment_events::{Effect, NewEvent};
use crate::db::deployments::{DeploymentRow, StatusWrite};
use crate::db::now_ms;
use crate::deployments::step::{
    StepError, StepResult, TofuRun, missing_tofu, phase_finished, phase_started, redactor, request_of,
    secrets_of, tofu_of, workdir_of, write_workdir,
};
use crate::deployments::{Engine, RunCtx};
use crate::hetzner::{HetznerClient, HetznerError, Resource, SweepTarget, inventory, name_prefix, sweep};
use crate::tofu::TFVARS_FILE;
use crate::tofu::runner;

/// OpenTofu's local state file in the work directory.
const STATE_FILE: &str = "terraform.tfstate";

const NEW_TOKEN_HINT: &str = "Wipe again with a new Read & Write API token of the Hetzner project (the wipe accepts one); the old token may have been revoked.";

pub async fn wipe(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
    let id = row.id.as_str();
    let request = request_of(row)?;
    let secrets = secrets_of(engine, row, Phase::TofuDestroy).await?;
    let redactor = redactor(engine, &secrets, &Default::default());
    // Nothing of this deployment may hand a kubeconfig back any more.
    engine.revoke_bearers(id).await;
    let cfg = engine.config();
    let client = HetznerClient::new(&cfg.hetzner_api_url, secrets.hetzner_token.clone()).map_err(|e| {
        StepError::failed(
            Phase::TofuDestroy,
            e.to_string(),
            "Check --hetzner-api-url, then retry the wipe.",
        )
    })?;
    let target = SweepTarget {
        deployment_id: id.to_string(),
        name_prefix: name_prefix(&row.fqdn),
    };

    phase_started(
        engine,
        id,
        Phase::TofuDestroy,
        "Destroying every resource in the OpenTofu state.",
        vec![],
    )
    .await?;
    // What exists before anything is deleted, with its price: the report says what the wipe removed and
    // what that had cost. Without an answer the wipe goes on (OpenTofu and the sweep say more).
    let before = tokio::select! {
        r = inventory(&client, &target) => r,
        () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::TofuDestroy)),
    };
    let before: Option<Vec<Resource>> = match before {
        Ok(list) => {
            let cost: f64 = list.iter().map(|r| r.monthly_cost_eur).sum();
            note(
                engine,
                id,
                Phase::TofuDestroy,
                Level::Info,
                format!(
                    "The Hetzner project holds {} resource(s) of this deployment (€{:.2}/month).",
                    list.len(),
                    cost
                ),
            )
            .await;
            Some(list)
        }
        Err(e @ HetznerError::Rejected { .. }) => {
            return Err(StepError::failed(
                Phase::TofuDestroy,
                redactor.apply(&e.to_string()),
                NEW_TOKEN_HINT,
            ));
        }
        Err(e) => {
            note(
                engine,
                id,
                Phase::TofuDestroy,
                Level::Warn,
                format!(
                    "Cannot list the project's resources before the destroy ({}); continuing.",
                    redactor.apply(&e.to_string())
                ),
            )
            .await;
            None
        }
    };

    let workdir = workdir_of(engine, id);
    let mut destroyed = Vec::new();
    if workdir.join(STATE_FILE).is_file() {
        destroy(
            engine,
            row,
            &request,
            &secrets,
            &workdir,
            ctx,
            &redactor,
            &mut destroyed,
        )
        .await?;
    } else {
        phase_finished(
            engine,
            id,
            Phase::TofuDestroy,
            PhaseState::Skipped,
            "No OpenTofu state: the run never reached apply (or its work directory is gone). The sweep below finds anything left by label and name.",
        )
        .await?;
    }

    phase_started(
        engine,
        id,
        Phase::Sweep,
        &format!(
            "Looking for left-overs labelled catalyst.dev/deployment-id={id} or named {}-….",
            target.name_prefix
        ),
        vec![],
    )
    .await?;
    let swept = tokio::select! {
        r = sweep(&client, &target, &cfg.sweep) => r,
        () = ctx.cancel.cancelled() => return Err(StepError::Stopped(Phase::Sweep)),
    };
    let swept = swept.map_err(|e| {
        let hint = match e {
            HetznerError::Rejected { .. } => NEW_TOKEN_HINT,
            _ => "Check that the console can reach the Hetzner API (--hetzner-api-url), then retry the wipe.",
        };
        StepError::failed(Phase::Sweep, redactor.apply(&e.to_string()), hint)
    })?;
    let lines: Vec<NewEvent> = swept
        .removed
        .iter()
        .map(|r| {
            NewEvent::log(
                Phase::Sweep,
                Level::Info,
                format!("Removed the left-over {}.", describe(r)),
            )
        })
        .chain(swept.remaining.iter().map(|r| {
            NewEvent::log(
                Phase::Sweep,
                Level::Error,
                format!(
                    "Could not remove {}: {}.",
                    describe(r),
                    r.reason.as_deref().unwrap_or("unknown reason")
                ),
            )
        }))
        .collect();
    if !lines.is_empty() {
        let _ = engine.append(id, &lines, &[]).await;
    }

    let mut report = teardown_report(before.as_deref(), &destroyed, &swept);
    forge_release(engine, id, &row.fqdn, &mut report).await;
    // The names last: a Sovereign half-wiped still answers under its name.
    dns_release(engine, id, &mut report).await;
    let teardown = serde_json::to_string(&report).ok();
    if report.remaining.is_empty() {
        let mut w = StatusWrite::new(
            DeploymentStatus::Wiped,
            Phase::Sweep,
            format!(
                "Wiped: {} resource(s) removed, nothing left in the Hetzner project or Catalyst's DNS.",
                report.removed.len()
            ),
        );
        w.only_from = Some(vec![DeploymentStatus::Wiping]);
        w.teardown = teardown;
        w.effects = vec![Effect::Phase {
            phase: Phase::Sweep,
            state: PhaseState::Succeeded,
        }];
        engine.transition(id, &w).await.map_err(|e| {
            StepError::failed(
                Phase::Sweep,
                format!("Cannot record the teardown: {e}"),
                "Retry the wipe.",
            )
        })?;
        // The state is empty now; the work directory has nothing left worth keeping.
        let _ = std::fs::remove_dir_all(&workdir);
        return Ok(());
    }
    // Something is still there: failed, with the report, so a person sees what, why and at what cost.
    let names: Vec<String> = report
        .remaining
        .iter()
        .map(|r| format!("{} {}", r.kind.replace('_', " "), r.name))
        .collect();
    let error = DeploymentError {
        phase: Phase::Sweep,
        message: format!(
            "{} resource(s) could not be removed and still cost €{:.2}/month: {}.",
            report.remaining.len(),
            report.remaining_monthly_cost(),
            names.join(", ")
        ),
        hint: "The teardown report says why for each one (e.g. delete protection: turn it off in the Hetzner console; Catalyst's DNS server not answering: wait until it does). Fix that, then retry the wipe.".into(),
    };
    let mut w = StatusWrite::new(
        DeploymentStatus::Failed,
        Phase::Sweep,
        format!("Failed in {}: {}", Phase::Sweep.label(), error.message),
    );
    w.only_from = Some(vec![DeploymentStatus::Wiping]);
    w.error = serde_json::to_string(&error).ok();
    w.teardown = teardown;
    w.effects = vec![Effect::Phase {
        phase: Phase::Sweep,
        state: PhaseState::Failed,
    }];
    engine.transition(id, &w).await.map(|_| ()).map_err(|e| {
        StepError::failed(
            Phase::Sweep,
            format!("Cannot record the teardown: {e}"),
            "Retry the wipe.",
        )
    })
}

/// `tofu init` + `tofu destroy` in the work directory, with the current token. `destroyed` collects the
/// resources OpenTofu deleted.
#[allow(clippy::too_many_arguments)]
async fn destroy(
    engine: &Engine,
    row: &DeploymentRow,
    request: &app::deployments::DeploymentRequest,
    secrets: &app::deployments::DeploymentSecrets,
    workdir: &Path,
    ctx: &Arc<RunCtx>,
    redactor: &crate::deployments::redact::Redactor,
    destroyed: &mut Vec<CloudResource>,
) -> StepResult {
    let id = row.id.as_str();
    // A Sovereign with a repository of its own: the same repository and key variables it was applied with.
    let own = own_repo(engine, id).await;
    let secret_env = match write_workdir(
        engine,
        workdir,
        id,
        request,
        secrets,
        &Default::default(),
        None,
        own.as_ref(),
    ) {
        Ok(env) => env,
        Err(e) => {
            // No GitOps repository any more (or another setting changed): keep the variables file OpenTofu
            // applied with; the current token, all a destroy needs, goes into its environment.
            if !workdir.join(TFVARS_FILE).is_file() {
                return Err(StepError::failed(
                    Phase::TofuDestroy,
                    format!("Cannot prepare the OpenTofu work directory: {e}"),
                    "Check that the console's data directory is writable and --tofu-module-dir points at the infra/hetzner module; then retry the wipe.",
                ));
            }
            scrub_secrets(workdir).map_err(|io| {
                StepError::failed(
                    Phase::TofuDestroy,
                    format!("Cannot prepare the OpenTofu work directory: {e}; {io}"),
                    "Check that the console's data directory is writable; then retry the wipe.",
                )
            })?;
            vec![(
                "TF_VAR_hcloud_token".to_string(),
                secrets.hetzner_token.expose().to_string(),
            )]
        }
    };
    runner::stop_leftover(workdir).await;
    let mut tofu = tofu_of(engine);
    tofu.env.extend(secret_env);
    if tofu.resolve().is_none() {
        return Err(missing_tofu(engine, Phase::TofuDestroy));
    }
    let cfg = engine.config();
    let run = TofuRun {
        engine,
        id,
        tofu: &tofu,
        workdir,
        ctx,
        redactor,
    };
    run.command(
        Phase::TofuDestroy,
        &["init", "-input=false", "-no-color"],
        cfg.step_timeout,
        None,
        false,
    )
    .await?;
    let destroy = [
        "destroy",
        "-input=false",
        "-no-color",
        "-json",
        "-auto-approve",
        "-lock-timeout=120s",
    ];
    run.command(
        Phase::TofuDestroy,
        &destroy,
        cfg.apply_timeout,
        Some(destroyed),
        true,
    )
    .await
}

/// The Sovereign's own repository as OpenTofu applied it (sealed deploy key + the forge's host keys);
/// `None` without a forge or a stored key.
async fn own_repo(engine: &Engine, id: &str) -> Option<crate::tofu::OwnRepo> {
    let forge = engine.config().gitops.forge.as_ref()?;
    let key = match super::gitops::load_deploy_key(engine, id).await {
        Ok(key) => key?,
        Err(e) => {
            tracing::warn!(deployment = %id, error = %e, "wipe: cannot read the deploy key");
            return None;
        }
    };
    (!key.ssh_url.is_empty()).then(|| crate::tofu::OwnRepo {
        ssh_url: key.ssh_url,
        private_key: key.private_key,
        known_hosts: forge.known_hosts.clone(),
    })
}

/// Deletes the Sovereign's own repository and deploy key on the forge (a deployment that has a sealed deploy
/// key had one); idempotent, so a retried wipe that finds them gone reports them removed. What the forge
/// kept joins the report's `remaining`.
async fn forge_release(engine: &Engine, id: &str, fqdn: &str, report: &mut TeardownReport) {
    let key = match super::gitops::load_deploy_key(engine, id).await {
        Ok(Some(key)) => key,
        Ok(None) => return,
        Err(e) => {
            // It exists but cannot be read: the repository is still this deployment's to delete.
            tracing::warn!(deployment = %id, error = %e, "wipe: cannot read the deploy key");
            super::gitops::DeployKey {
                private_key: Default::default(),
                ssh_url: String::new(),
            }
        }
    };
    let name = crate::gitops::forge::repo_name(fqdn).unwrap_or_else(|_| fqdn.to_string());
    let Some(forge) = engine.config().gitops.forge.as_ref() else {
        let reason = "no forge is configured on this console (--gitops-forge-url): start it with the forge that holds the repository and retry the wipe, or delete the repository by hand";
        note(
            engine,
            id,
            Phase::Sweep,
            Level::Error,
            format!("Could not delete the GitOps repository {name}: {reason}."),
        )
        .await;
        report.remaining.push(CloudResource {
            kind: "gitops_repository".into(),
            id: String::new(),
            name,
            monthly_cost: 0.0,
            reason: reason.into(),
        });
        return;
    };
    let full = format!("{}/{name}", forge.org);
    let redactor =
        crate::deployments::redact::Redactor::new([forge.token.expose(), key.private_key.expose()]);
    let removed = match forge.client() {
        Ok(client) => match tokio::time::timeout(engine.config().step_timeout, client.remove(fqdn)).await {
            Ok(r) => r.map_err(|e| redactor.apply(&e.to_string())),
            Err(_) => Err(format!(
                "the forge did not answer within {}",
                crate::tofu::runner::humanize(engine.config().step_timeout)
            )),
        },
        Err(e) => Err(redactor.apply(&e.to_string())),
    };
    match removed {
        Ok(()) => {
            if let Err(e) = super::gitops::delete_deploy_key(engine, id).await {
                tracing::warn!(deployment = %id, error = %e, "wipe: cannot delete the stored deploy key");
            }
            note(
                engine,
                id,
                Phase::Sweep,
                Level::Info,
                format!("Deleted the GitOps repository {full} and its read-only deploy key on the forge."),
            )
            .await;
            report.removed.push(CloudResource {
                kind: "gitops_repository".into(),
                id: full.clone(),
                name: full,
                monthly_cost: 0.0,
                reason: String::new(),
            });
        }
        Err(why) => {
            note(
                engine,
                id,
                Phase::Sweep,
                Level::Error,
                format!("Could not delete the GitOps repository {full}: {why}"),
            )
            .await;
            report.remaining.push(CloudResource {
                kind: "gitops_repository".into(),
                id: full.clone(),
                name: full,
                monthly_cost: 0.0,
                reason: format!("{why}; retry the wipe once the forge answers"),
            });
        }
    }
}

/// Removes the sensitive variables an earlier version wrote into an existing variables file (they reach
/// OpenTofu through its environment now), keeping everything else.
fn scrub_secrets(workdir: &Path) -> std::io::Result<()> {
    let path = workdir.join(TFVARS_FILE);
    let mut vars: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    if let Some(map) = vars.as_object_mut() {
        for secret in [
            "hcloud_token",
            "kubeconfig_bearer_token",
            "kubeconfig_bearer_tokens",
            "gitops_token",
            "gitops_ssh_private_key",
            "dns_tsig_secret",
        ] {
            map.remove(secret);
        }
    }
    let json = serde_json::to_vec_pretty(&vars).map_err(std::io::Error::other)?;
    crate::crypto::write_private(&path, &json)
}

/// Frees the deployment's DNS names (records, zone, delegation, TSIG key): removed zones join the report's
/// `removed`, whatever Catalyst's PowerDNS kept its `remaining` (the name stays this deployment's, so a
/// retry of the wipe removes it).
async fn dns_release(engine: &Engine, id: &str, report: &mut TeardownReport) {
    const KEPT: &str = "Catalyst's DNS server did not answer; retry the wipe once it does";
    let released = match engine.config().dns.as_ref() {
        None => return,
        Some(pools) => pools.release_deployment(id).await,
    };
    let released = match released {
        Ok(list) => list,
        Err(e) => {
            note(
                engine,
                id,
                Phase::Sweep,
                Level::Error,
                format!("Cannot release the DNS names: {e}"),
            )
            .await;
            report.remaining.push(CloudResource {
                kind: "dns_zone".into(),
                id: String::new(),
                name: "the DNS names of this deployment".into(),
                monthly_cost: 0.0,
                reason: e.to_string(),
            });
            return;
        }
    };
    for r in released {
        let zone = r.freed.zone.clone();
        if r.left.is_empty() {
            note(
                engine,
                id,
                Phase::Sweep,
                Level::Info,
                format!(
                    "Removed the DNS zone {zone} (records, delegation and update key); the name is free."
                ),
            )
            .await;
            report.removed.push(CloudResource {
                kind: "dns_zone".into(),
                id: zone.clone(),
                name: zone,
                monthly_cost: 0.0,
                reason: String::new(),
            });
            continue;
        }
        for thing in r.left {
            note(
                engine,
                id,
                Phase::Sweep,
                Level::Error,
                format!("Could not remove {thing}: {KEPT}."),
            )
            .await;
            report.remaining.push(CloudResource {
                kind: "dns_zone".into(),
                id: zone.clone(),
                name: thing,
                monthly_cost: 0.0,
                reason: KEPT.into(),
            });
        }
    }
}

async fn note(engine: &Engine, id: &str, phase: Phase, level: Level, message: String) {
    let _ = engine
        .append(id, &[NewEvent::log(phase, level, message)], &[])
        .await;
}

fn describe(r: &Resource) -> String {
    let cost = if r.monthly_cost_eur > 0.0 {
        format!(", €{:.2}/month", r.monthly_cost_eur)
    } else {
        String::new()
    };
    format!("{} {} (id {}{cost})", r.kind.label(), r.name, r.id)
}

fn cloud_resource(r: &Resource) -> CloudResource {
    CloudResource {
        kind: serde_json::to_value(r.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        id: r.id.to_string(),
        name: r.name.clone(),
        monthly_cost: r.monthly_cost_eur,
        reason: r.reason.clone().unwrap_or_default(),
    }
}

/// Removed: what existed before and is gone now (OpenTofu's deletions and the sweep's), with prices; if the
/// project could not be listed before, OpenTofu's own list of deletions. Remaining: what the sweep could
/// not delete, with the reason and the price.
pub fn teardown_report(
    before: Option<&[Resource]>,
    destroyed: &[CloudResource],
    swept: &crate::hetzner::TeardownReport,
) -> TeardownReport {
    let left: BTreeSet<(String, i64)> = swept
        .remaining
        .iter()
        .map(|r| (r.kind.label().to_string(), r.id))
        .collect();
    let mut seen: BTreeSet<(String, i64)> = BTreeSet::new();
    let mut removed = Vec::new();
    for r in before.unwrap_or_default().iter().chain(&swept.removed) {
        let key = (r.kind.label().to_string(), r.id);
        if !left.contains(&key) && seen.insert(key) {
            removed.push(cloud_resource(r));
        }
    }
    if before.is_none() {
        removed.extend(destroyed.iter().cloned());
    }
    TeardownReport {
        removed,
        remaining: swept.remaining.iter().map(cloud_resource).collect(),
        finished_at: now_ms(),
    }
}
