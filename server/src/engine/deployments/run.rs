//! One deployment's run: status-driven, so a fresh create, a retry, a restart and a takeover from a dead
//! replica all resume from what the stored status says is owed.
//!
//! ```text
//! pending → provisioning: gitops, tofu init, plan, apply, output   (Phase 0; apply is idempotent, so a
//!                                                                    resumed run simply starts at init again)
//! waiting-for-cluster: until the control plane PUTs its kubeconfig  (deadline counted from the phase start)
//! installing: watch the HelmReleases of the selected components    (a late kubeconfig still gets here)
//! wiping: tofu destroy, then the sweep of left-overs, then the teardown report
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use app::deployments::{
    CloudResource, DeploymentRequest, DeploymentResult, DeploymentSecrets, DeploymentStatus, EventKind,
    Level, Phase, PhaseState, ResourceAction, ResourceState, Secret,
};
use tracing::Instrument;

use super::redact::Redactor;
use super::sink::EventSink;
use super::{Engine, RunCtx, StopReason};
use crate::db::deployment_events::{Effect, NewEvent, phase_event};
use crate::db::deployments::{self as store, DeploymentRow, StatusWrite};
use crate::db::{leases, now_ms, secrets as secret_store};
use crate::tofu::json::parse_line;
use crate::tofu::runner::{self, Step, Stream, Tofu, TofuError, humanize};
use crate::tofu::{TfContext, TfVars, prepare_workdir, write_tfvars};

/// How a step of the run ended other than by succeeding.
#[derive(Debug)]
pub enum StepError {
    /// Record the deployment as failed in `phase`.
    Failed {
        phase: Phase,
        message: String,
        hint: String,
    },
    /// The run was stopped (cancel, lost lease, shutdown) while in `phase`.
    Stopped(Phase),
}

impl StepError {
    pub(crate) fn failed(phase: Phase, message: impl Into<String>, hint: impl Into<String>) -> Self {
        StepError::Failed {
            phase,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

pub(crate) type StepResult = Result<(), StepError>;

/// Starts (or resumes) the run of `id` in this process, if the lease can be had. Returns whether the run is
/// (now) running here.
pub async fn spawn(engine: Engine, id: String) -> bool {
    if engine.0.shutdown.is_cancelled() {
        return false;
    }
    let ctx = {
        let mut runs = engine.0.runs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = runs.get(&id) {
            // Running here already: make it look at the status again when it settles (a retry arrived).
            existing.rerun.store(true, Ordering::Release);
            return true;
        }
        let ctx = RunCtx::new();
        runs.insert(id.clone(), ctx.clone());
        ctx
    };
    let ttl = engine.config().lease_ttl.as_millis() as i64;
    match leases::acquire(engine.db(), &id, engine.instance(), ttl).await {
        Ok(true) => {}
        Ok(false) => {
            engine
                .0
                .runs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            return false;
        }
        Err(e) => {
            tracing::warn!(deployment = %id, error = %e, "cannot take the run's lease; the supervisor will retry");
            engine
                .0
                .runs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            return false;
        }
    }
    let span = tracing::info_span!("run", deployment = %id, instance = %engine.instance());
    tokio::spawn(
        async move {
            let heartbeat = tokio::spawn(super::lease::heartbeat(engine.clone(), id.clone(), ctx.clone()));
            loop {
                drive(&engine, &id, &ctx).await;
                let mut runs = engine.0.runs.lock().unwrap_or_else(|e| e.into_inner());
                if ctx.rerun.swap(false, Ordering::AcqRel) && !ctx.cancel.is_cancelled() {
                    continue;
                }
                runs.remove(&id);
                break;
            }
            heartbeat.abort();
            if ctx.reason() != Some(StopReason::LeaseLost)
                && let Err(e) = leases::release(engine.db(), &id, engine.instance()).await
            {
                tracing::warn!(error = %e, "cannot release the run's lease; it expires by itself");
            }
        }
        .instrument(span),
    );
    true
}

/// Does what the status says is owed until the deployment settles or the run is stopped.
async fn drive(engine: &Engine, id: &str, ctx: &Arc<RunCtx>) {
    loop {
        let row = match store::get(engine.db(), id).await {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the deployment; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    () = ctx.cancel.cancelled() => return,
                }
            }
        };
        let step = match row.status() {
            DeploymentStatus::Pending => start(engine, &row).await,
            DeploymentStatus::Provisioning => infrastructure(engine, &row, ctx).await,
            DeploymentStatus::WaitingForCluster => wait_for_cluster(engine, &row, ctx).await,
            DeploymentStatus::Installing => super::watch::install(engine, &row, ctx).await,
            DeploymentStatus::Wiping => super::wipe::wipe(engine, &row, ctx).await,
            DeploymentStatus::Ready | DeploymentStatus::Failed | DeploymentStatus::Wiped => return,
        };
        let outcome = match step {
            Ok(()) => continue,
            Err(StepError::Failed { phase, message, hint }) => engine.fail(id, phase, &message, &hint).await,
            Err(StepError::Stopped(phase)) => match ctx.reason() {
                Some(StopReason::Cancelled { by }) => {
                    engine
                        .fail(
                            id,
                            phase,
                            &format!("Cancelled by {by} during {}.", phase.label().to_lowercase()),
                            "Retry to run again from where it stopped (OpenTofu continues idempotently), or wipe the deployment to remove what was created.",
                        )
                        .await
                }
                Some(StopReason::Shutdown) => {
                    let _ = engine
                        .append(
                            id,
                            &[NewEvent::log(
                                phase,
                                Level::Warn,
                                "The console is shutting down; the run continues when a console starts again.",
                            )],
                            &[],
                        )
                        .await;
                    return;
                }
                Some(StopReason::LeaseLost) | None => return,
            },
        };
        if let Err(e) = outcome {
            // Someone else moved the deployment on (a takeover, a delete): nothing more to do here.
            tracing::warn!(error = %e, "cannot record the run's outcome");
            return;
        }
    }
}

/// pending → provisioning.
async fn start(engine: &Engine, row: &DeploymentRow) -> StepResult {
    let mut w = StatusWrite::new(
        DeploymentStatus::Provisioning,
        Phase::Gitops,
        "Provisioning started.",
    );
    w.only_from = Some(vec![DeploymentStatus::Pending]);
    engine
        .transition(&row.id, &w)
        .await
        .map(|_| ())
        .map_err(|e| StepError::failed(Phase::Gitops, format!("Cannot start: {e}"), "Retry."))
}

pub(crate) fn request_of(row: &DeploymentRow) -> Result<DeploymentRequest, StepError> {
    serde_json::from_str(&row.request).map_err(|_| {
        StepError::failed(
            Phase::Gitops,
            "The stored request cannot be read by this version of Catalyst.",
            "Create the deployment again from the wizard.",
        )
    })
}

pub(crate) async fn secrets_of(
    engine: &Engine,
    row: &DeploymentRow,
    phase: Phase,
) -> Result<DeploymentSecrets, StepError> {
    engine.secrets_of(&row.id).await.map_err(|e| {
        StepError::failed(
            phase,
            app::error::AppError::from(e).to_string(),
            "Start the console with the secret key it was using when the deployment was created.",
        )
    })
}

pub(crate) fn redactor(engine: &Engine, id: &str, secrets: &DeploymentSecrets) -> Redactor {
    let mut values = vec![secrets.hetzner_token.expose().to_string(), engine.bearer_for(id)];
    if let Some(t) = &secrets.registrar_token {
        values.push(t.expose().to_string());
    }
    let gitops = &engine.config().gitops;
    let push = gitops.remote.as_ref().and_then(|r| r.token.as_ref());
    for t in push.into_iter().chain(gitops.pull_token.as_ref()) {
        values.push(t.expose().to_string());
    }
    Redactor::new(values)
}

pub(crate) fn tofu_of(engine: &Engine) -> Tofu {
    let mut env = vec![(
        "TF_PLUGIN_CACHE_DIR".to_string(),
        engine.config().plugin_cache.display().to_string(),
    )];
    env.extend(engine.config().tofu_env.iter().cloned());
    Tofu {
        bin: engine.config().tofu_bin.clone(),
        env,
    }
}

pub(crate) fn missing_tofu(engine: &Engine, phase: Phase) -> StepError {
    StepError::failed(
        phase,
        format!(
            "OpenTofu was not found (--tofu-bin is “{}”).",
            engine.config().tofu_bin.display()
        ),
        "Install OpenTofu 1.6 or newer (https://opentofu.org/docs/intro/install/) on the console's machine, or set --tofu-bin (CATALYST_TOFU_BIN) to its path; then retry.",
    )
}

pub(crate) async fn phase_started(
    engine: &Engine,
    id: &str,
    phase: Phase,
    message: &str,
    extra: Vec<Effect>,
) -> StepResult {
    let mut effects = vec![Effect::Phase {
        phase,
        state: PhaseState::Running,
    }];
    effects.extend(extra);
    engine
        .append(id, &[phase_event(phase, PhaseState::Running, message)], &effects)
        .await
        .map(|_| ())
        .map_err(|e| StepError::failed(phase, format!("Cannot record progress: {e}"), "Retry."))
}

pub(crate) async fn phase_finished(
    engine: &Engine,
    id: &str,
    phase: Phase,
    state: PhaseState,
    message: &str,
) -> StepResult {
    engine
        .append(
            id,
            &[phase_event(phase, state, message)],
            &[Effect::Phase { phase, state }],
        )
        .await
        .map(|_| ())
        .map_err(|e| StepError::failed(phase, format!("Cannot record progress: {e}"), "Retry."))
}

/// The work directory of a deployment: `<data-dir>/deployments/<id>`, mode 0700.
pub fn workdir_of(engine: &Engine, id: &str) -> PathBuf {
    engine.config().work_root.join(id)
}

/// Phase 0: GitOps tree, then `tofu init`, `plan`, `apply`, `output`; then waiting-for-cluster.
async fn infrastructure(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
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

fn hint_for(phase: Phase) -> &'static str {
    match phase {
        Phase::TofuInit => {
            "OpenTofu could not initialise the module (provider download or module files). Check that the console can reach the OpenTofu registry, then retry."
        }
        Phase::TofuPlan => {
            "Planning failed — most often a rejected Hetzner token or an invalid variable. Check that the token belongs to the project and has read & write permission, then retry."
        }
        Phase::TofuApply => {
            "Some resources may already exist. Retry re-runs OpenTofu, which is idempotent and continues where it stopped. If the error names a limit, raise it in the Hetzner console first; to remove everything instead, wipe the deployment."
        }
        Phase::TofuDestroy => {
            "Some resources may remain. Retry the wipe; if the token was revoked, wipe again with a new token."
        }
        _ => "Retry; the step is safe to repeat.",
    }
}

/// What every OpenTofu command of one run shares: the deployment, the binary, its work directory, the run's
/// cancellation and the redactor that keeps secrets out of the events.
pub(crate) struct TofuRun<'a> {
    pub engine: &'a Engine,
    pub id: &'a str,
    pub tofu: &'a Tofu,
    pub workdir: &'a Path,
    pub ctx: &'a Arc<RunCtx>,
    pub redactor: &'a Redactor,
}

impl TofuRun<'_> {
    /// Records that `phase` started (see [`phase_started`]).
    pub(crate) async fn start(&self, phase: Phase, message: &str, extra: Vec<Effect>) -> StepResult {
        phase_started(self.engine, self.id, phase, message, extra).await
    }

    /// One OpenTofu command as (part of) a phase: every line an event, `-json` lines parsed into resource
    /// progress. `removed` collects the resources a destroy deleted; `finishes_phase`: a success ends the phase.
    pub(crate) async fn command(
        &self,
        phase: Phase,
        args: &[&str],
        timeout: Duration,
        mut removed: Option<&mut Vec<CloudResource>>,
        finishes_phase: bool,
    ) -> StepResult {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let command = args.first().cloned().unwrap_or_default();
        let step = Step {
            args,
            workdir: self.workdir.to_path_buf(),
            timeout,
            cancel: self.ctx.cancel.child_token(),
            capture_stdout: false,
        };
        let sink = EventSink::new(self.engine.clone(), self.id.to_string(), self.redactor.clone());
        let mut last_error: Option<String> = None;
        let started = std::time::Instant::now();
        let result = self
            .tofu
            .run(&step, |stream, line| {
                if line.trim().is_empty() {
                    return;
                }
                if stream == Stream::Stdout
                    && let Some(ui) = parse_line(&line)
                {
                    if let Some(e) = &ui.error {
                        last_error = Some(e.clone());
                    }
                    let mut event = NewEvent::log(phase, ui.level, ui.message);
                    let mut effect = None;
                    if let Some(update) = ui.resource {
                        let progress = update.into_progress(now_ms());
                        if let Some(list) = removed.as_deref_mut()
                            && progress.action == ResourceAction::Delete
                            && progress.state == ResourceState::Complete
                        {
                            list.push(CloudResource {
                                kind: progress.resource_type.trim_start_matches("hcloud_").to_string(),
                                id: progress.cloud_id.clone().unwrap_or_default(),
                                name: progress.address.clone(),
                                monthly_cost: 0.0,
                                reason: String::new(),
                            });
                        }
                        event.kind = EventKind::Resource;
                        event.resource = Some(progress.clone());
                        effect = Some(Effect::Resource(progress));
                    }
                    sink.push(event, effect);
                    return;
                }
                let trimmed = line.trim_end().to_string();
                let level = if stream == Stream::Stderr {
                    if trimmed.trim_start().starts_with("Error") {
                        last_error = Some(trimmed.trim().trim_start_matches("Error:").trim().to_string());
                        Level::Error
                    } else {
                        Level::Warn
                    }
                } else {
                    Level::Info
                };
                sink.push(NewEvent::log(phase, level, trimmed), None);
            })
            .await;
        sink.finish().await;
        match result {
            Ok(_) if !finishes_phase => Ok(()),
            Ok(_) => {
                phase_finished(
                    self.engine,
                    self.id,
                    phase,
                    PhaseState::Succeeded,
                    &format!(
                        "tofu {command} finished in {}.",
                        humanize(Duration::from_secs(started.elapsed().as_secs().max(1)))
                    ),
                )
                .await
            }
            Err(TofuError::Cancelled) => Err(StepError::Stopped(phase)),
            Err(TofuError::Missing { .. }) => Err(missing_tofu(self.engine, phase)),
            Err(TofuError::TimedOut(d)) => Err(StepError::failed(
                phase,
                format!(
                    "tofu {command} did not finish within {}; it was stopped.",
                    humanize(d)
                ),
                if phase == Phase::TofuApply || phase == Phase::TofuDestroy {
                    "Retry to continue (OpenTofu resumes idempotently), or raise --tofu-apply-timeout if the cloud is slow today."
                } else {
                    "Retry, or raise --tofu-timeout if the machine or the network is slow."
                },
            )),
            Err(e @ TofuError::Exit(_)) => Err(StepError::failed(
                phase,
                self.redactor.apply(&match last_error {
                    Some(msg) => msg,
                    None => format!("tofu {command} failed: {e}."),
                }),
                hint_for(phase),
            )),
            Err(e) => Err(StepError::failed(
                phase,
                self.redactor.apply(&e.to_string()),
                hint_for(phase),
            )),
        }
    }

    /// `tofu output -json`, captured.
    pub(crate) async fn outputs(&self, phase: Phase) -> Result<Vec<u8>, StepError> {
        let step = Step {
            args: vec!["output".into(), "-json".into(), "-no-color".into()],
            workdir: self.workdir.to_path_buf(),
            timeout: self.engine.config().step_timeout,
            cancel: self.ctx.cancel.child_token(),
            capture_stdout: true,
        };
        let sink = EventSink::new(self.engine.clone(), self.id.to_string(), self.redactor.clone());
        let result = self
            .tofu
            .run(&step, |_, line| {
                if !line.trim().is_empty() {
                    sink.push(NewEvent::log(phase, Level::Warn, line), None);
                }
            })
            .await;
        sink.finish().await;
        match result {
            Ok(out) => Ok(out),
            Err(TofuError::Cancelled) => Err(StepError::Stopped(phase)),
            Err(e) => Err(StepError::failed(
                phase,
                self.redactor.apply(&format!("tofu output failed: {e}.")),
                hint_for(phase),
            )),
        }
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

/// waiting-for-cluster → installing once the primary region's kubeconfig is stored. The deadline counts
/// from the phase's start, so a restart does not extend it.
async fn wait_for_cluster(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
    let id = row.id.as_str();
    let request = request_of(row)?;
    let primary = super::kubeconfig::primary_key(&request);
    let phases = store::phases(engine.db(), id).await.unwrap_or_default();
    let started = phases
        .iter()
        .find(|p| p.phase == Phase::Cluster)
        .and_then(|p| p.started_at)
        .unwrap_or_else(now_ms);
    let deadline = started + engine.config().cluster_timeout.as_millis() as i64;
    let notify = {
        let mut w = engine.0.waiters.lock().unwrap_or_else(|e| e.into_inner());
        w.entry(id.to_string()).or_default().clone()
    };
    let outcome = loop {
        let have = secret_store::names(engine.db(), id, &format!("kubeconfig:{primary}")).await;
        if have
            .as_ref()
            .is_ok_and(|n| n.iter().any(|n| *n == format!("kubeconfig:{primary}")))
        {
            break Ok(());
        }
        let now = now_ms();
        if now >= deadline {
            break Err(StepError::failed(
                Phase::Cluster,
                format!(
                    "The control plane did not send its kubeconfig back within {}.",
                    humanize(engine.config().cluster_timeout)
                ),
                format!(
                    "The servers exist but did not report back. Check the control plane's boot log (/var/log/cloud-init-output.log, via the Hetzner console) and that it can reach {} over HTTPS; then retry (the wait starts again).",
                    engine.config().public_url
                ),
            ));
        }
        let wait =
            Duration::from_millis(((deadline - now) as u64).min(engine.config().poll.as_millis() as u64));
        tokio::select! {
            () = notify.notified() => {}
            () = tokio::time::sleep(wait) => {}
            () = ctx.cancel.cancelled() => break Err(StepError::Stopped(Phase::Cluster)),
        }
    };
    engine
        .0
        .waiters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id);
    outcome?;
    let mut w = StatusWrite::new(
        DeploymentStatus::Installing,
        Phase::Components,
        format!(
            "The control plane reported back; Flux is installing {} component(s).",
            super::watch::deployed_components(engine, row, &request).len()
        ),
    );
    w.only_from = Some(vec![DeploymentStatus::WaitingForCluster]);
    w.effects = vec![
        Effect::Phase {
            phase: Phase::Cluster,
            state: PhaseState::Succeeded,
        },
        Effect::Phase {
            phase: Phase::Components,
            state: PhaseState::Running,
        },
    ];
    engine.transition(id, &w).await.map(|_| ()).map_err(|e| {
        StepError::failed(
            Phase::Cluster,
            format!("Cannot record the cluster: {e}"),
            "Retry.",
        )
    })
}

/// Makes `workdir` OpenTofu's working directory for the deployment: the module copied in (0700) and
/// `tofu.auto.tfvars.json` (0600) written from the request, the decrypted secrets and the console's
/// settings (`tofu::tfvars`). Rewritten on every run, so a retry uses the current token and module.
pub(crate) fn write_workdir(
    engine: &Engine,
    workdir: &Path,
    id: &str,
    request: &DeploymentRequest,
    secrets: &DeploymentSecrets,
) -> Result<(), String> {
    let cfg = engine.config();
    prepare_workdir(&cfg.module_dir, workdir).map_err(|e| e.to_string())?;
    let ctx = TfContext::for_deployment(
        &cfg.gitops,
        id,
        Secret::new(engine.bearer_for(id)),
        &cfg.public_url,
        &request.fqdn(),
    )
    .map_err(|e| e.to_string())?;
    write_tfvars(workdir, &TfVars::new(request, secrets, &ctx))
        .map(|_| ())
        .map_err(|e| e.to_string())
}
