//! Leases: a run renews its lease while it works (and stops if it lost it, or if someone asked to cancel);
//! the supervisor takes over runs whose lease expired — at start (a restarted console resumes its own
//! runs) and periodically (a replica resumes a dead replica's runs). Nothing is left "provisioning" forever.

use std::sync::Arc;
use std::time::Duration;

use super::{Engine, RunCtx, StopReason};
use crate::db::{deployments as store, leases};

/// Renews the lease every third of its time to live; stops the run when the lease is lost or a cancel was
/// requested (from any replica).
pub async fn heartbeat(engine: Engine, id: String, ctx: Arc<RunCtx>) {
    let ttl = engine.config().lease_ttl;
    let every = (ttl / 3).max(Duration::from_millis(100));
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = ctx.cancel.cancelled() => return,
        }
        match leases::renew(engine.db(), &id, engine.instance(), ttl.as_millis() as i64).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(deployment = %id, "lost the run's lease to another replica; stopping here");
                ctx.stop(StopReason::LeaseLost);
                return;
            }
            Err(e) => tracing::warn!(deployment = %id, error = %e, "cannot renew the run's lease"),
        }
        match store::cancel_requested(engine.db(), &id).await {
            Ok(Some(by)) => ctx.stop(StopReason::Cancelled { by }),
            Ok(None) => {}
            Err(e) => tracing::warn!(deployment = %id, error = %e, "cannot check for a cancel request"),
        }
    }
}

/// Takes over in-flight runs without a live lease, now and every half lease.
pub async fn supervise(engine: Engine) {
    let every = (engine.config().lease_ttl / 2).max(Duration::from_millis(100));
    loop {
        match leases::orphaned_runs(engine.db()).await {
            Ok(ids) => {
                for id in ids {
                    if engine.spawn_run(&id).await {
                        crate::metrics::lease_takeover();
                        tracing::info!(deployment = %id, "resuming a run whose lease had expired");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for runs to take over"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = engine.0.shutdown.cancelled() => return,
        }
    }
}
