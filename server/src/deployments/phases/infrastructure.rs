//! Phase 0, `provisioning`: the GitOps tree, then `tofu init`, `plan`, `apply`, `output`; then
//! `waiting-for-cluster`. Apply is idempotent, so a resumed run simply starts at init again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::deployments::{DeploymentRequest, DeploymentResult, DeploymentStatus, Level, Phase, PhaseState};

use crate::db::deployment_events::{Effect, NewEvent};
use crate::db::deployments::{DeploymentRow, StatusWrite};
use crate::deployments::step::{
    StepError, StepResult, TofuRun, missing_tofu, redactor, request_of, secrets_of, tofu_of, workdir_of,
    write_workdir,
};
use crate::deployments::{Engine, RunCtx};
use crate::tofu::runner::{self, Step, Tofu, TofuError};

/// Phase 0: GitOps tree, then `tofu init`, `plan`, `apply`, `output`; then waiting-for-cluster.
pub async fn run(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
    let id = row.id.as_str();
    let request = request_of(row)?;
    let secrets = secrets_of(engine, row, Phase::Gitops).await?;
    let redactor = redactor(engine, id, &secrets);

    // Before anything is pushed or created: without OpenTofu the run cannot get anywhere.
    let tofu = tofu_of(engine);
    if tofu.resolve().is_none() {
        return Err(missing_tofu(engine, Phase::TofuInit));
    }
    let published = super::gitops::publish_tree(engine, id, &request, ctx, &redactor).await?;

    let workdir = workdir_of(engine, id);
    write_workdir(engine, &workdir, id, &request, &secrets).map_err(|e| {
        StepError::failed(
            Phase::TofuInit,
            format!("Cannot prepare the OpenTofu work directory: {e}"),
            "Check that the console's data directory is writable and --tofu-module-dir points at the infra/hetzner module; then retry.",
        )
    })?;
    if runner::stop_leftover(&workdir).await {
        engine
            .append(
                id,
                &[NewEvent::log(
                    Phase::TofuInit,
                    Level::Warn,
                    "Stopped an OpenTofu process left running by an earlier console process.",
                )],
                &[],
            )
            .await
            .ok();
    }
    let cfg = engine.config();
    let run = TofuRun {
        engine,
        id,
        tofu: &tofu,
        workdir: &workdir,
        ctx,
        redactor: &redactor,
    };
    const LOCK: &str = "-lock-timeout=120s";

    run.start(
        Phase::TofuInit,
        "Initialising the OpenTofu working directory.",
        vec![],
    )
    .await?;
    check_version(engine, id, &tofu, &workdir, ctx).await?;
    run.command(
        Phase::TofuInit,
        &["init", "-input=false", "-no-color"],
        cfg.step_timeout,
        None,
        true,
    )
    .await?;

    run.start(
        Phase::TofuPlan,
        "Planning the cloud resources (network, firewall, servers, load balancer).",
        vec![Effect::ClearResources],
    )
    .await?;
    let plan = ["plan", "-input=false", "-no-color", "-json", "-out=tfplan", LOCK];
    run.command(Phase::TofuPlan, &plan, cfg.step_timeout, None, true)
        .await?;

    run.start(
        Phase::TofuApply,
        "Applying the plan: this creates real cloud resources.",
        vec![],
    )
    .await?;
    let apply = [
        "apply",
        "-input=false",
        "-no-color",
        "-json",
        "-auto-approve",
        LOCK,
        "tfplan",
    ];
    run.command(Phase::TofuApply, &apply, cfg.apply_timeout, None, true)
        .await?;

    run.start(Phase::TofuOutput, "Reading the OpenTofu outputs.", vec![])
        .await?;
    let out = run.outputs(Phase::TofuOutput).await?;
    let mut result = parse_outputs(&out, &request);
    result.components = published.components;
    result.gitops_commit = published.commit;
    let mut w = StatusWrite::new(
        DeploymentStatus::WaitingForCluster,
        Phase::Cluster,
        format!(
            "Cloud resources are up (load balancer {}); waiting for the control plane to boot, install Flux and report back.",
            if result.load_balancer_ip.is_empty() {
                "without an address"
            } else {
                &result.load_balancer_ip
            }
        ),
    );
    w.only_from = Some(vec![DeploymentStatus::Provisioning]);
    w.result = serde_json::to_string(&result).ok();
    w.effects = vec![
        Effect::Phase {
            phase: Phase::TofuOutput,
            state: PhaseState::Succeeded,
        },
        Effect::Phase {
            phase: Phase::Cluster,
            state: PhaseState::Running,
        },
    ];
    engine.transition(id, &w).await.map(|_| ()).map_err(|e| {
        StepError::failed(
            Phase::TofuOutput,
            format!("Cannot record the outputs: {e}"),
            "Retry.",
        )
    })
}

/// `tofu version -json`: refuses OpenTofu older than 1.6; an unreadable answer is only a warning.
async fn check_version(
    engine: &Engine,
    id: &str,
    tofu: &Tofu,
    workdir: &Path,
    ctx: &Arc<RunCtx>,
) -> StepResult {
    let step = Step {
        args: vec!["version".into(), "-json".into()],
        workdir: workdir.to_path_buf(),
        timeout: Duration::from_secs(60),
        cancel: ctx.cancel.child_token(),
        capture_stdout: true,
    };
    match tofu.run(&step, |_, _| {}).await {
        Ok(out) => match runner::parse_version(&out) {
            Some((major, minor)) if (major, minor) < (1, 6) => Err(StepError::failed(
                Phase::TofuInit,
                format!("OpenTofu {major}.{minor} is too old; Catalyst needs 1.6 or newer."),
                "Install OpenTofu 1.6 or newer (https://opentofu.org/docs/intro/install/) or point --tofu-bin at it; then retry.",
            )),
            Some((major, minor)) => {
                let _ = engine
                    .append(
                        id,
                        &[NewEvent::log(
                            Phase::TofuInit,
                            Level::Debug,
                            format!("OpenTofu {major}.{minor}."),
                        )],
                        &[],
                    )
                    .await;
                Ok(())
            }
            None => {
                let _ = engine
                    .append(
                        id,
                        &[NewEvent::log(
                            Phase::TofuInit,
                            Level::Warn,
                            "Cannot read OpenTofu's version; continuing.",
                        )],
                        &[],
                    )
                    .await;
                Ok(())
            }
        },
        Err(TofuError::Missing { .. }) => Err(missing_tofu(engine, Phase::TofuInit)),
        Err(TofuError::Cancelled) => Err(StepError::Stopped(Phase::TofuInit)),
        Err(_) => Ok(()),
    }
}

/// `tofu output -json`: `{"name": {"value": …, "type": …, "sensitive": …}}`.
pub fn parse_outputs(json: &[u8], request: &DeploymentRequest) -> DeploymentResult {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap_or_default();
    let get = |k: &str| {
        v.get(k)
            .and_then(|o| o.get("value"))
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let fqdn = request.fqdn();
    let or = |s: String, d: String| if s.is_empty() { d } else { s };
    DeploymentResult {
        control_plane_ip: get("control_plane_ip"),
        load_balancer_ip: get("load_balancer_ip"),
        console_url: or(get("console_url"), format!("https://console.{fqdn}")),
        gitops_repo_url: get("gitops_repo_url"),
        ..Default::default()
    }
}
