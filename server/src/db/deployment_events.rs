//! The `deployment_events` table and the writes that go with events.
//!
//! Sequence numbers: every append bumps `deployments.last_seq` by the number of events and inserts them
//! with the numbers it returned, in one transaction. The `UPDATE` takes the deployment row's write lock
//! (Postgres row lock; SQLite's single writer), so concurrent appenders — threads or replicas — are
//! serialised per deployment and commit in sequence order: a reader that has seen `seq = n` never later
//! finds a new event with `seq ≤ n`. On Postgres the same transaction sends `NOTIFY catalyst_events, '<id>'`,
//! delivered to every replica at commit.
//!
//! State tables that events describe (phases, resources, components) are written in the same transaction
//! as their event ([`Effect`]), so the page's tables and the event log never disagree.

use app::deployments::{
    ComponentProgress, DeploymentEvent, EventKind, Level, Phase, PhaseState, ResourceProgress,
};

use super::{Db, DbError, now_ms};
use crate::db::on_db;

/// Sends the Postgres wake-up inside a transaction (delivered at commit); nothing on SQLite.
macro_rules! notify {
    ($tx:ident, $id:expr) => {
        if <_ as $crate::db::deployment_events::IsPostgres>::is_postgres(&$tx) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind($crate::db::deployment_events::NOTIFY_CHANNEL)
                .bind($id)
                .execute(&mut *$tx)
                .await?;
        }
    };
}
pub(crate) use notify;

/// The one statement that appends an event: writes `$event` (a [`NewEvent`]) as number `$seq` of deployment
/// `$id` inside the transaction `$tx`. Every append (creation, status transitions, [`append`]) goes through it.
macro_rules! insert_event {
    ($tx:ident, $id:expr, $seq:expr, $event:expr) => {{
        let e: &$crate::db::deployment_events::NewEvent = $event;
        sqlx::query(
            "INSERT INTO deployment_events (deployment_id, seq, at, kind, phase, level, message, component, state, resource)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($id)
        .bind($seq)
        .bind(e.at)
        .bind(e.kind.as_str())
        .bind(e.phase.as_str())
        .bind(e.level.as_str())
        .bind(&e.message)
        .bind(&e.component)
        .bind(&e.state)
        .bind(e.resource.as_ref().and_then(|r| serde_json::to_string(r).ok()))
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use insert_event;

/// Writes one [`Effect`] inside a transaction.
macro_rules! apply_effect {
    ($tx:ident, $id:expr, $effect:expr, $now:expr) => {
        match $effect {
            $crate::db::deployment_events::Effect::Phase { phase, state } => {
                use app::deployments::PhaseState as S;
                let running = *state == S::Running;
                let finished = matches!(state, S::Succeeded | S::Failed | S::Skipped);
                sqlx::query(
                    "INSERT INTO deployment_phases (deployment_id, phase, state, started_at, finished_at, attempts)
                     VALUES ($1, $2, $3, CASE WHEN $4 THEN $6 ELSE NULL END, CASE WHEN $5 THEN $6 ELSE NULL END,
                             CASE WHEN $4 THEN 1 ELSE 0 END)
                     ON CONFLICT (deployment_id, phase) DO UPDATE SET
                       state = excluded.state,
                       started_at = CASE WHEN $4 THEN $6 ELSE deployment_phases.started_at END,
                       finished_at = CASE WHEN $5 THEN $6 WHEN $4 THEN NULL ELSE deployment_phases.finished_at END,
                       attempts = deployment_phases.attempts + CASE WHEN $4 THEN 1 ELSE 0 END",
                )
                .bind($id)
                .bind(phase.as_str())
                .bind(state.as_str())
                .bind(running)
                .bind(finished)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            }
            $crate::db::deployment_events::Effect::ResetPhases(phases) => {
                for phase in phases {
                    sqlx::query(
                        "UPDATE deployment_phases SET state = 'pending', started_at = NULL, finished_at = NULL
                         WHERE deployment_id = $1 AND phase = $2",
                    )
                    .bind($id)
                    .bind(phase.as_str())
                    .execute(&mut *$tx)
                    .await?;
                }
            }
            $crate::db::deployment_events::Effect::Resource(r) => {
                sqlx::query(
                    "INSERT INTO deployment_resources (deployment_id, address, resource_type, action, state, elapsed_secs, cloud_id, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (deployment_id, address) DO UPDATE SET
                       resource_type = excluded.resource_type, action = excluded.action, state = excluded.state,
                       elapsed_secs = excluded.elapsed_secs,
                       cloud_id = COALESCE(excluded.cloud_id, deployment_resources.cloud_id),
                       updated_at = excluded.updated_at",
                )
                .bind($id)
                .bind(&r.address)
                .bind(&r.resource_type)
                .bind(r.action.as_str())
                .bind(r.state.as_str())
                .bind(r.elapsed_secs)
                .bind(&r.cloud_id)
                .bind(r.updated_at)
                .execute(&mut *$tx)
                .await?;
            }
            $crate::db::deployment_events::Effect::ClearResources => {
                sqlx::query("DELETE FROM deployment_resources WHERE deployment_id = $1")
                    .bind($id)
                    .execute(&mut *$tx)
                    .await?;
            }
            $crate::db::deployment_events::Effect::Component(c) => {
                sqlx::query(
                    "INSERT INTO deployment_components (deployment_id, component, state, message, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (deployment_id, component) DO UPDATE SET
                       state = excluded.state, message = excluded.message, updated_at = excluded.updated_at",
                )
                .bind($id)
                .bind(&c.id)
                .bind(c.state.as_str())
                .bind(&c.message)
                .bind(c.updated_at)
                .execute(&mut *$tx)
                .await?;
            }
        }
    };
}
pub(crate) use apply_effect;

/// Postgres channel of event wake-ups; the payload is the deployment id.
pub const NOTIFY_CHANNEL: &str = "catalyst_events";

/// An event to append (the database assigns `seq`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub at: i64,
    pub kind: EventKind,
    pub phase: Phase,
    pub level: Level,
    pub message: String,
    pub component: Option<String>,
    pub state: Option<String>,
    pub resource: Option<ResourceProgress>,
}

impl NewEvent {
    pub fn log(phase: Phase, level: Level, message: impl Into<String>) -> Self {
        Self {
            at: now_ms(),
            kind: EventKind::Log,
            phase,
            level,
            message: message.into(),
            component: None,
            state: None,
            resource: None,
        }
    }

    pub fn info(phase: Phase, message: impl Into<String>) -> Self {
        Self::log(phase, Level::Info, message)
    }

    pub fn with_kind(mut self, kind: EventKind, state: Option<&str>) -> Self {
        self.kind = kind;
        self.state = state.map(str::to_string);
        self
    }
}

/// A state-table write that accompanies an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// A phase starts (`Running`, counts an attempt), finishes, fails or is skipped.
    Phase {
        phase: Phase,
        state: PhaseState,
    },
    /// Reset the given phases to `pending` (a retry re-runs them).
    ResetPhases(Vec<Phase>),
    Resource(ResourceProgress),
    /// Forget the resource progress of an earlier run (a retry plans again).
    ClearResources,
    Component(ComponentProgress),
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub phase: String,
    pub level: String,
    pub message: String,
    pub component: Option<String>,
    pub state: Option<String>,
    pub resource: Option<String>,
}

impl EventRow {
    pub fn into_event(self) -> DeploymentEvent {
        DeploymentEvent {
            seq: self.seq,
            at: self.at,
            kind: EventKind::parse(&self.kind).unwrap_or(EventKind::Log),
            phase: Phase::parse(&self.phase).unwrap_or(Phase::Gitops),
            level: Level::parse(&self.level).unwrap_or(Level::Info),
            message: self.message,
            component: self.component,
            state: self.state,
            resource: self.resource.and_then(|r| serde_json::from_str(&r).ok()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("the deployment does not exist (any more)")]
    NoDeployment,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        AppendError::Db(DbError::Query(e))
    }
}

/// Applies `effects` and appends `events` in one transaction; returns the seq of the last event
/// (the deployment's `last_seq`).
pub async fn append(
    db: &Db,
    deployment_id: &str,
    events: &[NewEvent],
    effects: &[Effect],
) -> Result<i64, AppendError> {
    let n = events.len() as i64;
    let now = now_ms();
    let last: i64 = on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // Takes the row lock: appenders of one deployment serialise here.
        let last: Option<i64> = sqlx::query_scalar(
            "UPDATE deployments SET last_seq = last_seq + $1, updated_at = $2 WHERE id = $3 RETURNING last_seq",
        )
        .bind(n)
        .bind(now)
        .bind(deployment_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) = last else {
            return Err(AppendError::NoDeployment);
        };
        for effect in effects {
            apply_effect!(tx, deployment_id, effect, now);
        }
        let first = last - n + 1;
        for (i, e) in events.iter().enumerate() {
            insert_event!(tx, deployment_id, first + i as i64, e);
        }
        notify!(tx, deployment_id);
        tx.commit().await?;
        last
    });
    Ok(last)
}

/// Lets the macros tell the backends apart inside `on_db!` arms.
pub trait IsPostgres {
    fn is_postgres(&self) -> bool;
}

impl IsPostgres for sqlx::Transaction<'_, sqlx::Postgres> {
    fn is_postgres(&self) -> bool {
        true
    }
}

impl IsPostgres for sqlx::Transaction<'_, sqlx::Sqlite> {
    fn is_postgres(&self) -> bool {
        false
    }
}

/// Events with `seq > after`, oldest first, at most `limit`.
pub async fn list_after(
    db: &Db,
    deployment_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<DeploymentEvent>, DbError> {
    let rows: Vec<EventRow> = on_db!(db, pool => {
        sqlx::query_as::<_, EventRow>(
            "SELECT seq, at, kind, phase, level, message, component, state, resource FROM deployment_events
             WHERE deployment_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(deployment_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(EventRow::into_event).collect())
}

/// Number of events of a deployment.
pub async fn count(db: &Db, deployment_id: &str) -> Result<i64, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM deployment_events WHERE deployment_id = $1")
            .bind(deployment_id)
            .fetch_one(pool)
            .await?
    }))
}

pub fn phase_event(phase: Phase, state: PhaseState, message: impl Into<String>) -> NewEvent {
    let level = match state {
        PhaseState::Failed => Level::Error,
        _ => Level::Info,
    };
    NewEvent::log(phase, level, message).with_kind(EventKind::Phase, Some(state.as_str()))
}
