//! The `installing` step: watch the selected components' HelmReleases on the new cluster until every one
//! is installed (ready) or terminal with failures (failed), or the install timeout passes (failed — a timeout
//! is never "ready"). Resumable: states already recorded are not reported again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app::deployments::{
    ComponentProgress, DeploymentRequest, DeploymentResult, DeploymentStatus, EventKind, Level, Phase,
    PhaseState,
};
use futures_util::StreamExt;

use crate::db::deployment_events::{Effect, NewEvent};
use crate::db::deployments::{self as store, DeploymentRow, StatusWrite};
use crate::db::now_ms;
use crate::deployments::step::{StepError, StepResult};
use crate::deployments::{Engine, RunCtx};
use crate::kube::helmwatch::{self, Change, Observed, Outcome, Tracker};
use crate::tofu::runner::humanize;

/// After this long without seeing any HelmRelease, say so once (Flux may not be reconciling).
const NONE_SEEN_WARNING: Duration = Duration::from_secs(15 * 60);
/// At most one "cannot reach the API" event per this interval.
const ERROR_EVENT_EVERY: Duration = Duration::from_secs(60);

pub async fn install(engine: &Engine, row: &DeploymentRow, ctx: &Arc<RunCtx>) -> StepResult {
    let id = row.id.as_str();
    let request: DeploymentRequest = serde_json::from_str(&row.request).map_err(|_| {
        StepError::failed(
            Phase::Components,
            "The stored request cannot be read.",
            "Create the deployment again.",
        )
    })?;
    let mut expected = deployed_components(engine, row, &request);
    expected.sort();
    expected.dedup();
    let primary = crate::deployments::kubeconfig::primary_key(&request);
    if expected.is_empty() {
        return finish(engine, id, Outcome::Ready, 0).await;
    }
    crate::flow::seed_releases(engine, id, &request, &expected).await;
    let accepted = match crate::deployments::kubeconfig::load_accepted(engine, row, &primary).await {
        Ok(accepted) => accepted,
        Err(crate::deployments::kubeconfig::Unusable::Missing) => {
            return Err(StepError::failed(
                Phase::Components,
                "The cluster's kubeconfig is missing.",
                "Retry the cluster phase: it re-creates the control plane, which sends a new one when it boots.",
            ));
        }
        Err(crate::deployments::kubeconfig::Unusable::Refused) => {
            return Err(StepError::failed(
                Phase::Components,
                "The cluster's stored kubeconfig does not meet Catalyst's kubeconfig rules (it was stored by an earlier version, or the API address changed).",
                "Retry the cluster phase: it re-creates the control plane, which sends a new one when it boots.",
            ));
        }
        Err(crate::deployments::kubeconfig::Unusable::Undecryptable) => {
            return Err(StepError::failed(
                Phase::Components,
                "The stored kubeconfig cannot be decrypted with this console's key.",
                "Start the console with the secret key it was using when the kubeconfig arrived.",
            ));
        }
    };
    let known: BTreeMap<String, Observed> = store::components(engine.db(), id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            (
                c.id,
                Observed {
                    state: c.state,
                    message: c.message,
                },
            )
        })
        .collect();
    let mut tracker = Tracker::new(&expected, &known);
    let fresh: Vec<Effect> = expected
        .iter()
        .filter(|c| !known.contains_key(*c))
        .map(|c| {
            Effect::Component(ComponentProgress {
                id: c.clone(),
                state: app::deployments::ComponentPhase::Pending,
                message: String::new(),
                updated_at: now_ms(),
            })
        })
        .collect();
    engine
        .append(
            id,
            &[NewEvent::info(
                Phase::Components,
                format!(
                    "Watching the HelmReleases of {} component(s) in flux-system: {}.",
                    expected.len(),
                    expected.join(", ")
                ),
            )],
            &fresh,
        )
        .await
        .map_err(|e| {
            StepError::failed(
                Phase::Components,
                format!("Cannot record progress: {e}"),
                "Retry.",
            )
        })?;

    let phases = store::phases(engine.db(), id).await.unwrap_or_default();
    let started = phases
        .iter()
        .find(|p| p.phase == Phase::Components)
        .and_then(|p| p.started_at)
        .unwrap_or_else(now_ms);
    let timeout = engine.config().install_timeout;
    let deadline_ms = started + timeout.as_millis() as i64;
    let remaining = Duration::from_millis((deadline_ms - now_ms()).max(0) as u64);
    let deadline = tokio::time::sleep(remaining);
    tokio::pin!(deadline);
    let none_seen = tokio::time::sleep(NONE_SEEN_WARNING);
    tokio::pin!(none_seen);
    let mut seen_any = !known.is_empty()
        && known
            .values()
            .any(|o| o.state != app::deployments::ComponentPhase::Pending);
    let mut warned_none = false;
    let mut last_error_event: Option<std::time::Instant> = None;

    // States recorded earlier decide nothing: only what the cluster says after the initial list does (a
    // retried component is failed in the database until Flux has handled the reconcile request).
    let mut synced = false;
    let client = helmwatch::client(&accepted).map_err(|e| {
        tracing::warn!(deployment = %id, error = %e, "cannot build the cluster's client");
        StepError::failed(
            Phase::Components,
            e.sentence(),
            "Retry the cluster phase: it re-creates the control plane, which sends a new kubeconfig when it boots.",
        )
    })?;
    let stream = helmwatch::watch(client);
    tokio::pin!(stream);
    let outcome = loop {
        tokio::select! {
            change = stream.next() => {
                let Some(change) = change else {
                    break Err(StepError::failed(Phase::Components, "The HelmRelease watch ended unexpectedly.", "Retry."));
                };
                let update = match change {
                    Change::Applied { component, ready } => {
                        seen_any = true;
                        tracker.observe(&component, ready.as_ref()).map(|o| (component, o))
                    }
                    Change::Deleted { component } => tracker.deleted(&component).map(|o| (component, o)),
                    Change::Synced => {
                        synced = true;
                        None
                    }
                    Change::Error { sentence, detail } => {
                        if last_error_event.is_none_or(|t| t.elapsed() >= ERROR_EVENT_EVERY) {
                            last_error_event = Some(std::time::Instant::now());
                            // The tenant reads a fixed sentence; the library's text goes to the log only.
                            tracing::warn!(deployment = %id, error = %detail, "cannot watch the cluster's HelmReleases");
                            let _ = engine
                                .append(id, &[NewEvent::log(Phase::Components, Level::Warn, format!("Cannot watch the cluster's HelmReleases yet: {sentence} Retrying."))], &[])
                                .await;
                        }
                        None
                    }
                };
                if let Some((component, observed)) = update {
                    record(engine, id, &component, &observed).await;
                }
                if synced && let Some(outcome) = tracker.outcome() {
                    break Ok(outcome);
                }
            }
            () = &mut deadline => {
                let unfinished = tracker
                    .unfinished()
                    .into_iter()
                    .map(|(c, s)| format!("{c} ({})", s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ");
                break Err(StepError::failed(
                    Phase::Components,
                    format!("Not every component was installed within {}: {unfinished}.", humanize(timeout)),
                    "Look at the named components' events for the cause, fix it, then retry the components phase; raise --install-timeout if the cluster is just slow.",
                ));
            }
            () = &mut none_seen, if !warned_none => {
                warned_none = true;
                if !seen_any {
                    let _ = engine
                        .append(id, &[NewEvent::log(
                            Phase::Components,
                            Level::Warn,
                            format!(
                                "No HelmRelease seen in {}; Flux may not be reconciling. Check `flux get kustomizations -n flux-system` on the cluster.",
                                humanize(NONE_SEEN_WARNING)
                            ),
                        )], &[])
                        .await;
                }
            }
            () = ctx.cancel.cancelled() => break Err(StepError::Stopped(Phase::Components)),
        }
    };
    finish(engine, id, outcome?, expected.len()).await
}

/// The components Flux installs for this deployment as HelmReleases — catalog ids with a Helm chart,
/// dependencies included, minus what cloud-init installs itself:
/// what the GitOps step pushed (recorded in the result), or, for a deployment whose result predates that
/// record, the same computed from the catalog.
pub fn deployed_components(engine: &Engine, row: &DeploymentRow, request: &DeploymentRequest) -> Vec<String> {
    let recorded = row
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str::<DeploymentResult>(r).ok())
        .map(|r| r.components)
        .unwrap_or_default();
    if !recorded.is_empty() {
        return recorded;
    }
    super::gitops::helm_releases_for(&engine.config().catalog, &request.components)
        .unwrap_or_else(|_| request.components.clone())
}

async fn record(engine: &Engine, id: &str, component: &str, o: &Observed) {
    use app::deployments::ComponentPhase as C;
    let level = match o.state {
        C::Failed => Level::Error,
        C::Degraded => Level::Warn,
        _ => Level::Info,
    };
    let mut event = NewEvent::log(Phase::Components, level, format!("{component}: {}", o.message));
    event.kind = EventKind::Component;
    event.component = Some(component.to_string());
    event.state = Some(o.state.as_str().to_string());
    let effect = Effect::Component(ComponentProgress {
        id: component.to_string(),
        state: o.state,
        message: o.message.clone(),
        updated_at: now_ms(),
    });
    if let Err(e) = engine.append(id, &[event], &[effect]).await {
        tracing::warn!(deployment = %id, error = %e, "cannot record a component change");
    }
}

async fn finish(engine: &Engine, id: &str, outcome: Outcome, count: usize) -> StepResult {
    match outcome {
        Outcome::Ready => {
            let mut w = StatusWrite::new(
                DeploymentStatus::Ready,
                Phase::Components,
                format!("All {count} component(s) are installed: the Sovereign is ready."),
            );
            w.only_from = Some(vec![DeploymentStatus::Installing]);
            w.effects = vec![Effect::Phase {
                phase: Phase::Components,
                state: PhaseState::Succeeded,
            }];
            engine.transition(id, &w).await.map(|_| ()).map_err(|e| {
                StepError::failed(
                    Phase::Components,
                    format!("Cannot record the outcome: {e}"),
                    "Retry.",
                )
            })
        }
        Outcome::Failed(failed) => Err(StepError::failed(
            Phase::Components,
            format!(
                "{} component(s) failed to install: {}.",
                failed.len(),
                failed.join(", ")
            ),
            "Open the failed components' events for the cause, fix it, then retry them: Catalyst asks Flux to reconcile each one again.",
        )),
    }
}
