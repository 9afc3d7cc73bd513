//! The provisioning engine: turns one validated request into cloud infrastructure with OpenTofu, hands the
//! cluster to Flux, and records every step as events.
//!
//! - [`Engine`] holds the database, the secret box, this replica's live-event hubs and its running runs.
//! - Runs (`run`, one file per phase in `phases`, what they share in `step`) are status-driven: whatever the status says is owed, the run does — so creating, retrying,
//!   resuming after a crash, and taking over from a dead replica are the same code path.
//! - Every run holds a lease (`lease`); a supervisor takes over runs whose lease expired.
//! - Events are appended through the database (`db::deployment_events`), fanned out by `hub`.

pub mod create;
pub mod http;
pub mod hub;
pub mod kubeconfig;
pub mod lease;
pub mod phases;
pub mod port;
pub mod redact;
pub mod run;
pub mod sink;
pub mod step;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::auth::{Action, policy};
use app::catalog::Catalog;
use app::deployments::validate::ValidationContext;
use app::deployments::{
    Actor, Deployment, DeploymentError, DeploymentList, DeploymentRequest, DeploymentResult,
    DeploymentSecrets, DeploymentStatus, DeploymentSummary, EventPage, ListQuery, Phase, PhaseState,
    StatusCount, TeardownReport,
};
use app::error::AppError;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::crypto::SecretBox;
use crate::db::deployment_events::{self, Effect, NewEvent};
use crate::db::deployments::{self as store, CreateLimits, DeploymentRow, StatusWrite, TransitionError};
use crate::db::{Db, secrets as secret_store};
use crate::error::Error;
use crate::gitops::config::GitopsSettings;
use crate::hetzner::SweepOptions;
pub use create::CreateChecks;
use hub::Hubs;

/// The engine's settings (from `--tofu-*`, `--lease-ttl`, … in `config`).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `--tofu-bin`.
    pub tofu_bin: PathBuf,
    /// `--tofu-module-dir`: the OpenTofu module copied into every work directory.
    pub module_dir: PathBuf,
    /// Where work directories live: `<data-dir>/deployments/<id>`.
    pub work_root: PathBuf,
    /// OpenTofu's provider cache shared by all work directories.
    pub plugin_cache: PathBuf,
    /// `--tofu-timeout`: init, plan, output.
    pub step_timeout: Duration,
    /// `--tofu-apply-timeout`: apply and destroy.
    pub apply_timeout: Duration,
    /// `--cluster-timeout`: from the end of apply to the kubeconfig PUT-back.
    pub cluster_timeout: Duration,
    /// `--install-timeout`: the HelmRelease watch.
    pub install_timeout: Duration,
    /// `--lease-ttl`: a run whose replica stops renewing is taken over after this long.
    pub lease_ttl: Duration,
    /// The console's public base URL (`https://console.example.com/sovereign`) the control plane PUTs its
    /// kubeconfig to.
    pub public_url: String,
    /// Safety-net poll of live-event hubs and waiting runs.
    pub poll: Duration,
    /// The validated component catalog: checks a request's `components` and maps them to Helm charts.
    pub catalog: Arc<Catalog>,
    /// `--gitops-*`: where each Sovereign's Flux tree is pushed, and what its Flux pulls with.
    pub gitops: GitopsSettings,
    /// `--hetzner-api-url`: the wipe's sweep of left-over resources talks to it.
    pub hetzner_api_url: String,
    /// How hard the wipe's sweep tries (rounds and the pause between them).
    pub sweep: SweepOptions,
    /// Extra environment for every OpenTofu command (besides the pass-through of `TF_*`/`TOFU_*`).
    pub tofu_env: Vec<(String, String)>,
    /// What the shared validation needs from the configuration (`--pool-domains`): the same facts the
    /// wizard validates with, so a pool-domain request the wizard accepts is accepted here too.
    pub validation: ValidationContext,
    /// The pool manager (`--pdns-url`): the run's DNS step. `None`: no DNS is written (the step says so).
    pub dns: Option<Arc<crate::dns::PoolManager>>,
    /// How long the DNS step keeps trying when Catalyst's PowerDNS does not answer before the run fails.
    pub dns_timeout: Duration,
    /// The longest pause between two attempts of the DNS step.
    pub dns_retry: Duration,
    /// How often a bring-your-own run asks whether its domain is delegated to Catalyst's nameservers yet.
    pub delegation_poll: Duration,
    /// How long it waits for that before it fails (registrars take up to 48 hours).
    pub delegation_timeout: Duration,
    /// `--max-deployments-in-flight`, `--max-deployments-per-day`: per organisation, checked on create.
    pub limits: CreateLimits,
    /// `--hetzner-limits`, `--allow-local-console`: what the pre-flight needs besides the settings above.
    pub preflight: crate::preflight::PreflightOptions,
}

impl EngineConfig {
    /// Defaults for a data directory and a catalog (tests override what they need).
    pub fn for_data_dir(data_dir: &std::path::Path, catalog: Arc<Catalog>) -> Self {
        Self {
            tofu_bin: PathBuf::from("tofu"),
            module_dir: PathBuf::from("infra/hetzner"),
            work_root: data_dir.join("deployments"),
            plugin_cache: data_dir.join("tofu-plugin-cache"),
            step_timeout: Duration::from_secs(15 * 60),
            apply_timeout: Duration::from_secs(90 * 60),
            cluster_timeout: Duration::from_secs(30 * 60),
            install_timeout: Duration::from_secs(120 * 60),
            lease_ttl: Duration::from_secs(30),
            public_url: "http://127.0.0.1:3000/sovereign".into(),
            poll: Duration::from_secs(2),
            catalog,
            gitops: GitopsSettings::default(),
            hetzner_api_url: crate::hetzner::DEFAULT_API_URL.into(),
            sweep: SweepOptions::default(),
            tofu_env: Vec::new(),
            validation: ValidationContext::default(),
            dns: None,
            dns_timeout: Duration::from_secs(15 * 60),
            dns_retry: Duration::from_secs(30),
            delegation_poll: Duration::from_secs(60),
            delegation_timeout: Duration::from_secs(48 * 3600),
            limits: CreateLimits::default(),
            preflight: crate::preflight::PreflightOptions::default(),
        }
    }

    /// The pre-flight's view of these settings.
    pub fn preflight_config(&self) -> crate::preflight::PreflightConfig {
        crate::preflight::PreflightConfig {
            hetzner_api_url: self.hetzner_api_url.clone(),
            public_url: self.public_url.clone(),
            gitops: self.gitops.clone(),
            tofu_bin: self.tofu_bin.clone(),
            options: self.preflight.clone(),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// Why a local run is being stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// A person cancelled it: record the deployment as failed.
    Cancelled { by: String },
    /// Another replica holds the lease now: stop without writing anything.
    LeaseLost,
    /// This process is shutting down: stop, keep the status, give the lease up so a replica resumes it.
    Shutdown,
}

/// A run in this process.
pub struct RunCtx {
    pub cancel: CancellationToken,
    pub reason: Mutex<Option<StopReason>>,
    /// Asked to look at the status again when the current pass settles (a retry arrived meanwhile).
    pub rerun: AtomicBool,
}

impl RunCtx {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            cancel: CancellationToken::new(),
            reason: Mutex::new(None),
            rerun: AtomicBool::new(false),
        })
    }

    pub fn stop(&self, reason: StopReason) {
        let mut r = self.reason.lock().unwrap_or_else(|e| e.into_inner());
        if r.is_none() {
            *r = Some(reason);
        }
        self.cancel.cancel();
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub(crate) struct Inner {
    pub db: Db,
    pub secrets: SecretBox,
    pub config: EngineConfig,
    /// This replica's id (lease holder).
    pub instance: String,
    pub hubs: Hubs,
    pub runs: Mutex<HashMap<String, Arc<RunCtx>>>,
    /// Runs waiting for something another request delivers (the kubeconfig).
    pub waiters: Mutex<HashMap<String, Arc<Notify>>>,
    pub shutdown: CancellationToken,
    pub validation: ValidationContext,
    /// The live checks of a new deployment (the subdomain, the cloud token): `create`.
    pub checks: CreateChecks,
    /// One GitOps push at a time from this replica: runs started together would otherwise race for the
    /// branch and exhaust the push's rebuild attempts (replicas still race, which those attempts absorb).
    pub push_lock: tokio::sync::Mutex<()>,
    /// The pre-flight the create path runs (and the wizard and REST run on their own).
    pub preflight: crate::preflight::Preflight,
}

/// The provisioning engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine(pub(crate) Arc<Inner>);

impl Engine {
    pub fn new(
        db: Db,
        secrets: SecretBox,
        config: EngineConfig,
        instance: String,
        checks: CreateChecks,
    ) -> Self {
        let hubs = Hubs::new(db.clone(), config.poll);
        let validation = config.validation.clone();
        let preflight =
            crate::preflight::Preflight::new(db.clone(), config.preflight_config(), config.catalog.clone());
        Engine(Arc::new(Inner {
            preflight,
            db,
            secrets,
            config,
            instance,
            hubs,
            runs: Mutex::new(HashMap::new()),
            waiters: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            validation,
            checks,
            push_lock: tokio::sync::Mutex::new(()),
        }))
    }

    /// The live checks `create` runs (the HTTP layer hands the same ones to the wizard's checks).
    pub fn checks(&self) -> &CreateChecks {
        &self.0.checks
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn hubs(&self) -> &Hubs {
        &self.0.hubs
    }

    pub fn config(&self) -> &EngineConfig {
        &self.0.config
    }

    /// The runs this replica works on now (metrics).
    pub fn runs_held(&self) -> usize {
        self.0.runs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn preflight(&self) -> &crate::preflight::Preflight {
        &self.0.preflight
    }

    pub fn instance(&self) -> &str {
        &self.0.instance
    }

    /// Starts the background work: the lease supervisor (takes over orphaned runs, now and periodically) and,
    /// on Postgres, the LISTEN connection that wakes hubs and waiting runs for other replicas' events.
    pub fn start(&self) {
        tokio::spawn(lease::supervise(self.clone()));
        if let Db::Postgres(pool) = &self.0.db {
            let engine = self.clone();
            let wake: Arc<dyn Fn(&str) + Send + Sync> = Arc::new(move |id: &str| engine.wake_waiter(id));
            tokio::spawn(hub::listen_postgres(pool.clone(), self.0.hubs.clone(), wake));
        }
    }

    /// Stops local runs without recording a failure (their status stays, leases are released so another
    /// replica — or this one after restart — resumes them), and waits briefly for them to wind down.
    ///
    /// The leases of the runs that stopped are handed back before this returns (not left to expire), so
    /// another replica takes those runs over at once.
    pub async fn shutdown(&self) {
        self.0.shutdown.cancel();
        let runs: Vec<(String, Arc<RunCtx>)> = self
            .0
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, ctx)| (id.clone(), ctx.clone()))
            .collect();
        for (_, run) in &runs {
            run.stop(StopReason::Shutdown);
        }
        for _ in 0..300 {
            if self.0.runs.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A run's own task releases its lease after leaving the table; do it here too, so none is still
        // held when the process exits (the database closes next). Runs still stopping keep theirs.
        let still: Vec<String> = self
            .0
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        for (id, _) in runs.iter().filter(|(id, _)| !still.contains(id)) {
            if let Err(e) = crate::db::leases::release(&self.0.db, id, self.instance()).await {
                tracing::warn!(deployment = %id, error = %e, "cannot hand the run's lease back; it expires by itself");
            }
        }
    }

    /// Stops local runs as if this process had died: OpenTofu is stopped, but nothing is written and the
    /// leases are kept, so another replica takes the runs over once they expire. (Crash drills, tests.)
    pub async fn abandon_runs(&self) {
        let runs: Vec<Arc<RunCtx>> = self
            .0
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for run in &runs {
            run.stop(StopReason::LeaseLost);
        }
        for _ in 0..300 {
            if self.0.runs.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Cancelled when the console shuts down (live streams end so connections drain).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.0.shutdown.clone()
    }

    /// Ids of the runs this replica is executing.
    pub fn local_runs(&self) -> Vec<String> {
        self.0
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    pub(crate) fn wake_waiter(&self, id: &str) {
        if let Some(n) = self.0.waiters.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            n.notify_one();
        }
    }

    /// Appends events (and their state-table effects), then wakes local hubs and waiters.
    pub async fn append(&self, id: &str, events: &[NewEvent], effects: &[Effect]) -> Result<i64, Error> {
        let last = deployment_events::append(&self.0.db, id, events, effects)
            .await
            .map_err(|e| match e {
                deployment_events::AppendError::NoDeployment => {
                    Error::App(AppError::NotFound("The deployment no longer exists.".into()))
                }
                deployment_events::AppendError::Db(d) => Error::Db(d),
            })?;
        crate::flow::record(self, id, events, effects).await;
        self.0.hubs.wake(id);
        self.wake_waiter(id);
        Ok(last)
    }

    /// A checked status transition with its event; wakes local hubs.
    pub async fn transition(&self, id: &str, w: &StatusWrite) -> Result<DeploymentRow, TransitionError> {
        let row = store::transition(&self.0.db, id, w).await?;
        crate::flow::record(self, id, &[], &w.effects).await;
        self.0.hubs.wake(id);
        self.wake_waiter(id);
        Ok(row)
    }

    fn request_aad(id: &str) -> Vec<u8> {
        format!("{id}/request").into_bytes()
    }

    /// The deployment's secrets, decrypted (only where they are used: tfvars, cloud API calls).
    pub async fn secrets_of(&self, id: &str) -> Result<DeploymentSecrets, Error> {
        let sealed = secret_store::get(&self.0.db, id, "request")
            .await?
            .ok_or_else(|| AppError::Internal("The deployment's stored secrets are missing.".into()))?;
        let plain = self
            .0
            .secrets
            .open(&Self::request_aad(id), &sealed.nonce, &sealed.ciphertext)
            .map_err(|e| {
                tracing::error!(deployment = %id, error = %e, "cannot decrypt the deployment's secrets");
                AppError::Internal(
                    "The deployment's secrets cannot be decrypted with this console's key; start it with the original --secret-key-file.".into(),
                )
            })?;
        serde_json::from_slice(&plain)
            .map_err(|_| AppError::Internal("The deployment's stored secrets are unreadable.".into()).into())
    }

    /// Replaces the stored secrets (a wipe with a new token).
    pub async fn store_secrets(&self, id: &str, secrets: &DeploymentSecrets) -> Result<(), Error> {
        let json = serde_json::to_vec(secrets)
            .map_err(|_| AppError::Internal("Cannot encode the secrets.".into()))?;
        let (nonce, ct) = self.0.secrets.seal(&Self::request_aad(id), &json);
        secret_store::put(&self.0.db, id, "request", &nonce, &ct).await?;
        Ok(())
    }

    /// The deployment row, if the caller may do `action` on it. Someone who may not even see it (not a
    /// member of its organisation) gets not found, so ids cannot be probed; a member whose role lacks
    /// `action` gets `Forbidden(<permission>)`.
    pub async fn row_for(&self, actor: &Actor, id: &str, action: Action) -> Result<DeploymentRow, AppError> {
        let row = store::get(&self.0.db, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| not_found(id))?;
        if !policy::allowed(&actor.principal, Action::DeploymentRead, Some(&row.org_id)) {
            return Err(not_found(id));
        }
        // A record its organisation deleted before a wipe: only a superadmin still reaches it (to read and
        // wipe it, or release its domain).
        if row.deleted_at.is_some() && !policy::allowed(&actor.principal, Action::DomainRelease, None) {
            return Err(not_found(id));
        }
        policy::require(&actor.principal, action, Some(&row.org_id))?;
        Ok(row)
    }

    pub async fn get(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError> {
        let row = self.row_for(actor, id, Action::DeploymentRead).await?;
        let can = app::deployments::DeploymentPermissions::of(&actor.principal, &row.org_id);
        let mut d = self.assemble(row).await?;
        d.can = can;
        Ok(d)
    }

    /// The full view of a row: phases, resources, components, kubeconfig regions.
    pub async fn assemble(&self, row: DeploymentRow) -> Result<Deployment, Error> {
        let db = &self.0.db;
        let request: DeploymentRequest = serde_json::from_str(&row.request)
            .map_err(|_| AppError::Internal("The stored request is unreadable.".into()))?;
        let phases = store::phases(db, &row.id).await?;
        let resources = store::resources(db, &row.id).await?;
        let components = store::components(db, &row.id).await?;
        let kubeconfig_regions = secret_store::names(db, &row.id, "kubeconfig:")
            .await?
            .into_iter()
            .filter_map(|n| n.strip_prefix("kubeconfig:").map(str::to_string))
            .collect();
        Ok(Deployment {
            can: Default::default(),
            status: row.status(),
            stream_url: app::deployments::stream_url(&row.id),
            result: row
                .result
                .as_deref()
                .and_then(|r| serde_json::from_str::<DeploymentResult>(r).ok()),
            error: row
                .error
                .as_deref()
                .and_then(|r| serde_json::from_str::<DeploymentError>(r).ok()),
            teardown: row
                .teardown
                .as_deref()
                .and_then(|r| serde_json::from_str::<TeardownReport>(r).ok()),
            created_by_name: self
                .user_labels(std::iter::once(row.created_by.as_str()))
                .await
                .remove(&row.created_by)
                .unwrap_or_default(),
            id: row.id,
            org_id: row.org_id,
            created_by: row.created_by,
            fqdn: row.fqdn,
            request,
            created_at: row.created_at,
            updated_at: row.updated_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            phases,
            resources,
            components,
            kubeconfig_regions,
            last_seq: row.last_seq,
        })
    }

    /// The deployments the caller may see: every organisation's with a platform role that reads them all,
    /// otherwise those of the organisations where their role allows `deployments.read`; narrowed to
    /// `query.org_id` if given.
    pub async fn list(&self, actor: &Actor, query: ListQuery) -> Result<DeploymentList, AppError> {
        let filter = query.parse()?;
        let orgs = list_scope(actor, &query);
        let store::ListPage {
            total,
            rows,
            next,
            prev,
        } = store::list(&self.0.db, orgs.as_deref(), &filter)
            .await
            .map_err(Error::from)?;
        let names = self.user_labels(rows.iter().map(|r| r.created_by.as_str())).await;
        let items = rows
            .into_iter()
            .map(|row| {
                let request: Option<DeploymentRequest> = serde_json::from_str(&row.request).ok();
                DeploymentSummary {
                    status: row.status(),
                    org_name: request.as_ref().map(|r| r.org.name.clone()).unwrap_or_default(),
                    regions: request
                        .as_ref()
                        .map(|r| r.regions.iter().map(|g| g.cloud_region.clone()).collect())
                        .unwrap_or_default(),
                    component_count: request.as_ref().map(|r| r.components.len()).unwrap_or_default(),
                    monthly_cents: row.monthly_cents,
                    id: row.id,
                    org_id: row.org_id,
                    created_by_name: names.get(&row.created_by).cloned().unwrap_or_default(),
                    created_by: row.created_by,
                    fqdn: row.fqdn,
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                }
            })
            .collect();
        Ok(DeploymentList {
            items,
            total,
            page: if filter.cursor.is_some() {
                0
            } else {
                filter.page.page
            },
            per_page: filter.page.per_page,
            next,
            prev,
        })
    }

    /// How many of the deployments [`Engine::list`] would show match the query's search, per status (the
    /// status filter left out), in the order of [`DeploymentStatus::ALL`]; statuses without any are absent.
    pub async fn status_counts(&self, actor: &Actor, query: ListQuery) -> Result<Vec<StatusCount>, AppError> {
        let filter = query.parse()?;
        let orgs = list_scope(actor, &query);
        let counts = store::status_counts(&self.0.db, orgs.as_deref(), &filter)
            .await
            .map_err(Error::from)?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| StatusCount { status, count })
            .collect())
    }

    pub async fn events(
        &self,
        actor: &Actor,
        id: &str,
        after: i64,
        limit: Option<i64>,
    ) -> Result<EventPage, AppError> {
        let row = self.row_for(actor, id, Action::DeploymentEventsRead).await?;
        if after < 0 {
            return Err(AppError::invalid(
                "after",
                "`after` is a sequence number: 0 or more.",
            ));
        }
        let limit = limit
            .unwrap_or(app::deployments::DEFAULT_EVENTS_PER_PAGE)
            .clamp(1, app::deployments::MAX_EVENTS_PER_PAGE);
        let events = deployment_events::list_after(&self.0.db, id, after, limit)
            .await
            .map_err(Error::from)?;
        let next_after = events.last().map(|e| e.seq).unwrap_or(after);
        Ok(EventPage {
            has_more: next_after < row.last_seq,
            next_after,
            events,
            status: row.status(),
        })
    }

    /// Records a failure of `phase` and moves the deployment to `failed`.
    pub async fn fail(
        &self,
        id: &str,
        phase: Phase,
        message: &str,
        hint: &str,
    ) -> Result<(), TransitionError> {
        crate::metrics::phase_finished(id, phase.as_str(), "failed");
        let error = DeploymentError {
            phase,
            message: message.to_string(),
            hint: hint.to_string(),
        };
        let mut w = StatusWrite::new(
            DeploymentStatus::Failed,
            phase,
            format!("Failed in {}: {message}", phase.label()),
        );
        w.error = serde_json::to_string(&error).ok();
        w.effects = vec![Effect::Phase {
            phase,
            state: PhaseState::Failed,
        }];
        // A failed run waits for no control plane: its bearers stop working (a retry issues new ones).
        self.revoke_bearers(id).await;
        self.transition(id, &w).await.map(|_| ())
    }

    /// Records who did what to a deployment in the audit log (best effort: a failure is logged, not raised):
    /// the signed-in caller, their address and the request id.
    pub async fn audit(&self, actor: &Actor, action: &str, id: &str, detail: &str) {
        let target = format!("deployment:{id}");
        let entry = crate::db::audit::NewAudit::by(&actor.principal, &actor.meta, action, &target, detail);
        if let Err(e) = crate::db::audit::append(&self.0.db, &entry).await {
            tracing::warn!(error = %e, action, "cannot write the audit entry");
        }
    }

    /// Starts (or resumes) the run of `id` on this replica if it can take the lease.
    pub async fn spawn_run(&self, id: &str) -> bool {
        run::spawn(self.clone(), id.to_string()).await
    }
}

impl Engine {
    /// User id → how pages name the person (display name or e-mail); ids of removed accounts are left out.
    pub async fn user_labels<'a>(&self, ids: impl Iterator<Item = &'a str>) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for id in ids {
            if out.contains_key(id) {
                continue;
            }
            if let Ok(Some(u)) = crate::db::users::by_id(&self.0.db, id).await {
                let label = if u.display_name.trim().is_empty() {
                    u.email
                } else {
                    u.display_name
                };
                out.insert(id.to_string(), label);
            }
        }
        out
    }
}

pub(crate) fn not_found(id: &str) -> AppError {
    let shown: String = id.chars().take(40).collect();
    AppError::NotFound(format!("There is no deployment “{shown}”."))
}

pub(crate) fn transition_error(e: TransitionError, id: &str) -> AppError {
    match e {
        TransitionError::NotFound => not_found(id),
        TransitionError::Illegal(i) => AppError::Conflict(format!(
            "The deployment is {}; it cannot become {} from there.",
            i.from.label().to_lowercase(),
            i.to.label().to_lowercase()
        )),
        TransitionError::Db(d) => Error::from(d).into(),
    }
}

/// The organisations a list may show: `None` for every one (a platform role that reads them all), otherwise
/// those where the caller's role allows `deployments.read`; narrowed to the query's `orgId` if given.
fn list_scope(actor: &Actor, query: &ListQuery) -> Option<Vec<String>> {
    let p = &actor.principal;
    let everywhere = policy::allowed_everywhere(p, Action::DeploymentRead);
    let mut orgs = (!everywhere).then(|| policy::org_ids_allowing(p, Action::DeploymentRead));
    if let Some(only) = query.org_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        orgs = Some(match orgs {
            Some(ids) => ids.into_iter().filter(|id| id == only).collect(),
            None => vec![only.to_string()],
        });
    }
    orgs
}
