//! Wire types of deployments: the record, its phases, OpenTofu resources, components and events, and the
//! bodies of the API calls. The same types serve the REST API, the server functions and the SSE stream.

use serde::{Deserialize, Serialize};

use super::request::DeploymentRequest;
use super::status::DeploymentStatus;
use crate::time::Millis;

/// The steps of a deployment, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Render `clusters/<fqdn>/` with the selected components and push it to the GitOps repository.
    #[serde(rename = "gitops")]
    Gitops,
    #[serde(rename = "tofu-init")]
    TofuInit,
    #[serde(rename = "tofu-plan")]
    TofuPlan,
    #[serde(rename = "tofu-apply")]
    TofuApply,
    #[serde(rename = "tofu-output")]
    TofuOutput,
    /// The Sovereign's DNS zone gets its record set (the load balancer's address): reserved when the run
    /// starts, committed and published after the OpenTofu outputs.
    #[serde(rename = "dns")]
    Dns,
    /// The control plane boots, installs Flux and sends its kubeconfig back.
    #[serde(rename = "cluster")]
    Cluster,
    /// Flux installs the selected components; the HelmRelease watcher follows them.
    #[serde(rename = "components")]
    Components,
    /// `tofu destroy` of everything the deployment created.
    #[serde(rename = "tofu-destroy")]
    TofuDestroy,
    /// Removal of left-over cloud resources (by label and name prefix) and the teardown report.
    #[serde(rename = "sweep")]
    Sweep,
}

impl Phase {
    /// The phases of a provisioning run, in order.
    pub const PROVISION: [Phase; 8] = [
        Phase::Gitops,
        Phase::TofuInit,
        Phase::TofuPlan,
        Phase::TofuApply,
        Phase::TofuOutput,
        Phase::Dns,
        Phase::Cluster,
        Phase::Components,
    ];
    /// The phases of a wipe, in order.
    pub const WIPE: [Phase; 2] = [Phase::TofuDestroy, Phase::Sweep];
    pub const ALL: [Phase; 10] = [
        Phase::Gitops,
        Phase::TofuInit,
        Phase::TofuPlan,
        Phase::TofuApply,
        Phase::TofuOutput,
        Phase::Dns,
        Phase::Cluster,
        Phase::Components,
        Phase::TofuDestroy,
        Phase::Sweep,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Gitops => "gitops",
            Phase::TofuInit => "tofu-init",
            Phase::TofuPlan => "tofu-plan",
            Phase::TofuApply => "tofu-apply",
            Phase::TofuOutput => "tofu-output",
            Phase::Dns => "dns",
            Phase::Cluster => "cluster",
            Phase::Components => "components",
            Phase::TofuDestroy => "tofu-destroy",
            Phase::Sweep => "sweep",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Gitops => "GitOps tree",
            Phase::TofuInit => "OpenTofu init",
            Phase::TofuPlan => "OpenTofu plan",
            Phase::TofuApply => "Cloud resources",
            Phase::TofuOutput => "OpenTofu outputs",
            Phase::Dns => "DNS records",
            Phase::Cluster => "Cluster bootstrap",
            Phase::Components => "Components",
            Phase::TofuDestroy => "OpenTofu destroy",
            Phase::Sweep => "Left-over sweep",
        }
    }

    /// Phase 0 (OpenTofu, the GitOps tree and the DNS records, which need OpenTofu's load balancer
    /// address): a retry re-runs the whole of it from `tofu init`.
    pub fn is_infrastructure(self) -> bool {
        matches!(
            self,
            Phase::Gitops
                | Phase::TofuInit
                | Phase::TofuPlan
                | Phase::TofuApply
                | Phase::TofuOutput
                | Phase::Dns
        )
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Debug, Level::Info, Level::Warn, Level::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// What an event is about; decides which optional fields it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A line of output (OpenTofu, the engine).
    Log,
    /// A phase started, finished or failed (`state` is the [`PhaseState`]).
    Phase,
    /// The deployment's status changed (`state` is the new [`DeploymentStatus`]).
    Status,
    /// An OpenTofu resource made progress (`resource` is set).
    Resource,
    /// A component's HelmRelease changed state (`component`, `state`).
    Component,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Log => "log",
            EventKind::Phase => "phase",
            EventKind::Status => "status",
            EventKind::Resource => "resource",
            EventKind::Component => "component",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        [
            EventKind::Log,
            EventKind::Phase,
            EventKind::Status,
            EventKind::Resource,
            EventKind::Component,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One entry of a deployment's event log. `seq` is per deployment, strictly increasing, gap-free and
/// assigned by the database, so it is the SSE `id:` and the cursor of every page and reconnect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentEvent {
    pub seq: i64,
    /// When it happened (ms since the epoch).
    pub at: Millis,
    pub kind: EventKind,
    pub phase: Phase,
    pub level: Level,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceProgress>,
}

/// How far a phase has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl PhaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseState::Pending => "pending",
            PhaseState::Running => "running",
            PhaseState::Succeeded => "succeeded",
            PhaseState::Failed => "failed",
            PhaseState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<PhaseState> {
        [
            PhaseState::Pending,
            PhaseState::Running,
            PhaseState::Succeeded,
            PhaseState::Failed,
            PhaseState::Skipped,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// One phase of the deployment page's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseProgress {
    pub phase: Phase,
    pub state: PhaseState,
    #[serde(rename = "startedAt", default)]
    pub started_at: Option<Millis>,
    #[serde(rename = "finishedAt", default)]
    pub finished_at: Option<Millis>,
    /// How many times it has been started (retries and resumes count).
    pub attempts: i64,
}

impl PhaseProgress {
    /// Elapsed time: finished − started, or `now` − started while running.
    pub fn duration(&self, now: Millis) -> Option<Millis> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now).max(start) - start)
    }
}

/// What OpenTofu does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceAction {
    Create,
    Read,
    Update,
    Replace,
    Delete,
    Noop,
}

impl ResourceAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceAction::Create => "create",
            ResourceAction::Read => "read",
            ResourceAction::Update => "update",
            ResourceAction::Replace => "replace",
            ResourceAction::Delete => "delete",
            ResourceAction::Noop => "noop",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceAction> {
        [
            ResourceAction::Create,
            ResourceAction::Read,
            ResourceAction::Update,
            ResourceAction::Replace,
            ResourceAction::Delete,
            ResourceAction::Noop,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceState {
    /// In the plan, not started.
    Planned,
    /// OpenTofu is working on it.
    Applying,
    Complete,
    Errored,
}

impl ResourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceState::Planned => "planned",
            ResourceState::Applying => "applying",
            ResourceState::Complete => "complete",
            ResourceState::Errored => "errored",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceState> {
        [
            ResourceState::Planned,
            ResourceState::Applying,
            ResourceState::Complete,
            ResourceState::Errored,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// One OpenTofu resource's progress, parsed from `tofu plan|apply -json` (kept for the flow canvas).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceProgress {
    /// `hcloud_server.control_plane[0]`.
    pub address: String,
    /// `hcloud_server`.
    #[serde(rename = "resourceType")]
    pub resource_type: String,
    pub action: ResourceAction,
    pub state: ResourceState,
    /// Seconds OpenTofu reports it has been working on it.
    #[serde(rename = "elapsedSecs", default)]
    pub elapsed_secs: i64,
    /// The cloud's id once created (`id_value`).
    #[serde(rename = "cloudId", default, skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: Millis,
}

/// A component's state as derived from its HelmRelease's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentPhase {
    Pending,
    Installing,
    Installed,
    Degraded,
    Failed,
}

impl ComponentPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentPhase::Pending => "pending",
            ComponentPhase::Installing => "installing",
            ComponentPhase::Installed => "installed",
            ComponentPhase::Degraded => "degraded",
            ComponentPhase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ComponentPhase> {
        [
            ComponentPhase::Pending,
            ComponentPhase::Installing,
            ComponentPhase::Installed,
            ComponentPhase::Degraded,
            ComponentPhase::Failed,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    /// The watch ends only when every expected component is in a terminal state.
    pub fn terminal(self) -> bool {
        matches!(self, ComponentPhase::Installed | ComponentPhase::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentProgress {
    /// Catalog id (`cert-manager`); the HelmRelease is `bp-<id>`.
    pub id: String,
    pub state: ComponentPhase,
    #[serde(default)]
    pub message: String,
    #[serde(rename = "updatedAt")]
    pub updated_at: Millis,
}

/// What went wrong, where, and what the person can do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentError {
    pub phase: Phase,
    pub message: String,
    /// The next step for the person: retry, fix a token, install OpenTofu …
    pub hint: String,
}

/// What Phase 0 produced (`tofu output -json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentResult {
    #[serde(rename = "controlPlaneIp", default)]
    pub control_plane_ip: String,
    #[serde(rename = "loadBalancerIp", default)]
    pub load_balancer_ip: String,
    #[serde(rename = "consoleUrl", default)]
    pub console_url: String,
    #[serde(rename = "gitopsRepoUrl", default)]
    pub gitops_repo_url: String,
    /// The GitOps commit the Sovereign's folder (`clusters/<fqdn>/`) was pushed at.
    #[serde(rename = "gitopsCommit", default)]
    pub gitops_commit: String,
    /// What Flux was handed to install: catalog ids with a Helm chart, dependencies included. The component
    /// watch waits for exactly these.
    #[serde(default)]
    pub components: Vec<String>,
    /// Each region's Kubernetes API address as OpenTofu created it (`regions[<key>].api_endpoint`), by
    /// region key. A region's kubeconfig is accepted only with exactly this `server`.
    #[serde(rename = "apiEndpoints", default)]
    pub api_endpoints: std::collections::BTreeMap<String, String>,
}

/// One cloud resource in a teardown report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudResource {
    /// `server`, `load_balancer`, `network`, `firewall`, `ssh_key`, `volume`, `primary_ip`, …
    pub kind: String,
    pub id: String,
    pub name: String,
    /// What it costs per month while it exists (EUR), when the cloud says.
    #[serde(rename = "monthlyCost", default)]
    pub monthly_cost: f64,
    /// Why it is still there, for the ones that are.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// What a wipe removed and anything still left.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeardownReport {
    pub removed: Vec<CloudResource>,
    pub remaining: Vec<CloudResource>,
    #[serde(rename = "finishedAt")]
    pub finished_at: Millis,
}

impl TeardownReport {
    /// What the remaining resources still cost per month.
    pub fn remaining_monthly_cost(&self) -> f64 {
        crate::cloud::round2(self.remaining.iter().map(|r| r.monthly_cost).sum())
    }
}

/// A deployment as the API and the deployment page show it. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    #[serde(rename = "orgId")]
    pub org_id: String,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    /// How pages name the creator (display name or e-mail); empty if the account is gone.
    #[serde(rename = "createdByName", default)]
    pub created_by_name: String,
    pub fqdn: String,
    pub status: DeploymentStatus,
    pub request: DeploymentRequest,
    #[serde(rename = "createdAt")]
    pub created_at: Millis,
    #[serde(rename = "updatedAt")]
    pub updated_at: Millis,
    /// When the current run started (create, retry or wipe).
    #[serde(rename = "startedAt", default)]
    pub started_at: Option<Millis>,
    /// When it last settled (ready, failed, wiped).
    #[serde(rename = "finishedAt", default)]
    pub finished_at: Option<Millis>,
    #[serde(default)]
    pub result: Option<DeploymentResult>,
    #[serde(default)]
    pub error: Option<DeploymentError>,
    #[serde(default)]
    pub teardown: Option<TeardownReport>,
    pub phases: Vec<PhaseProgress>,
    pub resources: Vec<ResourceProgress>,
    pub components: Vec<ComponentProgress>,
    /// Regions whose control plane has sent its kubeconfig back (downloadable).
    #[serde(rename = "kubeconfigRegions", default)]
    pub kubeconfig_regions: Vec<String>,
    /// Sequence number of the newest event.
    #[serde(rename = "lastSeq")]
    pub last_seq: i64,
    /// `/sovereign/api/v1/deployments/<id>/stream`.
    #[serde(rename = "streamUrl")]
    pub stream_url: String,
    /// What the caller may do to it (the policy's answer for their role in its organisation), so pages
    /// offer only those actions. The server checks again on every call.
    #[serde(default)]
    pub can: DeploymentPermissions,
}

/// The caller's permissions on one deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentPermissions {
    pub retry: bool,
    pub cancel: bool,
    pub delete: bool,
    pub wipe: bool,
    pub kubeconfig: bool,
}

impl DeploymentPermissions {
    /// The policy's answers for `p` on a deployment of organisation `org`.
    pub fn of(p: &crate::auth::Principal, org: &str) -> Self {
        use crate::auth::{Action, policy::allowed};
        let may = |a: Action| allowed(p, a, Some(org));
        Self {
            retry: may(Action::DeploymentRetry),
            cancel: may(Action::DeploymentCancel),
            delete: may(Action::DeploymentDelete),
            wipe: may(Action::DeploymentWipe),
            kubeconfig: may(Action::DeploymentKubeconfigDownload),
        }
    }
}

impl Deployment {
    pub fn phase(&self, phase: Phase) -> Option<&PhaseProgress> {
        self.phases.iter().find(|p| p.phase == phase)
    }
}

/// A row of the deployments list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentSummary {
    pub id: String,
    #[serde(rename = "orgId")]
    pub org_id: String,
    #[serde(rename = "orgName")]
    pub org_name: String,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    /// How pages name the creator (display name or e-mail); empty if the account is gone.
    #[serde(rename = "createdByName", default)]
    pub created_by_name: String,
    pub fqdn: String,
    pub status: DeploymentStatus,
    /// Cloud regions, e.g. `["fsn1", "hel1"]`.
    pub regions: Vec<String>,
    #[serde(rename = "componentCount")]
    pub component_count: usize,
    /// The launch's monthly estimate without VAT, in euro cents (0: not known, e.g. created before it was kept).
    #[serde(rename = "monthlyCents", default)]
    pub monthly_cents: i64,
    #[serde(rename = "createdAt")]
    pub created_at: Millis,
    #[serde(rename = "updatedAt")]
    pub updated_at: Millis,
}

/// One page of the deployments list. Pages are cut by keyset: `next`/`prev` are cursors (pass them as `after`
/// and `before`), so a page stays put while deployments are created or change status meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentList {
    pub items: Vec<DeploymentSummary>,
    /// Deployments matching the query across all pages.
    pub total: i64,
    /// The 1-based page number when paged by `page` (cursor pages say 0: their position is not counted).
    pub page: i64,
    #[serde(rename = "perPage")]
    pub per_page: i64,
    /// Cursor of the page after this one (`after=`), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Cursor of the page before this one (`before=`), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// How many deployments have one status (the deployments list's counts).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: DeploymentStatus,
    pub count: i64,
}

/// 201 of a create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub status: DeploymentStatus,
    #[serde(rename = "streamUrl")]
    pub stream_url: String,
}

/// Sort keys of the deployments list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    #[serde(rename = "created")]
    Created,
    #[serde(rename = "updated")]
    Updated,
    #[serde(rename = "fqdn")]
    Fqdn,
    #[serde(rename = "status")]
    Status,
    /// The first region's id (then the others).
    #[serde(rename = "region")]
    Region,
    /// The monthly estimate.
    #[serde(rename = "cost")]
    Cost,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::Created,
        SortKey::Updated,
        SortKey::Fqdn,
        SortKey::Status,
        SortKey::Region,
        SortKey::Cost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Fqdn => "fqdn",
            SortKey::Status => "status",
            SortKey::Region => "region",
            SortKey::Cost => "cost",
        }
    }

    /// Whether the key sorts numbers (its cursors carry an integer).
    pub fn numeric(self) -> bool {
        matches!(self, SortKey::Created | SortKey::Updated | SortKey::Cost)
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Created => "Created",
            SortKey::Updated => "Last change",
            SortKey::Fqdn => "Domain",
            SortKey::Status => "Status",
            SortKey::Region => "Region",
            SortKey::Cost => "Cost per month",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortDir {
    Asc,
    #[default]
    Desc,
}

/// A deployments list query (all optional; validated by [`ListQuery::parse`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(rename = "perPage", default)]
    pub per_page: Option<i64>,
    /// Only this organisation's deployments (among those the caller may see).
    #[serde(rename = "orgId", default)]
    pub org_id: Option<String>,
    /// Search: a part of the domain, of the organisation's name, or of the creator's e-mail or name
    /// (case-insensitive).
    #[serde(default)]
    pub q: Option<String>,
    /// Only deployments with a region of this id (e.g. `fsn1`).
    #[serde(default)]
    pub region: Option<String>,
    /// Only deployments with a region at this provider (e.g. `hetzner`).
    #[serde(default)]
    pub provider: Option<String>,
    /// The page after this cursor (a list answer's `next`).
    #[serde(default)]
    pub after: Option<String>,
    /// The page before this cursor (a list answer's `prev`).
    #[serde(default)]
    pub before: Option<String>,
}

/// The longest search text the list accepts.
pub const MAX_SEARCH_CHARS: usize = 100;

/// Where a keyset page starts: the sort value and id of the row next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub id: String,
    /// The sort key's value (decimal for numeric keys).
    pub value: String,
}

impl Cursor {
    /// `<id>.<value>`: ids are URL-safe base64 (no `.`), the value is everything after the first dot.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.id, self.value)
    }

    pub fn parse(s: &str, key: SortKey) -> Option<Cursor> {
        let (id, value) = s.split_once('.')?;
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok || value.len() > 300 || (key.numeric() && value.parse::<i64>().is_err()) {
            return None;
        }
        Some(Cursor {
            id: id.to_string(),
            value: value.to_string(),
        })
    }
}

/// Which side of its cursor a keyset page is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    After(Cursor),
    Before(Cursor),
}

/// A validated [`ListQuery`].
#[derive(Debug, Clone, PartialEq)]
pub struct ListFilter {
    pub statuses: Vec<DeploymentStatus>,
    /// Lower-cased, trimmed search text; `None`: no search.
    pub search: Option<String>,
    pub sort: SortKey,
    pub dir: SortDir,
    pub page: crate::paging::PageRequest,
    /// A keyset page (then `page.page` is ignored).
    pub cursor: Option<PageCursor>,
    /// A known region id.
    pub region: Option<String>,
    pub provider: Option<crate::cloud::Provider>,
}

impl ListQuery {
    /// `status` is a comma-separated list of statuses; unknown values are field errors.
    pub fn parse(&self) -> Result<ListFilter, crate::error::AppError> {
        use crate::error::{AppError, FieldError};
        let mut errors = Vec::new();
        let mut statuses = Vec::new();
        for s in self
            .status
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match DeploymentStatus::parse(s) {
                Some(st) => statuses.push(st),
                None => errors.push(FieldError::new(
                    "status",
                    format!(
                        "“{s}” is not a deployment status; use one of {}.",
                        DeploymentStatus::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )),
            }
        }
        let sort = match self.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => SortKey::default(),
            Some(s) => SortKey::parse(s).unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "sort",
                    format!(
                        "“{s}” is not a sort key; use one of {}.",
                        SortKey::ALL.map(SortKey::as_str).join(", ")
                    ),
                ));
                SortKey::default()
            }),
        };
        let dir = match self.dir.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => SortDir::default(),
            Some("asc") => SortDir::Asc,
            Some("desc") => SortDir::Desc,
            Some(s) => {
                errors.push(FieldError::new(
                    "dir",
                    format!("“{s}” is not a direction; use asc or desc."),
                ));
                SortDir::default()
            }
        };
        let search = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        if search
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS)
        {
            errors.push(FieldError::new(
                "q",
                format!("The search is longer than {MAX_SEARCH_CHARS} characters; shorten it."),
            ));
        }
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let region = given(&self.region);
        if let Some(r) = &region
            && !crate::cloud::Provider::ALL.iter().any(|p| p.region(r).is_some())
        {
            errors.push(FieldError::new(
                "region",
                "This is not a region id of any provider; pick one from the list (e.g. fsn1).",
            ));
        }
        let provider = given(&self.provider).and_then(|p| {
            let parsed = crate::cloud::Provider::parse(&p);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "provider",
                    format!(
                        "“{p}” is not a provider; use one of {}.",
                        crate::cloud::Provider::ALL.map(|p| p.id()).join(", ")
                    ),
                ));
            }
            parsed
        });
        let mut cursor = None;
        for (field, value) in [("after", &self.after), ("before", &self.before)] {
            let Some(v) = given(value) else { continue };
            if cursor.is_some() {
                errors.push(FieldError::new(
                    field,
                    "Give either `after` or `before`, not both.",
                ));
                continue;
            }
            match Cursor::parse(&v, sort) {
                Some(c) if field == "after" => cursor = Some(PageCursor::After(c)),
                Some(c) => cursor = Some(PageCursor::Before(c)),
                None => errors.push(FieldError::new(
                    field,
                    "This page cursor is not one of this list's (or was made for another sort); open the list's first page again.",
                )),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(ListFilter {
            statuses,
            search,
            sort,
            dir,
            page: crate::paging::PageRequest::new(self.page, self.per_page),
            cursor,
            region,
            provider,
        })
    }
}

/// One page of events, oldest first, after a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<DeploymentEvent>,
    /// Pass as `after` to get the next page; equal to the request's `after` when there is nothing new.
    #[serde(rename = "nextAfter")]
    pub next_after: i64,
    /// Whether events past this page exist right now.
    #[serde(rename = "hasMore")]
    pub has_more: bool,
    pub status: DeploymentStatus,
}

pub const MAX_EVENTS_PER_PAGE: i64 = 1_000;
pub const DEFAULT_EVENTS_PER_PAGE: i64 = 500;

/// Body of a retry: which failed phase to retry (default: the one that failed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    #[serde(default)]
    pub phase: Option<String>,
    /// A component id to ask Flux to reconcile again (component-level retry).
    #[serde(default)]
    pub component: Option<String>,
}

/// Body of a wipe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WipeRequest {
    /// The deployment's domain, typed by the person as confirmation.
    pub confirm: String,
    /// A replacement Hetzner token, if the stored one was revoked.
    #[serde(rename = "hetznerToken", default, skip_serializing_if = "Option::is_none")]
    pub hetzner_token: Option<super::request::Secret>,
}

/// The caller of an engine operation: the signed-in principal (whose roles the policy checks against the
/// deployment's organisation) and where the request came from (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub principal: crate::auth::Principal,
    #[serde(default)]
    pub meta: crate::auth::RequestMeta,
}

impl Actor {
    pub fn new(principal: crate::auth::Principal, meta: crate::auth::RequestMeta) -> Self {
        Actor { principal, meta }
    }

    pub fn user_id(&self) -> &str {
        &self.principal.user_id
    }

    /// How events and the audit log name the caller: the display name, or the e-mail.
    pub fn label(&self) -> &str {
        self.principal.label()
    }
}

/// The REST path of a deployment's live stream.
pub fn stream_url(id: &str) -> String {
    format!("{}/deployments/{id}/stream", crate::routes::API_V1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_validates_every_field() {
        let f = ListQuery {
            status: Some("failed, ready".into()),
            sort: Some("fqdn".into()),
            dir: Some("asc".into()),
            page: Some(2),
            per_page: Some(10),
            org_id: None,
            q: Some("  ACME ".into()),
            region: Some("hel1".into()),
            provider: Some("hetzner".into()),
            after: Some("abc.42".into()),
            before: None,
        }
        .parse()
        .expect("valid");
        assert_eq!(
            f.statuses,
            vec![DeploymentStatus::Failed, DeploymentStatus::Ready]
        );
        assert_eq!(
            (f.sort, f.dir, f.page.offset()),
            (SortKey::Fqdn, SortDir::Asc, 10)
        );
        assert_eq!(f.search.as_deref(), Some("acme"));
        assert_eq!(
            (f.region.as_deref(), f.provider),
            (Some("hel1"), Some(crate::cloud::Provider::Hetzner))
        );
        assert_eq!(
            f.cursor,
            Some(PageCursor::After(Cursor {
                id: "abc".into(),
                value: "42".into()
            }))
        );
        let e = ListQuery {
            status: Some("done".into()),
            sort: Some("size".into()),
            dir: Some("up".into()),
            q: Some("x".repeat(MAX_SEARCH_CHARS + 1)),
            region: Some("moon1".into()),
            provider: Some("ibm".into()),
            after: Some("abc.1".into()),
            before: Some("abc.2".into()),
            ..Default::default()
        }
        .parse()
        .expect_err("invalid");
        let fields: Vec<_> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["status", "sort", "dir", "q", "region", "provider", "before"]
        );
        // A cursor of a numeric sort must carry a number; the id part is URL-safe.
        let bad = |after: &str| {
            ListQuery {
                after: Some(after.into()),
                ..Default::default()
            }
            .parse()
            .is_err()
        };
        assert!(bad("abc.shop.example"), "created sorts numbers");
        assert!(bad("a b.1") && bad(".1") && bad("abc"));
        let text = ListQuery {
            sort: Some("fqdn".into()),
            before: Some("abc.shop.example.com".into()),
            ..Default::default()
        }
        .parse()
        .expect("a text cursor");
        assert_eq!(
            text.cursor,
            Some(PageCursor::Before(Cursor {
                id: "abc".into(),
                value: "shop.example.com".into()
            }))
        );
        assert!(e.fields()[0].message.contains("waiting-for-cluster"));
    }

    #[test]
    fn phases_have_stable_ids() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_string(&p).expect("json"), format!("\"{p}\""));
        }
        assert!(Phase::TofuApply.is_infrastructure());
        assert!(!Phase::Components.is_infrastructure());
    }

    #[test]
    fn durations_use_now_while_running() {
        let p = PhaseProgress {
            phase: Phase::TofuApply,
            state: PhaseState::Running,
            started_at: Some(1_000),
            finished_at: None,
            attempts: 1,
        };
        assert_eq!(p.duration(4_500), Some(3_500));
        let done = PhaseProgress {
            finished_at: Some(2_000),
            ..p
        };
        assert_eq!(done.duration(9_999), Some(1_000));
    }

    #[test]
    fn events_omit_absent_fields() {
        let e = DeploymentEvent {
            seq: 3,
            at: 0,
            kind: EventKind::Log,
            phase: Phase::TofuInit,
            level: Level::Info,
            message: "Initializing the backend...".into(),
            component: None,
            state: None,
            resource: None,
        };
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"seq": 3, "at": 0, "kind": "log", "phase": "tofu-init", "level": "info",
                "message": "Initializing the backend..."})
        );
    }
}
