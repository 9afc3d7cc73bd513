//! The flow of a deployment's run as jobs: one job per OpenTofu resource, one for the cluster hand-back and
//! one per HelmRelease, each with its executions and their log lines (spec §C.11). Shared by the server (the
//! jobs store and REST) and the browser (the flow canvas).

pub mod api;
pub mod cause;
pub mod critical;
pub mod graph;
pub mod job;
pub mod layout;
#[cfg(feature = "hydrate")]
mod live;
pub mod page;
pub mod pages;
pub mod routes;
pub mod table;

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// Job names: `tofu:<address>`, [`HANDBACK_JOB`], `install-<component>`.
pub const TOFU_PREFIX: &str = "tofu:";
pub const INSTALL_PREFIX: &str = "install-";
/// The job of the cluster's kubeconfig hand-back (the control plane reporting back).
pub const HANDBACK_JOB: &str = "cluster-handback";
/// Log lines per page (default and most).
pub const DEFAULT_LINES_PER_PAGE: i64 = 500;
pub const MAX_LINES_PER_PAGE: i64 = 2000;

/// What a job stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// An OpenTofu resource of the infrastructure phase.
    Resource,
    /// The cluster's kubeconfig hand-back.
    Handback,
    /// A component's HelmRelease.
    Release,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Resource => "resource",
            JobKind::Handback => "handback",
            JobKind::Release => "release",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "resource" => JobKind::Resource,
            "handback" => JobKind::Handback,
            "release" => JobKind::Release,
            _ => return None,
        })
    }

    /// The batch (phase group) of this kind of job.
    pub fn batch(self) -> &'static str {
        match self {
            JobKind::Resource => "infrastructure",
            JobKind::Handback => "cluster",
            JobKind::Release => "components",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => JobStatus::Pending,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }

    /// The job status of a component state (§C.11: installing and degraded are running).
    pub fn of_component(c: crate::deployments::ComponentPhase) -> Self {
        use crate::deployments::ComponentPhase as C;
        match c {
            C::Pending => JobStatus::Pending,
            C::Installing | C::Degraded => JobStatus::Running,
            C::Installed => JobStatus::Succeeded,
            C::Failed => JobStatus::Failed,
        }
    }

    /// The job status of an OpenTofu resource state.
    pub fn of_resource(r: crate::deployments::ResourceState) -> Self {
        use crate::deployments::ResourceState as R;
        match r {
            R::Planned => JobStatus::Pending,
            R::Applying => JobStatus::Running,
            R::Complete => JobStatus::Succeeded,
            R::Errored => JobStatus::Failed,
        }
    }
}

/// One job of a deployment's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `tofu:hcloud_network.main`, `cluster-handback`, `install-cert-manager`.
    #[serde(rename = "jobName")]
    pub job_name: String,
    pub kind: JobKind,
    /// The resource type, `cluster`, or the component id.
    #[serde(rename = "appId")]
    pub app_id: String,
    /// The phase group: `infrastructure`, `cluster`, `components`.
    #[serde(rename = "batchId")]
    pub batch_id: String,
    /// The region key; empty for the deployment as a whole (the primary region).
    #[serde(default)]
    pub region: String,
    /// Job names this one waits for (finish-to-start); never null.
    #[serde(rename = "dependsOn", default)]
    pub depends_on: Vec<String>,
    pub status: JobStatus,
    #[serde(rename = "startedAt", default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Millis>,
    #[serde(rename = "finishedAt", default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Millis>,
    /// Running: so far; finished: start to finish; pending: 0.
    #[serde(rename = "durationMs", default)]
    pub duration_ms: i64,
    #[serde(
        rename = "latestExecutionId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub latest_execution_id: Option<String>,
    /// What the run saw about why it waits or failed (the sentence: [`cause::explain`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<cause::Reason>,
    /// How long the same job took in the organisation's earlier runs on this console (the median of those
    /// that finished it); `None` without such history.
    #[serde(rename = "expectedMs", default, skip_serializing_if = "Option::is_none")]
    pub expected_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "running",
            ExecutionStatus::Succeeded => "succeeded",
            ExecutionStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => ExecutionStatus::Running,
            "succeeded" => ExecutionStatus::Succeeded,
            "failed" => ExecutionStatus::Failed,
            _ => return None,
        })
    }
}

/// One attempt at a job (a retry starts another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub id: String,
    #[serde(rename = "jobName")]
    pub job_name: String,
    pub status: ExecutionStatus,
    #[serde(rename = "startedAt")]
    pub started_at: Millis,
    #[serde(rename = "finishedAt", default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Millis>,
    #[serde(rename = "lineCount")]
    pub line_count: i64,
}

/// A job with its executions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: Job,
    pub executions: Vec<Execution>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// 1-based, stamped by the store.
    #[serde(rename = "lineNumber")]
    pub line_number: i64,
    pub at: Millis,
    pub level: crate::deployments::Level,
    pub message: String,
}

/// A page of an execution's log: lines after `fromLine`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    pub lines: Vec<LogLine>,
    /// Ask for lines after this one next.
    #[serde(rename = "nextFrom")]
    pub next_from: i64,
    #[serde(rename = "hasMore")]
    pub has_more: bool,
    pub execution: Execution,
}

/// A job with the last lines of its latest execution (the flow canvas's log pane).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLog {
    pub detail: JobDetail,
    /// `None` while the job has no execution yet.
    pub page: Option<LogPage>,
}

/// Lines the log pane shows (the latest ones).
pub const PANE_LINES: i64 = 200;

/// The `jobName` of a component's HelmRelease job.
pub fn install_job(component: &str) -> String {
    format!("{INSTALL_PREFIX}{component}")
}

/// The `jobName` of an OpenTofu resource's job.
pub fn tofu_job(address: &str) -> String {
    format!("{TOFU_PREFIX}{address}")
}

/// Sorted as §C.11 lists them: started jobs first (latest start first), then pending ones by name.
pub fn sort_jobs(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| match (a.started_at, b.started_at) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| a.job_name.cmp(&b.job_name)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.job_name.cmp(&b.job_name),
    });
}
