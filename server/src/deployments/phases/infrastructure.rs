//! Phase 0, `provisioning`: the DNS name reserved, the GitOps tree, then `tofu init`, `plan`, `apply`,
//! `output`, the DNS records (`super::dns`); then `waiting-for-cluster`. Apply is idempotent, so a resumed run simply starts at init again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app::deployments::{DeploymentRequest, DeploymentResult, DeploymentStatus, Level, Phase, PhaseState};

use crate::db::deployment_events::{Effect, NewEvent};
use crate::db::deployments::{DeploymentRow, StatusWrite};
use crate::deployments::step::{
    StepError, StepResult, TofuRun, missing_tofu, phase_finished, redactor, request_of, secrets_of, tofu_of,
    workdir_of, write_workdir,
};
use crate::deployments::{Engine, RunCtx};
use crate::tofu::runner::{self, Step, Tofu, TofuError};

/// Phase 0: GitOps tree, then `tofu init`, `plan`, `apply`, `output`; then waiting-for-cluster.
///
/// Every pass issues new single-use kubeconfig bearers to the regions that have not reported back. A
/// bearer reaches a control plane only through its user data, which cloud-init reads once, at first boot:
/// so the control planes of those regions that already exist (an earlier pass created them with a bearer
/// that is no longer valid) are re-created with `-replace` and boot with the new one.
pub async fn run(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
    let id = row.id.as_str();
    let request = request_of(row)?;
    let secrets = secrets_of(engine, row, Phase::Gitops).await?;

    // Before anything is pushed or created: without OpenTofu the run cannot get anywhere.
    let mut tofu = tofu_of(engine);
    if tofu.resolve().is_none() {
        return Err(missing_tofu(engine, Phase::TofuInit));
    }
    let cfg = engine.config();
    let keys = crate::tofu::region_keys(&request.regions);
    let valid_for = cfg.apply_timeout + cfg.step_timeout * 3 + cfg.cluster_timeout;
    let bearers = engine
        .issue_bearers(id, &keys, valid_for)
        .await
        .map_err(|e| StepError::failed(Phase::Gitops, app::error::AppError::from(e).to_string(), "Retry."))?;
    let mut redactor = redactor(engine, &secrets, &bearers);
    // The name first: one taken meanwhile fails the run before anything is pushed or created. Its update
    // key goes to the Sovereign (DNS-01 and external-dns).
    let zone = super::dns::reserve(engine, row, &request, ctx).await?;
    let dns = match &zone {
        Some(zone) => super::dns::update_key(engine, id, zone, ctx).await?,
        None => None,
    };
    if let Some(dns) = &dns {
        redactor = redactor.and(dns.secret.expose());
    }
    let published = super::gitops::publish_tree(engine, id, &request, ctx, &redactor, dns.is_some()).await?;
    // The flow knows the whole run from here: the hand-back and every HelmRelease, waiting.
    crate::flow::seed_releases(engine, id, &request, &published.components).await;

    let workdir = workdir_of(engine, id);
    // With a forge: the Sovereign's own repository and deploy key instead of any shared token.
    let own = published.own.as_ref();
    if let Some(own) = own {
        redactor = redactor.and(own.private_key.expose());
    }
    let secret_env = write_workdir(engine, &workdir, id, &request, &secrets, &bearers, dns.as_ref(), own).map_err(|e| {
        StepError::failed(
            Phase::TofuInit,
            format!("Cannot prepare the OpenTofu work directory: {e}"),
            "Check that the console's data directory is writable and --tofu-module-dir points at the infra/hetzner module; then retry.",
        )
    })?;
    tofu.env.extend(secret_env);
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

    // Control planes of regions that get a new bearer but exist already: re-created, so they boot with it.
    let existing = run.state_list(Phase::TofuInit).await?;
    let replace: Vec<String> = existing
        .iter()
        .filter(|addr| {
            bearers
                .keys()
                .any(|k| addr.starts_with(&format!("hcloud_server.control_plane[\"{k}-cp")))
        })
        .map(|addr| format!("-replace={addr}"))
        .collect();
    if !replace.is_empty() {
        engine
            .append(
                id,
                &[NewEvent::log(
                    Phase::TofuPlan,
                    Level::Warn,
                    format!(
                        "Re-creating {} control plane(s) that never reported back, so they boot with this run's new single-use bearer (cloud-init reads it once, at first boot).",
                        replace.len()
                    ),
                )],
                &[],
            )
            .await
            .ok();
    }

    run.start(
        Phase::TofuPlan,
        "Planning the cloud resources (network, firewall, servers, load balancer).",
        vec![Effect::ClearResources],
    )
    .await?;
    // No saved plan: a plan file holds every variable's value, the sensitive ones included. Apply plans
    // again (the same inputs, the same result) and applies at once.
    let mut plan: Vec<&str> = vec!["plan", "-input=false", "-no-color", "-json", LOCK];
    plan.extend(replace.iter().map(String::as_str));
    run.command(Phase::TofuPlan, &plan, cfg.step_timeout, None, true)
        .await?;

    run.start(
        Phase::TofuApply,
        "Applying the plan: this creates real cloud resources.",
        vec![],
    )
    .await?;
    let mut apply: Vec<&str> = vec![
        "apply",
        "-input=false",
        "-no-color",
        "-json",
        "-auto-approve",
        LOCK,
    ];
    apply.extend(replace.iter().map(String::as_str));
    if let Err((e, diagnosed)) = run
        .command_diagnosed(Phase::TofuApply, &apply, cfg.apply_timeout, None, true)
        .await
    {
        // A server Hetzner could not place: name it and what Hetzner has now, instead of its bare code.
        return Err(match diagnosed {
            Some(d) => {
                crate::flow::record_tofu_failure(engine, id, &request, &d).await;
                super::unavailable::explain(engine, &request, &secrets.hetzner_token, &d)
                    .await
                    .unwrap_or(e)
            }
            None => e,
        });
    }

    run.start(Phase::TofuOutput, "Reading the OpenTofu outputs.", vec![])
        .await?;
    let out = run.outputs(Phase::TofuOutput).await?;
    let mut result = parse_outputs(&out, &request);
    result.components = published.components;
    result.gitops_commit = published.commit;
    phase_finished(
        engine,
        id,
        Phase::TofuOutput,
        PhaseState::Succeeded,
        "Read the OpenTofu outputs.",
    )
    .await?;
    super::dns::publish(engine, row, &request, &result.load_balancer_ip, ctx).await?;
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
    w.effects = vec![Effect::Phase {
        phase: Phase::Cluster,
        state: PhaseState::Running,
    }];
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
    // `regions`: region key → {api_endpoint, …} (the address each region's kubeconfig must name).
    let api_endpoints = v
        .get("regions")
        .and_then(|o| o.get("value"))
        .and_then(|r| r.as_object())
        .map(|regions| {
            regions
                .iter()
                .filter_map(|(key, r)| {
                    let endpoint = r.get("api_endpoint")?.as_str()?.trim();
                    (!endpoint.is_empty()).then(|| (key.clone(), endpoint.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    DeploymentResult {
        control_plane_ip: get("control_plane_ip"),
        load_balancer_ip: get("load_balancer_ip"),
        console_url: or(get("console_url"), format!("https://console.{fqdn}")),
        gitops_repo_url: get("gitops_repo_url"),
        api_endpoints,
        ..Default::default()
    }
}
