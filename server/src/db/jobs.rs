//! The `jobs`, `job_executions` and `job_log_lines` tables: a run's flow as jobs (spec §C.11).
//!
//! Every write goes through [`record`], which merges in one transaction per call:
//! - `started_at` is the first start and is never cleared; `finished_at` only moves forward and never
//!   before the start; `latest_execution_id` changes only when a new execution starts;
//! - `depends_on` is replaced only by a write that brings dependencies (a write without any keeps them);
//! - a status change away from `pending` with no running execution starts one; a terminal status finishes
//!   the running execution; a repeated status is not an attempt;
//! - a line goes to the running execution (numbered by the store, 1-based); with none running it is
//!   dropped — except the line of the write that finished one;
//! - `reason` (why the job waits or failed, [`app::flow::cause::Reason`]) is set by a write that brings one
//!   (`Some(None)` clears it); a write without one keeps it while the status stays and forgets it when the
//!   status changes (the old reason is about the old state).

use app::deployments::Level;
use app::flow::cause::Reason;
use app::flow::{Execution, ExecutionStatus, Job, JobDetail, JobKind, JobStatus, LogLine, LogPage};

use super::{Db, DbError, now_ms};
use crate::db::on_db;

/// One change to a job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobWrite {
    pub job_name: String,
    pub kind: JobKind,
    pub app_id: String,
    pub region: String,
    /// Empty: keep what the job has.
    pub depends_on: Vec<String>,
    /// `None`: only the job's description and dependencies (a new job is pending).
    pub status: Option<JobStatus>,
    pub at: i64,
    pub line: Option<(Level, String)>,
    /// `None`: keep the reason while the status stays, forget it when it changes; `Some(r)`: set `r`.
    pub reason: Option<Option<Reason>>,
}

impl JobWrite {
    pub fn new(job_name: impl Into<String>, kind: JobKind, app_id: impl Into<String>) -> Self {
        Self {
            job_name: job_name.into(),
            kind,
            app_id: app_id.into(),
            region: String::new(),
            depends_on: Vec::new(),
            status: None,
            at: now_ms(),
            line: None,
            reason: None,
        }
    }

    pub fn status(mut self, status: JobStatus) -> Self {
        self.status = Some(status);
        self
    }

    pub fn line(mut self, level: Level, message: impl Into<String>) -> Self {
        self.line = Some((level, message.into()));
        self
    }

    pub fn depends_on(mut self, deps: impl IntoIterator<Item = String>) -> Self {
        self.depends_on = deps.into_iter().collect();
        self
    }

    /// Sets (or, with `None`, clears) why the job waits or failed.
    pub fn reason(mut self, reason: Option<Reason>) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn at(mut self, at: i64) -> Self {
        self.at = at;
        self
    }
}

type JobTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
);

const JOB_COLUMNS: &str = "job_name, kind, app_id, batch_id, region, depends_on, status, started_at, finished_at, latest_execution_id, reason";

/// A stored reason ('' or one this console does not know: none).
fn reason_of(text: &str) -> Option<Reason> {
    if text.is_empty() {
        None
    } else {
        serde_json::from_str(text).ok()
    }
}

fn reason_text(reason: &Option<Reason>) -> String {
    reason
        .as_ref()
        .and_then(|r| serde_json::to_string(r).ok())
        .unwrap_or_default()
}

fn job_of(t: JobTuple, now: i64) -> Job {
    let (
        job_name,
        kind,
        app_id,
        batch_id,
        region,
        depends_on,
        status,
        started_at,
        finished_at,
        latest,
        reason,
    ) = t;
    let status = JobStatus::parse(&status).unwrap_or(JobStatus::Pending);
    let duration_ms = match (started_at, finished_at) {
        (Some(s), Some(f)) if status.is_terminal() => (f - s).max(0),
        (Some(s), _) if status != JobStatus::Pending => (now - s).max(0),
        _ => 0,
    };
    Job {
        job_name,
        kind: JobKind::parse(&kind).unwrap_or(JobKind::Release),
        app_id,
        batch_id,
        region,
        depends_on: serde_json::from_str(&depends_on).unwrap_or_default(),
        status,
        started_at,
        finished_at,
        duration_ms,
        latest_execution_id: latest,
        reason: reason_of(&reason),
        expected_ms: None,
    }
}

type ExecTuple = (String, String, String, i64, Option<i64>, i64);
/// status, depends_on, started_at, finished_at, latest_execution_id, reason.
type MergeTuple = (String, String, Option<i64>, Option<i64>, Option<String>, String);
/// line_number, at, level, message.
type LineTuple = (i64, i64, String, String);

fn execution_of(t: ExecTuple) -> Execution {
    let (id, job_name, status, started_at, finished_at, line_count) = t;
    Execution {
        id,
        job_name,
        status: ExecutionStatus::parse(&status).unwrap_or(ExecutionStatus::Running),
        started_at,
        finished_at,
        line_count,
    }
}

fn canonical_deps(deps: &[String]) -> Vec<String> {
    let mut deps: Vec<String> = deps.iter().filter(|d| !d.is_empty()).cloned().collect();
    deps.sort();
    deps.dedup();
    deps
}

/// Applies the writes in order, in one transaction. Writes for a deployment that no longer exists fail
/// (foreign key).
pub async fn record(db: &Db, deployment_id: &str, writes: &[JobWrite]) -> Result<(), DbError> {
    if writes.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // Write first, read after: this takes the deployment's row lock (Postgres) and the write lock (SQLite)
        // before any read, so recorders of one deployment serialise here. A SQLite transaction that reads and
        // then writes fails with SQLITE_BUSY_SNAPSHOT (517, "database is locked") whenever another writer
        // committed in between, and the busy timeout does not retry that.
        sqlx::query("UPDATE deployments SET updated_at = updated_at WHERE id = $1")
            .bind(deployment_id)
            .execute(&mut *tx)
            .await?;
        for w in writes {
            let old: Option<MergeTuple> = sqlx::query_as(
                "SELECT status, depends_on, started_at, finished_at, latest_execution_id, reason FROM jobs
                 WHERE deployment_id = $1 AND job_name = $2",
            )
            .bind(deployment_id)
            .bind(&w.job_name)
            .fetch_optional(&mut *tx)
            .await?;
            let (old_status, old_deps, mut started, mut finished, mut latest, old_reason) = match old {
                Some((s, d, st, f, l, r)) => (JobStatus::parse(&s), d, st, f, l, r),
                None => (None, "[]".to_string(), None, None, None, String::new()),
            };
            // The running execution, if the latest one still runs.
            let mut active: Option<(String, i64, i64)> = match &latest {
                Some(id) => sqlx::query_as::<_, (String, i64, i64)>(
                    "SELECT id, started_at, line_count FROM job_executions WHERE id = $1 AND status = 'running'",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?,
                None => None,
            };
            let status = w.status.or(old_status).unwrap_or(JobStatus::Pending);
            let changed = old_status != Some(status);
            let reason = match &w.reason {
                Some(r) => reason_text(r),
                None if changed => String::new(),
                None => old_reason,
            };
            if changed && status != JobStatus::Pending && active.is_none() {
                let id = crate::crypto::random_id(32);
                sqlx::query(
                    "INSERT INTO job_executions (id, deployment_id, job_name, status, started_at, line_count)
                     VALUES ($1, $2, $3, 'running', $4, 0)",
                )
                .bind(&id)
                .bind(deployment_id)
                .bind(&w.job_name)
                .bind(w.at)
                .execute(&mut *tx)
                .await?;
                started = Some(started.unwrap_or(w.at));
                latest = Some(id.clone());
                active = Some((id, w.at, 0));
            }
            if let (Some((level, message)), Some((exec, _, count))) = (&w.line, active.as_mut()) {
                *count += 1;
                sqlx::query(
                    "INSERT INTO job_log_lines (execution_id, line_number, at, level, message) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&*exec)
                .bind(*count)
                .bind(w.at)
                .bind(level.as_str())
                .bind(message)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE job_executions SET line_count = $1 WHERE id = $2")
                    .bind(*count)
                    .bind(&*exec)
                    .execute(&mut *tx)
                    .await?;
            }
            if status.is_terminal() && let Some((exec, exec_started, _)) = &active {
                let at = w.at.max(*exec_started);
                sqlx::query("UPDATE job_executions SET status = $1, finished_at = $2 WHERE id = $3")
                    .bind(status.as_str())
                    .bind(at)
                    .bind(exec)
                    .execute(&mut *tx)
                    .await?;
                let at = at.max(started.unwrap_or(at));
                finished = Some(finished.map_or(at, |f| f.max(at)));
            }
            let deps = if w.depends_on.is_empty() {
                old_deps
            } else {
                serde_json::to_string(&canonical_deps(&w.depends_on)).unwrap_or_else(|_| "[]".into())
            };
            sqlx::query(
                "INSERT INTO jobs (deployment_id, job_name, kind, app_id, batch_id, region, depends_on, status,
                                   started_at, finished_at, latest_execution_id, updated_at, reason)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (deployment_id, job_name) DO UPDATE SET
                   kind = excluded.kind, app_id = excluded.app_id, batch_id = excluded.batch_id,
                   region = excluded.region, depends_on = excluded.depends_on, status = excluded.status,
                   started_at = excluded.started_at, finished_at = excluded.finished_at,
                   latest_execution_id = excluded.latest_execution_id, updated_at = excluded.updated_at,
                   reason = excluded.reason",
            )
            .bind(deployment_id)
            .bind(&w.job_name)
            .bind(w.kind.as_str())
            .bind(&w.app_id)
            .bind(w.kind.batch())
            .bind(&w.region)
            .bind(&deps)
            .bind(status.as_str())
            .bind(started)
            .bind(finished)
            .bind(&latest)
            .bind(now)
            .bind(&reason)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// The deployment's jobs, sorted as [`app::flow::sort_jobs`] does, each with its expected duration when the
/// organisation's earlier runs have one ([`typical_durations`]).
pub async fn list(db: &Db, deployment_id: &str) -> Result<Vec<Job>, DbError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE deployment_id = $1");
    let rows: Vec<JobTuple> = on_db!(db, pool => {
        sqlx::query_as(&sql).bind(deployment_id).fetch_all(pool).await?
    });
    let now = now_ms();
    let typical = typical_durations(db, deployment_id).await?;
    let mut jobs: Vec<Job> = rows.into_iter().map(|t| job_of(t, now)).collect();
    for j in &mut jobs {
        j.expected_ms = typical.get(&j.job_name).copied();
    }
    app::flow::sort_jobs(&mut jobs);
    Ok(jobs)
}

/// Earlier runs an expected duration is taken from: the organisation's latest ones.
pub const HISTORY_RUNS: i64 = 20;

/// The median duration of each job name over the [`HISTORY_RUNS`] runs of the same organisation created
/// before this one, counting the runs that finished the job successfully.
pub async fn typical_durations(
    db: &Db,
    deployment_id: &str,
) -> Result<std::collections::BTreeMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT j.job_name, j.finished_at - j.started_at FROM jobs j
             WHERE j.status = 'succeeded' AND j.started_at IS NOT NULL AND j.finished_at IS NOT NULL
               AND j.deployment_id IN (
                 SELECT o.id FROM deployments o JOIN deployments d ON d.org_id = o.org_id
                 WHERE d.id = $1 AND o.id <> d.id AND o.created_at < d.created_at
                 ORDER BY o.created_at DESC LIMIT $2)",
        )
        .bind(deployment_id)
        .bind(HISTORY_RUNS)
        .fetch_all(pool)
        .await?
    });
    let mut by_name: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for (name, ms) in rows {
        by_name.entry(name).or_default().push(ms.max(0));
    }
    Ok(by_name
        .into_iter()
        .map(|(name, mut v)| {
            v.sort_unstable();
            let mid = v.len() / 2;
            let median = if v.len() % 2 == 0 {
                (v[mid - 1] + v[mid]) / 2
            } else {
                v[mid]
            };
            (name, median)
        })
        .collect())
}

/// One job with its executions, newest first.
pub async fn get(db: &Db, deployment_id: &str, job_name: &str) -> Result<Option<JobDetail>, DbError> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE deployment_id = $1 AND job_name = $2");
    let (row, executions): (Option<JobTuple>, Vec<ExecTuple>) = on_db!(db, pool => {
        let row = sqlx::query_as(&sql).bind(deployment_id).bind(job_name).fetch_optional(pool).await?;
        let executions = sqlx::query_as(
            "SELECT id, job_name, status, started_at, finished_at, line_count FROM job_executions
             WHERE deployment_id = $1 AND job_name = $2 ORDER BY started_at DESC, id",
        )
        .bind(deployment_id)
        .bind(job_name)
        .fetch_all(pool)
        .await?;
        (row, executions)
    });
    Ok(row.map(|t| JobDetail {
        job: job_of(t, now_ms()),
        executions: executions.into_iter().map(execution_of).collect(),
    }))
}

/// Lines of one of the deployment's executions after line `from` (at most `limit`); `None` when the
/// deployment has no such execution.
pub async fn lines(
    db: &Db,
    deployment_id: &str,
    execution_id: &str,
    from: i64,
    limit: i64,
) -> Result<Option<LogPage>, DbError> {
    let (exec, rows): (Option<ExecTuple>, Vec<LineTuple>) = on_db!(db, pool => {
        let exec = sqlx::query_as(
            "SELECT id, job_name, status, started_at, finished_at, line_count FROM job_executions
             WHERE id = $1 AND deployment_id = $2",
        )
        .bind(execution_id)
        .bind(deployment_id)
        .fetch_optional(pool)
        .await?;
        let rows = sqlx::query_as(
            "SELECT line_number, at, level, message FROM job_log_lines
             WHERE execution_id = $1 AND line_number > $2 ORDER BY line_number LIMIT $3",
        )
        .bind(execution_id)
        .bind(from)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        (exec, rows)
    });
    let Some(exec) = exec else { return Ok(None) };
    let execution = execution_of(exec);
    let lines: Vec<LogLine> = rows
        .into_iter()
        .map(|(line_number, at, level, message)| LogLine {
            line_number,
            at,
            level: Level::parse(&level).unwrap_or(Level::Info),
            message,
        })
        .collect();
    let next_from = lines.last().map_or(from, |l| l.line_number);
    Ok(Some(LogPage {
        has_more: next_from < execution.line_count,
        next_from,
        lines,
        execution,
    }))
}
