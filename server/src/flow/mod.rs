//! The run's flow as jobs (spec §C.11): what the run records — OpenTofu resources from `apply -json`, the
//! cluster's hand-back, each HelmRelease — becomes job writes in the jobs store (`db::jobs`), which the
//! flow canvas and the REST routes in [`http`] read.

pub mod http;

use app::deployments::{ComponentPhase, DeploymentRequest, EventKind, Level, Phase, PhaseState};
use app::flow::cause::{self, Reason};
use app::flow::{HANDBACK_JOB, JobKind, JobStatus, install_job, tofu_job};

use crate::db::deployment_events::{Effect, NewEvent};
use crate::db::jobs::{self, JobWrite};
use crate::deployments::Engine;

/// The job writes an append of the run implies: resource events of the plan and apply phases, component
/// changes, the cluster phase's start and end.
pub fn writes_of(events: &[NewEvent], effects: &[Effect]) -> Vec<JobWrite> {
    let mut writes = Vec::new();
    for e in events {
        if e.kind == EventKind::Resource
            && matches!(e.phase, Phase::TofuPlan | Phase::TofuApply)
            && let Some(r) = &e.resource
        {
            writes.push(
                JobWrite::new(tofu_job(&r.address), JobKind::Resource, r.resource_type.clone())
                    .status(JobStatus::of_resource(r.state))
                    .line(e.level, e.message.clone())
                    .at(e.at),
            );
        }
    }
    for effect in effects {
        match effect {
            Effect::Component(c) => {
                let level = match c.state {
                    ComponentPhase::Failed => Level::Error,
                    ComponentPhase::Degraded => Level::Warn,
                    _ => Level::Info,
                };
                let message = if c.message.is_empty() {
                    c.id.clone()
                } else {
                    c.message.clone()
                };
                writes.push(
                    JobWrite::new(install_job(&c.id), JobKind::Release, c.id.clone())
                        .status(JobStatus::of_component(c.state))
                        .line(level, format!("[{}] {message}", c.state.as_str()))
                        .reason(cause::classify_release(c.state, &c.message))
                        .at(c.updated_at),
                );
            }
            Effect::Phase {
                phase: Phase::Cluster,
                state,
            } => {
                let (status, level, line) = match state {
                    PhaseState::Running => (
                        JobStatus::Running,
                        Level::Info,
                        "Waiting for the control plane to boot, install Flux and send its kubeconfig back.",
                    ),
                    PhaseState::Succeeded => (
                        JobStatus::Succeeded,
                        Level::Info,
                        "The control plane reported back.",
                    ),
                    PhaseState::Failed => (
                        JobStatus::Failed,
                        Level::Error,
                        "The cluster did not report back; the deployment's events say why.",
                    ),
                    PhaseState::Pending | PhaseState::Skipped => continue,
                };
                writes.push(
                    JobWrite::new(HANDBACK_JOB, JobKind::Handback, "cluster")
                        .status(status)
                        .line(level, line),
                );
            }
            _ => {}
        }
    }
    writes
}

/// Records what an append of the run implies; a failure is logged, never the run's failure.
pub async fn record(engine: &Engine, id: &str, events: &[NewEvent], effects: &[Effect]) {
    let writes = writes_of(events, effects);
    if let Err(e) = jobs::record(engine.db(), id, &writes).await {
        tracing::warn!(deployment = %id, error = %e, "cannot record the run's jobs");
    }
}

/// Records why `tofu apply` failed on the resource OpenTofu's last error diagnostic named: a server Hetzner
/// could not place (with its size, location and role), a limit, refused credentials, a timeout — or nothing
/// known (the job keeps the generic sentence). The diagnostic's own text is never stored.
pub(crate) async fn record_tofu_failure(
    engine: &Engine,
    id: &str,
    request: &DeploymentRequest,
    d: &crate::deployments::step::Diagnosed,
) {
    let reason = match crate::deployments::phases::unavailable::unavailable_server(d, request) {
        Some((size, location, control_plane)) => Some(Reason::Unavailable {
            size: cause::name(&size),
            location: cause::name(&location),
            role: if control_plane { "control plane" } else { "worker" }.to_string(),
        }),
        None => cause::classify_tofu(&d.message),
    };
    let Some(reason) = reason else { return };
    // `module.m.hcloud_server.control_plane["fsn1-cp1"]` → `hcloud_server` (as `apply -json` names it).
    let bare = d.address.split('[').next().unwrap_or_default();
    let resource_type = bare.rsplit('.').nth(1).unwrap_or_default();
    let write = JobWrite::new(
        tofu_job(&d.address),
        JobKind::Resource,
        cause::name(resource_type),
    )
    .status(JobStatus::Failed)
    .reason(Some(reason));
    if let Err(e) = jobs::record(engine.db(), id, &[write]).await {
        tracing::warn!(deployment = %id, error = %e, "cannot record why the apply failed");
    }
}

/// Seeds the cluster hand-back and the HelmRelease jobs, with their dependencies (the HelmReleases'
/// `dependsOn`: the catalog's dependencies among what Flux installs): when the GitOps tree is pushed (the
/// run knows then what Flux will install) and again when the install step starts watching.
pub async fn seed_releases(engine: &Engine, id: &str, request: &DeploymentRequest, expected: &[String]) {
    let releases = crate::gitops::catalog::components_for(&engine.config().catalog, &request.components)
        .unwrap_or_default();
    let writes: Vec<JobWrite> = expected
        .iter()
        .map(|c| {
            let deps = releases
                .iter()
                .find(|r| &r.id == c)
                .map(|r| {
                    r.depends_on
                        .iter()
                        .filter(|d| expected.contains(d))
                        .map(|d| install_job(d))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            JobWrite::new(install_job(c), JobKind::Release, c.clone()).depends_on(deps)
        })
        .collect();
    let mut writes = writes;
    writes.insert(0, JobWrite::new(HANDBACK_JOB, JobKind::Handback, "cluster"));
    if let Err(e) = jobs::record(engine.db(), id, &writes).await {
        tracing::warn!(deployment = %id, error = %e, "cannot record the components' jobs");
    }
}

/// The deployment's jobs, for whoever may read its events (others: 404, as for the deployment).
pub async fn jobs_for(
    engine: &Engine,
    actor: &app::deployments::Actor,
    id: &str,
) -> Result<Vec<app::flow::Job>, app::error::AppError> {
    engine
        .row_for(actor, id, app::auth::Action::DeploymentEventsRead)
        .await?;
    jobs::list(engine.db(), id)
        .await
        .map_err(|e| crate::error::Error::from(e).into())
}

/// One job with the last [`app::flow::PANE_LINES`] lines of its latest execution, for whoever may read the
/// deployment's events (others: 404); a job the run does not have is 404 naming it.
pub async fn job_log_for(
    engine: &Engine,
    actor: &app::deployments::Actor,
    id: &str,
    job: &str,
) -> Result<app::flow::JobLog, app::error::AppError> {
    engine
        .row_for(actor, id, app::auth::Action::DeploymentEventsRead)
        .await?;
    let db_err = |e| -> app::error::AppError { crate::error::Error::from(e).into() };
    let detail = jobs::get(engine.db(), id, job)
        .await
        .map_err(db_err)?
        .ok_or_else(|| app::error::AppError::NotFound(format!("The run has no job “{job}”.")))?;
    let page = match detail.executions.first() {
        Some(exec) => {
            let from = (exec.line_count - app::flow::PANE_LINES).max(0);
            jobs::lines(engine.db(), id, &exec.id, from, app::flow::PANE_LINES)
                .await
                .map_err(db_err)?
        }
        None => None,
    };
    Ok(app::flow::JobLog { detail, page })
}
