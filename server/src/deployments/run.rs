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

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use app::deployments::{DeploymentStatus, Level, Phase};
use tracing::Instrument;

use super::phases;
use super::step::{StepError, StepResult};
use super::{Engine, RunCtx, StopReason};
use crate::db::deployment_events::NewEvent;
use crate::db::deployments::{self as store, DeploymentRow, StatusWrite};
use crate::db::leases;

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
            DeploymentStatus::Provisioning => phases::infrastructure::run(engine, &row, ctx).await,
            DeploymentStatus::WaitingForCluster => phases::cluster::wait(engine, &row, ctx).await,
            DeploymentStatus::Installing => phases::install::install(engine, &row, ctx).await,
            DeploymentStatus::Wiping => phases::wipe::wipe(engine, &row, ctx).await,
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
