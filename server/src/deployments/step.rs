//! What the phases of a run share: how a step ends ([`StepError`]), reading the stored request and secrets,
//! recording a phase's start and end, the redactor, and the OpenTofu command of one run ([`TofuRun`]) with its
//! work directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use app::deployments::{
    CloudResource, DeploymentRequest, DeploymentSecrets, EventKind, Level, Phase, PhaseState, ResourceAction,
    ResourceState, Secret,
};

use super::redact::Redactor;
use super::sink::EventSink;
use super::{Engine, RunCtx};
use crate::db::deployment_events::{Effect, NewEvent, phase_event};
use crate::db::deployments::DeploymentRow;
use crate::db::now_ms;
use crate::tofu::json::parse_line;
use crate::tofu::runner::{Step, Stream, Tofu, TofuError, humanize};
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

/// Region key → the bearer a run issued to it.
pub(crate) type Bearers = std::collections::BTreeMap<String, Secret>;

/// Masks every secret a run handles: the deployment's tokens, the GitOps tokens (the forge's too) and the
/// bearers it issued.
pub(crate) fn redactor(engine: &Engine, secrets: &DeploymentSecrets, bearers: &Bearers) -> Redactor {
    let mut values = vec![secrets.hetzner_token.expose().to_string()];
    values.extend(bearers.values().map(|b| b.expose().to_string()));
    if let Some(t) = &secrets.registrar_token {
        values.push(t.expose().to_string());
    }
    let gitops = &engine.config().gitops;
    let push = gitops.remote.as_ref().and_then(|r| r.token.as_ref());
    let forge = gitops.forge.as_ref().map(|f| &f.token);
    for t in push.into_iter().chain(gitops.pull_token.as_ref()).chain(forge) {
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
    crate::metrics::phase_started(id, phase.as_str());
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
    crate::metrics::phase_finished(id, phase.as_str(), state.as_str());
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

/// OpenTofu's error diagnostic about one resource: its message (summary and detail) and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnosed {
    pub message: String,
    pub address: String,
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
        removed: Option<&mut Vec<CloudResource>>,
        finishes_phase: bool,
    ) -> StepResult {
        self.command_diagnosed(phase, args, timeout, removed, finishes_phase)
            .await
            .map_err(|(e, _)| e)
    }

    /// [`Self::command`], and on failure also OpenTofu's last error diagnostic that named a resource.
    pub(crate) async fn command_diagnosed(
        &self,
        phase: Phase,
        args: &[&str],
        timeout: Duration,
        mut removed: Option<&mut Vec<CloudResource>>,
        finishes_phase: bool,
    ) -> Result<(), (StepError, Option<Diagnosed>)> {
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
        let mut diagnosed: Option<Diagnosed> = None;
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
                        if let Some(address) = &ui.error_address {
                            diagnosed = Some(Diagnosed {
                                message: e.clone(),
                                address: address.clone(),
                            });
                        }
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
        let outcome = match result {
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
        };
        outcome.map_err(|e| (e, diagnosed))
    }

    /// `tofu state list`: the addresses in the state (none before the first apply).
    pub(crate) async fn state_list(&self, phase: Phase) -> Result<Vec<String>, StepError> {
        let step = Step {
            args: vec!["state".into(), "list".into()],
            workdir: self.workdir.to_path_buf(),
            timeout: self.engine.config().step_timeout,
            cancel: self.ctx.cancel.child_token(),
            capture_stdout: true,
        };
        let mut errors = Vec::new();
        let result = self
            .tofu
            .run(&step, |_, line| {
                if !line.trim().is_empty() {
                    errors.push(line);
                }
            })
            .await;
        match result {
            Ok(out) => Ok(String::from_utf8_lossy(&out)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()),
            Err(TofuError::Cancelled) => Err(StepError::Stopped(phase)),
            // No state yet: nothing exists.
            Err(TofuError::Exit(_)) if !self.workdir.join("terraform.tfstate").exists() => Ok(Vec::new()),
            Err(e) => Err(StepError::failed(
                phase,
                self.redactor.apply(&format!(
                    "tofu state list failed: {e}{}",
                    errors.first().map(|l| format!(" ({l})")).unwrap_or_default()
                )),
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

/// Makes `workdir` OpenTofu's working directory for the deployment: the module copied in (0700) and
/// `tofu.auto.tfvars.json` (0600, no secret) written from the request and the console's settings
/// (`tofu::tfvars`); returns the sensitive variables for OpenTofu's environment (`TF_VAR_…`): the decrypted
/// token, `bearers` and the GitOps pull token — or, for a Sovereign with a repository of its own (`own`), its
/// deploy key instead of any shared token. Rewritten on every run, so a retry uses the current token and
/// module. A plan file an earlier version saved (it holds variable values) is removed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_workdir(
    engine: &Engine,
    workdir: &Path,
    id: &str,
    request: &DeploymentRequest,
    secrets: &DeploymentSecrets,
    bearers: &Bearers,
    dns: Option<&crate::dns::SovereignDns>,
    own: Option<&crate::tofu::OwnRepo>,
) -> Result<Vec<(String, String)>, String> {
    let cfg = engine.config();
    prepare_workdir(&cfg.module_dir, workdir).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(workdir.join("tfplan"));
    let ctx = match own {
        Some(own) => TfContext::for_own_repo(
            &cfg.gitops,
            id,
            bearers.clone(),
            &cfg.public_url,
            &request.fqdn(),
            own,
        ),
        None => TfContext::for_deployment(&cfg.gitops, id, bearers.clone(), &cfg.public_url, &request.fqdn())
            .map_err(|e| e.to_string())?,
    };
    let mut vars = TfVars::new(request, secrets, &ctx);
    if let Some(dns) = dns {
        vars.dns_server = dns.server.clone();
        vars.dns_tsig_key_name = dns.key_name.clone();
        vars.dns_tsig_secret = dns.secret.clone();
    }
    write_tfvars(workdir, &vars).map_err(|e| e.to_string())?;
    Ok(vars.secret_env())
}
