//! `waiting-for-cluster`: until the control plane PUTs its kubeconfig back (`deployments::kubeconfig`); the
//! deadline counts from the phase's start, so a restart does not extend it.

use std::sync::Arc;
use std::time::Duration;

use app::deployments::{DeploymentStatus, Phase, PhaseState};

use crate::db::deployment_events::Effect;
use crate::db::deployments::{self as store, DeploymentRow, StatusWrite};
use crate::db::{now_ms, secrets as secret_store};
use crate::deployments::step::{StepError, StepResult, request_of};
use crate::deployments::{Engine, RunCtx};
use crate::tofu::runner::humanize;

/// waiting-for-cluster → installing once every region's kubeconfig is stored. The deadline counts from the
/// phase's start, so a restart does not extend it; it is also when the regions' bearers expire.
pub async fn wait(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
    let id = row.id.as_str();
    let request = request_of(row)?;
    let keys = crate::tofu::region_keys(&request.regions);
    let phases = store::phases(engine.db(), id).await.unwrap_or_default();
    let started = phases
        .iter()
        .find(|p| p.phase == Phase::Cluster)
        .and_then(|p| p.started_at)
        .unwrap_or_else(now_ms);
    let deadline = started + engine.config().cluster_timeout.as_millis() as i64;
    if let Err(e) = crate::db::bearers::cap_expiry(engine.db(), id, deadline).await {
        tracing::warn!(deployment = %id, error = %e, "cannot bound the kubeconfig bearers");
    }
    let notify = {
        let mut w = engine.0.waiters.lock().unwrap_or_else(|e| e.into_inner());
        w.entry(id.to_string()).or_default().clone()
    };
    let outcome = loop {
        let have = secret_store::names(engine.db(), id, "kubeconfig:")
            .await
            .unwrap_or_default();
        let missing: Vec<&String> = keys
            .iter()
            .filter(|k| !have.contains(&format!("kubeconfig:{k}")))
            .collect();
        if missing.is_empty() {
            break Ok(());
        }
        let now = now_ms();
        if now >= deadline {
            break Err(StepError::failed(
                Phase::Cluster,
                format!(
                    "The control plane of {} did not send its kubeconfig back within {}.",
                    missing.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                    humanize(engine.config().cluster_timeout)
                ),
                format!(
                    "The servers exist but did not report back. Check the control plane's boot log (/var/log/catalyst-bootstrap.log, via the Hetzner console) and that it can reach {} over HTTPS; then retry the cluster phase: it re-creates the control planes that did not report back with new single-use bearers.",
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
    // The cluster phase is over: no bearer of this deployment works any more.
    engine.revoke_bearers(id).await;
    let mut w = StatusWrite::new(
        DeploymentStatus::Installing,
        Phase::Components,
        format!(
            "The control plane reported back; Flux is installing {} component(s).",
            super::install::deployed_components(engine, row, &request).len()
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
