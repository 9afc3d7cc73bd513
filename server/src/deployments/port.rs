//! `DeploymentsPort`: the lifecycle operations (retry, cancel, delete, wipe) and the port the server
//! functions and the REST API share.

use app::auth::{Action, policy};
use app::deployments::{
    Actor, CreateDeployment, Created, Deployment, DeploymentError, DeploymentList, DeploymentStatus,
    EventPage, ListQuery, Phase, PhaseState, RetryRequest, StatusCount, WipeRequest,
};
use app::error::AppError;
use app::ports::DeploymentsPort;
use async_trait::async_trait;

use super::{Engine, StopReason, transition_error};
use crate::db::deployment_events::Effect;
use crate::db::deployments::{self as store, StatusWrite};
use crate::db::leases;
use crate::db::now_ms;
use crate::error::Error;

impl Engine {
    /// Retries a failed deployment from the failed phase (or the one named): Phase 0 from `tofu init` with
    /// the stored secrets, the cluster wait, the component watch, or the wipe.
    pub async fn retry(&self, actor: &Actor, id: &str, body: RetryRequest) -> Result<Deployment, AppError> {
        let row = self.row_for(actor, id, Action::DeploymentRetry).await?;
        if let Some(component) = body.component.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            return self.retry_component(actor, &row, component).await;
        }
        if row.status() != DeploymentStatus::Failed {
            return Err(AppError::Conflict(format!(
                "Only a failed deployment can be retried; this one is {}.",
                row.status().label().to_lowercase()
            )));
        }
        let failed: Option<DeploymentError> = row.error.as_deref().and_then(|e| serde_json::from_str(e).ok());
        let phase = match body.phase.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Phase::parse(p).ok_or_else(|| {
                AppError::invalid(
                    "phase",
                    format!(
                        "“{}” is not a phase; use one of {}.",
                        p.chars().take(40).collect::<String>(),
                        Phase::ALL.map(|p| p.as_str()).join(", ")
                    ),
                )
            })?,
            None => failed.as_ref().map(|e| e.phase).unwrap_or(Phase::TofuInit),
        };
        let (to, reset, message) = if phase.is_infrastructure() {
            (
                DeploymentStatus::Provisioning,
                Phase::PROVISION.to_vec(),
                format!(
                    "Retry of {} requested by {}: running OpenTofu again from init against the existing state (idempotent).",
                    phase.label().to_lowercase(),
                    actor.label()
                ),
            )
        } else {
            match phase {
                // A control plane that never reported back holds a bearer that no longer works, and reads
                // its user data only at first boot: the retry runs OpenTofu, which issues new bearers and
                // re-creates those control planes with them (see `phases::infrastructure`).
                Phase::Cluster => (
                    DeploymentStatus::Provisioning,
                    Phase::PROVISION.to_vec(),
                    format!(
                        "Retry of the cluster phase requested by {}: new single-use bearers; the control planes that did not report back are re-created with them.",
                        actor.label()
                    ),
                ),
                Phase::Components => (
                    DeploymentStatus::Installing,
                    vec![Phase::Components],
                    format!(
                        "Retry requested by {}: watching the components again.",
                        actor.label()
                    ),
                ),
                _ => (
                    DeploymentStatus::Wiping,
                    vec![Phase::TofuDestroy, Phase::Sweep],
                    format!("Retry of the wipe requested by {}.", actor.label()),
                ),
            }
        };
        let mut effects = vec![Effect::ResetPhases(reset)];
        match to {
            DeploymentStatus::WaitingForCluster => effects.push(Effect::Phase {
                phase: Phase::Cluster,
                state: PhaseState::Running,
            }),
            DeploymentStatus::Installing => effects.push(Effect::Phase {
                phase: Phase::Components,
                state: PhaseState::Running,
            }),
            _ => {}
        }
        let mut w = StatusWrite::new(to, phase, message);
        w.only_from = Some(vec![DeploymentStatus::Failed]);
        w.start_run = true;
        w.effects = effects;
        self.transition(id, &w)
            .await
            .map_err(|e| transition_error(e, id))?;
        self.audit(
            actor,
            "deployments.retry",
            id,
            &format!("Retry from {}.", phase.label().to_lowercase()),
        )
        .await;
        self.spawn_run(id).await;
        self.get(actor, id).await
    }

    /// Asks Flux to reconcile one component again (its HelmRelease is annotated), and — if the deployment
    /// failed in the components phase — watches again.
    async fn retry_component(
        &self,
        actor: &Actor,
        row: &store::DeploymentRow,
        component: &str,
    ) -> Result<Deployment, AppError> {
        let request: app::deployments::DeploymentRequest = serde_json::from_str(&row.request)
            .map_err(|_| AppError::Internal("The stored request is unreadable.".into()))?;
        let deployed = super::phases::install::deployed_components(self, row, &request);
        if !deployed.iter().any(|c| c == component) {
            return Err(AppError::invalid(
                "component",
                format!(
                    "“{}” is not a component of this deployment.",
                    component.chars().take(60).collect::<String>()
                ),
            ));
        }
        let primary = super::kubeconfig::primary_key(&request);
        let accepted = super::kubeconfig::load_accepted(self, row, &primary)
            .await
            .map_err(|why| match why {
                super::kubeconfig::Unusable::Missing => AppError::Conflict(
                    "The cluster has not reported back yet, so its components cannot be retried.".into(),
                ),
                super::kubeconfig::Unusable::Refused => AppError::Conflict(
                    "The cluster's stored kubeconfig does not meet Catalyst's kubeconfig rules; retry the cluster phase so the control plane sends a new one.".into(),
                ),
                super::kubeconfig::Unusable::Undecryptable => AppError::Internal(
                    "The stored kubeconfig cannot be decrypted with this console's key.".into(),
                ),
            })?;
        // Errors from the tenant's cluster reach the tenant as a fixed sentence; the detail is logged.
        let client = crate::kube::helmwatch::client(&accepted).map_err(|e| {
            tracing::warn!(deployment = %row.id, error = %e, "cannot build the cluster's client");
            AppError::Unavailable(e.sentence())
        })?;
        let at = now_ms().to_string();
        crate::kube::helmwatch::request_reconcile(client, component, &at)
            .await
            .map_err(|e| {
                tracing::warn!(deployment = %row.id, component, error = %e, "the reconcile request failed");
                AppError::Unavailable(format!(
                    "The cluster did not accept the reconcile request: {}",
                    e.sentence()
                ))
            })?;
        self.append(
            &row.id,
            &[crate::db::deployment_events::NewEvent::info(
                Phase::Components,
                format!("{} asked Flux to reconcile {component} again.", actor.label()),
            )],
            &[],
        )
        .await?;
        self.audit(
            actor,
            "deployments.retry",
            &row.id,
            &format!("Flux asked to reconcile {component} again."),
        )
        .await;
        if row.status() == DeploymentStatus::Failed
            && row
                .error
                .as_deref()
                .and_then(|e| serde_json::from_str::<DeploymentError>(e).ok())
                .is_some_and(|e| e.phase == Phase::Components)
        {
            let again = RetryRequest {
                phase: Some(Phase::Components.as_str().into()),
                component: None,
            };
            return Box::pin(self.retry(actor, &row.id, again)).await;
        }
        self.get(actor, &row.id).await
    }

    /// Stops the work in flight. The replica running it kills OpenTofu's process group and records the
    /// deployment as failed ("cancelled by …"); retry continues from there.
    pub async fn cancel(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError> {
        let row = self.row_for(actor, id, Action::DeploymentCancel).await?;
        if !row.status().in_flight() {
            return Err(AppError::Conflict(format!(
                "Nothing is running: the deployment is {}.",
                row.status().label().to_lowercase()
            )));
        }
        let local = self
            .0
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        if let Some(run) = local {
            run.stop(StopReason::Cancelled {
                by: actor.label().to_string(),
            });
        } else {
            let live = leases::holder(self.db(), id)
                .await
                .map_err(Error::from)?
                .is_some_and(|(_, expires)| expires > now_ms());
            if live {
                // Another replica runs it: it sees the request at its next heartbeat.
                store::request_cancel(self.db(), id, actor.label())
                    .await
                    .map_err(Error::from)?;
            } else {
                // Nobody runs it right now (between a crash and the takeover): record it directly.
                let phase = store::phases(self.db(), id)
                    .await
                    .map_err(Error::from)?
                    .into_iter()
                    .find(|p| p.state == PhaseState::Running)
                    .map(|p| p.phase)
                    .unwrap_or(Phase::Gitops);
                self.fail(
                    id,
                    phase,
                    &format!("Cancelled by {}.", actor.label()),
                    "Retry to run again from where it stopped, or wipe the deployment to remove what was created.",
                )
                .await
                .map_err(|e| transition_error(e, id))?;
            }
        }
        self.audit(actor, "deployments.cancel", id, "Run cancelled.")
            .await;
        // Give a local run a moment to record the outcome, so the answer shows it.
        for _ in 0..50 {
            if !self.local_runs().iter().any(|r| r == id) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.get(actor, id).await
    }

    /// Deletes the record only (the Sovereign, if any, keeps running). Refused while work is in flight.
    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        let row = self.row_for(actor, id, Action::DeploymentDelete).await?;
        if row.status().in_flight() {
            return Err(AppError::Conflict(format!(
                "The deployment is {}; cancel it (or wait until it settles) before deleting the record.",
                row.status().label().to_lowercase()
            )));
        }
        if row.status() != DeploymentStatus::Wiped {
            // Its servers may still run and follow clusters/<fqdn>/: the record is hidden, not removed, and
            // keeps the domain (and so that tree) from every other organisation until it is wiped or a
            // superadmin releases it. The work directory (OpenTofu's state) stays for that wipe.
            if !store::hide_settled(self.db(), id).await.map_err(Error::from)? {
                return Err(AppError::Conflict(
                    "The deployment started working again; try again once it settles.".into(),
                ));
            }
            tracing::info!(deployment = %id, by = %actor.label(), "deployment record hidden; its domain stays held");
            self.audit(
                actor,
                "deployments.delete",
                id,
                &format!(
                    "Record of {} deleted before a wipe: {} stays held until a superadmin wipes it or releases the domain.",
                    row.fqdn, row.fqdn
                ),
            )
            .await;
            return Ok(());
        }
        if !store::delete_settled(self.db(), id).await.map_err(Error::from)? {
            // It started moving between the check and the delete.
            return Err(AppError::Conflict(
                "The deployment started working again; try again once it settles.".into(),
            ));
        }
        let _ = std::fs::remove_dir_all(super::step::workdir_of(self, id));
        tracing::info!(deployment = %id, by = %actor.label(), "deployment record deleted");
        self.audit(
            actor,
            "deployments.delete",
            id,
            &format!("Record of {} deleted.", row.fqdn),
        )
        .await;
        Ok(())
    }

    /// The domains that deleted, not wiped records hold (superadmins).
    pub async fn held_domains(&self, actor: &Actor) -> Result<Vec<HeldDomain>, AppError> {
        policy::require(&actor.principal, Action::DomainRelease, None)?;
        let rows = store::held(self.db()).await.map_err(Error::from)?;
        Ok(rows
            .into_iter()
            .map(|r| HeldDomain {
                status: r.status().as_str().to_string(),
                deleted_at: r.deleted_at.unwrap_or_default(),
                fqdn: r.fqdn,
                deployment_id: r.id,
                org_id: r.org_id,
            })
            .collect())
    }

    /// Releases the domain a deleted, not wiped record holds: its DNS names on Catalyst's PowerDNS are
    /// removed, then the record for good (audited). The caller vouches that the Sovereign's servers are gone; after this any organisation may deploy the
    /// domain and push its tree.
    pub async fn release_domain(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        policy::require(&actor.principal, Action::DomainRelease, None)?;
        let held = store::held(self.db())
            .await
            .map_err(Error::from)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "No deleted deployment record “{}” holds a domain.",
                    id.chars().take(40).collect::<String>()
                ))
            })?;
        let wiping = || {
            AppError::Conflict(
                "The record is being wiped; release it once the wipe settles (or let the wipe free the domain).".into(),
            )
        };
        if !held.status().settled() {
            return Err(wiping());
        }
        // Its names on Catalyst's PowerDNS go with it — records, zone, delegation, update key — before the
        // record, so a name PowerDNS kept stays attached to a record a retry of the release can free.
        if let Some(pools) = self.config().dns.as_ref() {
            let released = pools
                .release_deployment(id)
                .await
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            let left: Vec<String> = released.into_iter().flat_map(|r| r.left).collect();
            if !left.is_empty() {
                return Err(AppError::Unavailable(format!(
                    "Catalyst's DNS server kept {}; release the domain again once it answers.",
                    left.join(", ")
                )));
            }
        }
        if !store::release_held(self.db(), id).await.map_err(Error::from)? {
            return Err(wiping());
        }
        let _ = std::fs::remove_dir_all(super::step::workdir_of(self, id));
        tracing::warn!(deployment = %id, fqdn = %held.fqdn, by = %actor.label(), "domain released");
        self.audit(
            actor,
            "domains.release",
            id,
            &format!(
                "{} released: the deleted record of organisation {} no longer holds it.",
                held.fqdn, held.org_id
            ),
        )
        .await;
        Ok(())
    }

    /// Removes everything the deployment created: `tofu destroy`, the sweep of left-overs, the report.
    pub async fn wipe(&self, actor: &Actor, id: &str, body: WipeRequest) -> Result<Deployment, AppError> {
        let row = self.row_for(actor, id, Action::DeploymentWipe).await?;
        if body.confirm.trim().to_ascii_lowercase() != row.fqdn {
            return Err(AppError::invalid(
                "confirm",
                format!("Type the deployment's domain, {}, to confirm the wipe.", row.fqdn),
            ));
        }
        if row.status().in_flight() {
            return Err(AppError::Conflict(format!(
                "The deployment is {}; cancel it first, then wipe.",
                row.status().label().to_lowercase()
            )));
        }
        if row.status() == DeploymentStatus::Wiped {
            return Err(AppError::Conflict("The deployment is already wiped.".into()));
        }
        if let Some(token) = body.hetzner_token.filter(|t| !t.is_empty()) {
            let mut secrets = self.secrets_of(id).await?;
            secrets.hetzner_token = token;
            self.store_secrets(id, &secrets).await?;
        }
        let mut w = StatusWrite::new(
            DeploymentStatus::Wiping,
            Phase::TofuDestroy,
            format!(
                "Wipe requested by {}: destroying everything this deployment created.",
                actor.label()
            ),
        );
        w.start_run = true;
        w.effects = vec![Effect::ResetPhases(vec![Phase::TofuDestroy, Phase::Sweep])];
        self.transition(id, &w)
            .await
            .map_err(|e| transition_error(e, id))?;
        self.audit(
            actor,
            "deployments.wipe",
            id,
            &format!("Wipe of {} started.", row.fqdn),
        )
        .await;
        self.spawn_run(id).await;
        self.get(actor, id).await
    }
}

#[async_trait]
impl DeploymentsPort for Engine {
    async fn jobs(&self, actor: &Actor, id: &str) -> Result<Vec<app::flow::Job>, AppError> {
        crate::flow::jobs_for(self, actor, id).await
    }

    async fn job_log(&self, actor: &Actor, id: &str, job: &str) -> Result<app::flow::JobLog, AppError> {
        crate::flow::job_log_for(self, actor, id, job).await
    }

    async fn create(&self, actor: &Actor, body: CreateDeployment) -> Result<Created, AppError> {
        Engine::create(self, actor, body).await
    }

    async fn get(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError> {
        Engine::get(self, actor, id).await
    }

    async fn list(&self, actor: &Actor, query: ListQuery) -> Result<DeploymentList, AppError> {
        Engine::list(self, actor, query).await
    }

    async fn status_counts(&self, actor: &Actor, query: ListQuery) -> Result<Vec<StatusCount>, AppError> {
        Engine::status_counts(self, actor, query).await
    }

    async fn events(
        &self,
        actor: &Actor,
        id: &str,
        after: i64,
        limit: Option<i64>,
    ) -> Result<EventPage, AppError> {
        Engine::events(self, actor, id, after, limit).await
    }

    async fn retry(&self, actor: &Actor, id: &str, body: RetryRequest) -> Result<Deployment, AppError> {
        Engine::retry(self, actor, id, body).await
    }

    async fn cancel(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError> {
        Engine::cancel(self, actor, id).await
    }

    async fn delete(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        Engine::delete(self, actor, id).await
    }

    async fn wipe(&self, actor: &Actor, id: &str, body: WipeRequest) -> Result<Deployment, AppError> {
        Engine::wipe(self, actor, id, body).await
    }
}

/// A domain a deleted, not wiped deployment record holds (`GET /sovereign/api/v1/domain-holds`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldDomain {
    pub fqdn: String,
    pub deployment_id: String,
    pub org_id: String,
    pub status: String,
    pub deleted_at: i64,
}
