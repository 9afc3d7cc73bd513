//! The `deployments` table and its per-deployment state tables (phases, resources, components).
//!
//! Status is written only by [`transition`], whose `UPDATE … WHERE status IN (<allowed sources>)` checks the
//! state machine in the same statement that writes it: two replicas racing on one deployment cannot both
//! win, and an illegal transition is an error naming the current status.

use app::deployments::{
    ComponentPhase, ComponentProgress, DeploymentStatus, EventKind, IllegalTransition, Level, ListFilter,
    PageCursor, Phase, PhaseProgress, PhaseState, ResourceAction, ResourceProgress, ResourceState, SortDir,
    SortKey,
};

use super::deployment_events::{AppendError, Effect, NewEvent, apply_effect, insert_event, notify};
use super::{Db, DbError, now_ms};
use crate::db::on_db;

const COLUMNS: &str = "id, org_id, created_by, fqdn, status, request, result, error, teardown, \
    kubeconfig_bearer_sha256, last_seq, cancel_requested_at, cancel_requested_by, created_at, updated_at, \
    started_at, finished_at, deleted_at, regions, providers, monthly_cents";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentRow {
    pub id: String,
    pub org_id: String,
    pub created_by: String,
    pub fqdn: String,
    pub status: String,
    pub request: String,
    pub result: Option<String>,
    pub error: Option<String>,
    pub teardown: Option<String>,
    pub kubeconfig_bearer_sha256: String,
    pub last_seq: i64,
    pub cancel_requested_at: Option<i64>,
    pub cancel_requested_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Set when its organisation deleted the record before the infrastructure was wiped: hidden, but it
    /// still holds the domain.
    pub deleted_at: Option<i64>,
    /// `,fsn1,hel1,`: the request's regions in order (what the list filters and sorts by).
    pub regions: String,
    /// `,hetzner,`: their providers, each once.
    pub providers: String,
    /// The launch's monthly estimate without VAT (0: not known).
    pub monthly_cents: i64,
}

/// `items` as the `regions`/`providers` columns store them: `,a,b,` (empty for none).
pub fn comma_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.into_iter().collect();
    if items.is_empty() {
        String::new()
    } else {
        format!(",{},", items.join(","))
    }
}

impl DeploymentRow {
    pub fn status(&self) -> DeploymentStatus {
        // Only `transition` writes the column, with values of the enum.
        DeploymentStatus::parse(&self.status).unwrap_or(DeploymentStatus::Failed)
    }
}

/// A deployment to insert (status `pending`).
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub id: String,
    pub org_id: String,
    pub created_by: String,
    pub fqdn: String,
    /// JSON of the `DeploymentRequest`.
    pub request: String,
    pub bearer_sha256: String,
    /// Encrypted secrets to store with it: (name, nonce, ciphertext).
    pub secrets: Vec<(String, Vec<u8>, Vec<u8>)>,
    pub first_event: NewEvent,
}

/// Per-organisation limits on creating deployments (`--max-deployments-in-flight`,
/// `--max-deployments-per-day`); 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateLimits {
    /// Deployments of one organisation provisioning, installing or wiping at once.
    pub in_flight: u32,
    /// Deployments one organisation may create in any 24 hours.
    pub per_day: u32,
}

impl CreateLimits {
    /// No limits.
    pub const OFF: CreateLimits = CreateLimits {
        in_flight: 0,
        per_day: 0,
    };
}

impl Default for CreateLimits {
    /// The defaults of `--max-deployments-in-flight` and `--max-deployments-per-day`.
    fn default() -> Self {
        CreateLimits {
            in_flight: 3,
            per_day: 10,
        }
    }
}

/// The window of the per-day limit.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Which limit a creation would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReached {
    /// `max` deployments of the organisation are in flight already.
    InFlight { max: u32 },
    /// `max` deployments were created in the last 24 hours; the oldest of them leaves the window in
    /// `retry_after_ms`.
    PerDay { max: u32, retry_after_ms: i64 },
}

/// What counts as in flight for the limit (the statuses whose runs do work).
pub fn in_flight_statuses() -> String {
    DeploymentStatus::ALL
        .iter()
        .filter(|s| s.in_flight())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("another deployment of {0} exists")]
    FqdnTaken(String),
    #[error("the organisation's limit is reached: {0:?}")]
    Limit(LimitReached),
    /// The launch's charge was refused in the insert's transaction: the organisation's credit does not cover
    /// it (a spend raced the creation's own check). Nothing of the deployment is stored.
    #[error("the organisation's credit does not cover the launch")]
    NotCovered,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for InsertError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => InsertError::FqdnTaken(String::new()),
            _ => InsertError::Db(DbError::Query(e)),
        }
    }
}

/// Inserts the deployment, its pending phases, its secrets and its first event, atomically (no limits:
/// [`insert_limited`] is what creating a deployment uses).
pub async fn insert(db: &Db, d: &NewDeployment) -> Result<(), InsertError> {
    insert_limited(db, d, CreateLimits::OFF).await
}

/// How many deployments of `org_id` are in flight, and how many it created in the last 24 hours with the
/// time the oldest of those was created (a cheap early answer; [`insert_limited`] decides under a lock).
pub async fn usage(db: &Db, org_id: &str) -> Result<(i64, i64, Option<i64>), DbError> {
    let since = now_ms() - DAY_MS;
    let statuses = in_flight_statuses();
    Ok(on_db!(db, pool => {
        let in_flight: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM deployments WHERE org_id = $1 AND status IN ({statuses})"
        ))
        .bind(org_id)
        .fetch_one(pool)
        .await?;
        let (today, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM deployment_creations WHERE org_id = $1 AND at > $2",
        )
        .bind(org_id)
        .bind(since)
        .fetch_one(pool)
        .await?;
        (in_flight, today, oldest)
    }))
}

/// Which limit `usage` (in flight, created today, the oldest of those) passes, if any.
pub fn limit_reached(
    limits: CreateLimits,
    in_flight: i64,
    today: i64,
    oldest: Option<i64>,
    now: i64,
) -> Option<LimitReached> {
    if limits.in_flight > 0 && in_flight >= i64::from(limits.in_flight) {
        return Some(LimitReached::InFlight {
            max: limits.in_flight,
        });
    }
    if limits.per_day > 0 && today >= i64::from(limits.per_day) {
        return Some(LimitReached::PerDay {
            max: limits.per_day,
            retry_after_ms: oldest.map(|at| at + DAY_MS - now).unwrap_or(DAY_MS).max(1000),
        });
    }
    None
}

/// [`insert`] within the organisation's limits, decided in the same transaction: on Postgres the
/// organisation's creations are serialised by a transaction-scoped advisory lock, on SQLite by the write
/// lock the first statement takes; so two concurrent creations cannot both take the last slot.
pub async fn insert_limited(db: &Db, d: &NewDeployment, limits: CreateLimits) -> Result<(), InsertError> {
    insert_charged(db, d, limits, None).await
}

/// [`insert_limited`], and in the same transaction the launch's charge to the organisation's credit
/// (`billing::ledger::post`: the balance's conditional update, the order, the ledger line). A charge the
/// balance does not cover is `NotCovered`, and then nothing of the deployment is stored either; a stored
/// deployment always has its charge. What `deployments::create` uses.
pub async fn insert_charged(
    db: &Db,
    d: &NewDeployment,
    limits: CreateLimits,
    charge: Option<&crate::billing::ledger::Posting>,
) -> Result<(), InsertError> {
    let monthly = charge.map_or(0, |c| c.order.amount_cents);
    insert_priced(db, d, limits, charge, monthly).await
}

/// The `regions` and `providers` columns of a request (JSON `DeploymentRequest`; empty if it is not one).
fn list_columns(request: &str) -> (String, String) {
    let Ok(req) = serde_json::from_str::<app::deployments::DeploymentRequest>(request) else {
        return (String::new(), String::new());
    };
    let regions = comma_list(req.regions.iter().map(|r| r.cloud_region.as_str()));
    let mut providers: Vec<&str> = Vec::new();
    for r in &req.regions {
        if !providers.contains(&r.provider.id()) {
            providers.push(r.provider.id());
        }
    }
    (regions, comma_list(providers))
}

/// [`insert_charged`] keeping `monthly_cents` (the launch's monthly estimate without VAT, charged or not) for
/// the list's cost column.
pub async fn insert_priced(
    db: &Db,
    d: &NewDeployment,
    limits: CreateLimits,
    charge: Option<&crate::billing::ledger::Posting>,
    monthly_cents: i64,
) -> Result<(), InsertError> {
    let now = now_ms();
    let (regions, providers) = list_columns(&d.request);
    let postgres = matches!(db, Db::Postgres(_));
    let statuses = in_flight_statuses();
    let result: Result<(), InsertError> = on_db!(db, pool => {
        async {
            let mut tx = pool.begin().await?;
            if postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('deployment_creations:' || $1))")
                    .bind(&d.org_id)
                    .execute(&mut *tx)
                    .await?;
            }
            // The write first: on SQLite it takes the database's write lock before anything is counted.
            sqlx::query("DELETE FROM deployment_creations WHERE org_id = $1 AND at < $2")
                .bind(&d.org_id)
                .bind(now - 2 * DAY_MS)
                .execute(&mut *tx)
                .await?;
            let in_flight: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM deployments WHERE org_id = $1 AND status IN ({statuses})"
            ))
            .bind(&d.org_id)
            .fetch_one(&mut *tx)
            .await?;
            let (today, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM deployment_creations WHERE org_id = $1 AND at > $2",
            )
            .bind(&d.org_id)
            .bind(now - DAY_MS)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(reached) = limit_reached(limits, in_flight, today, oldest, now) {
                return Err(InsertError::Limit(reached));
            }
            sqlx::query("INSERT INTO deployment_creations (org_id, deployment_id, at) VALUES ($1, $2, $3)")
                .bind(&d.org_id)
                .bind(&d.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // The launch's charge, in this transaction: a refused charge stores nothing.
            if let Some(charge) = charge
                && crate::billing::ledger::post(&mut tx, charge).await?.is_none()
            {
                return Err(InsertError::NotCovered);
            }
            sqlx::query(
                "INSERT INTO deployments (id, org_id, created_by, fqdn, status, request, kubeconfig_bearer_sha256,
                   last_seq, created_at, updated_at, started_at, regions, providers, monthly_cents)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $6, 1, $7, $7, $7, $8, $9, $10)",
            )
            .bind(&d.id)
            .bind(&d.org_id)
            .bind(&d.created_by)
            .bind(&d.fqdn)
            .bind(&d.request)
            .bind(&d.bearer_sha256)
            .bind(now)
            .bind(&regions)
            .bind(&providers)
            .bind(monthly_cents)
            .execute(&mut *tx)
            .await?;
            for phase in Phase::PROVISION {
                sqlx::query(
                    "INSERT INTO deployment_phases (deployment_id, phase, state, attempts) VALUES ($1, $2, 'pending', 0)",
                )
                .bind(&d.id)
                .bind(phase.as_str())
                .execute(&mut *tx)
                .await?;
            }
            for (name, nonce, ct) in &d.secrets {
                sqlx::query(
                    "INSERT INTO deployment_secrets (deployment_id, name, nonce, ciphertext, updated_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&d.id)
                .bind(name)
                .bind(nonce)
                .bind(ct)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            insert_event!(tx, &d.id, 1_i64, &d.first_event);
            tx.commit().await?;
            Ok(())
        }
        .await
    });
    result.map_err(|e| match e {
        InsertError::FqdnTaken(_) => InsertError::FqdnTaken(d.fqdn.clone()),
        other => other,
    })
}

pub async fn get(db: &Db, id: &str) -> Result<Option<DeploymentRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, DeploymentRow>(&format!("SELECT {COLUMNS} FROM deployments WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// The live (not wiped) deployment of a domain, if any.
pub async fn live_by_fqdn(db: &Db, fqdn: &str) -> Result<Option<DeploymentRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, DeploymentRow>(&format!(
            "SELECT {COLUMNS} FROM deployments WHERE fqdn = $1 AND status <> 'wiped'"
        ))
        .bind(fqdn)
        .fetch_optional(pool)
        .await?
    }))
}

/// A value bound to a list statement.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// Binds `$binds` in order to a query (`query`, `query_as`, `query_scalar` alike).
macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(n) => q.bind(*n),
            };
        }
        q
    }};
}

/// The `WHERE` clause of a list over `orgs` (`None`: every organisation) and its binds, in placeholder
/// order ($1 … $n). `with_status`: whether the status filter applies (the per-status counts leave it out).
fn list_clause(orgs: &[String], f: &ListFilter, with_status: bool) -> (String, Vec<Bind>) {
    let mut binds: Vec<Bind> = orgs.iter().cloned().map(Bind::Text).collect();
    // Placeholders in order of appearance ($1 … $n, then the page): SQLite numbers named parameters so.
    let mut clause = if orgs.is_empty() {
        String::from("1 = 1")
    } else {
        let list = (1..=orgs.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("org_id IN ({list})")
    };
    // Records deleted before a wipe hold their domain but are no organisation's to see.
    clause.push_str(" AND deleted_at IS NULL");
    // Statuses and sort columns come from enums, never from the caller's text.
    if with_status && !f.statuses.is_empty() {
        let list = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        clause.push_str(&format!(" AND status IN ({list})"));
    }
    // Region and provider ids are validated against the cloud tables (letters, digits, dashes), and bound.
    if let Some(region) = &f.region {
        binds.push(Bind::Text(format!("%,{region},%")));
        clause.push_str(&format!(" AND regions LIKE ${}", binds.len()));
    }
    if let Some(provider) = f.provider {
        binds.push(Bind::Text(format!("%,{},%", provider.id())));
        clause.push_str(&format!(" AND providers LIKE ${}", binds.len()));
    }
    if let Some(search) = &f.search {
        // A part of the domain, the organisation's name, the creator's e-mail or name; the caller's text is a
        // bound LIKE pattern with its wildcards escaped. One branch per place, each served by its own index
        // (Postgres: trigram indexes on the lowered texts, then the org_id / created_by indexes).
        let pattern = format!("%{}%", like_escape(search));
        let n = binds.len();
        let (a, b, c, d) = (n + 1, n + 2, n + 3, n + 4);
        clause.push_str(&format!(
            " AND id IN (SELECT id FROM deployments WHERE lower(fqdn) LIKE ${a} ESCAPE '\\' \
             UNION SELECT d.id FROM deployments d JOIN organisations o ON o.id = d.org_id \
               WHERE lower(o.name) LIKE ${b} ESCAPE '\\' \
             UNION SELECT d.id FROM deployments d JOIN users u ON u.id = d.created_by \
               WHERE lower(u.email) LIKE ${c} ESCAPE '\\' OR lower(u.display_name) LIKE ${d} ESCAPE '\\')"
        ));
        binds.extend(std::iter::repeat_n(Bind::Text(pattern), 4));
    }
    (clause, binds)
}

/// `text` with LIKE's wildcards (and the escape character) escaped by a backslash.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The column a sort key orders by.
fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Created => "created_at",
        SortKey::Updated => "updated_at",
        SortKey::Fqdn => "fqdn",
        SortKey::Status => "status",
        SortKey::Region => "regions",
        SortKey::Cost => "monthly_cents",
    }
}

/// A row's value of a sort key, as its cursor carries it.
fn sort_value(row: &DeploymentRow, key: SortKey) -> String {
    match key {
        SortKey::Created => row.created_at.to_string(),
        SortKey::Updated => row.updated_at.to_string(),
        SortKey::Fqdn => row.fqdn.clone(),
        SortKey::Status => row.status.clone(),
        SortKey::Region => row.regions.clone(),
        SortKey::Cost => row.monthly_cents.to_string(),
    }
}

/// One page of a list, with the cursors of its neighbours.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// Rows matching the filter across all pages.
    pub total: i64,
    pub rows: Vec<DeploymentRow>,
    /// Cursor (`after`) of the next page, if rows follow.
    pub next: Option<String>,
    /// Cursor (`before`) of the previous page, if rows precede.
    pub prev: Option<String>,
}

/// One page of the deployments of `orgs` (`None`: every organisation; an empty list: none), ordered by the
/// sort key and then the id. With a cursor the page is the rows strictly after (or before) it in that order
/// (keyset paging: an index range, stable while rows are inserted elsewhere); without one, `f.page`'s offset.
pub async fn list(db: &Db, orgs: Option<&[String]>, f: &ListFilter) -> Result<ListPage, DbError> {
    if orgs.is_some_and(<[String]>::is_empty) {
        return Ok(ListPage {
            total: 0,
            rows: Vec::new(),
            next: None,
            prev: None,
        });
    }
    let orgs = orgs.unwrap_or_default();
    let (clause, binds) = list_clause(orgs, f, true);
    let column = sort_column(f.sort);
    let backward = matches!(f.cursor, Some(PageCursor::Before(_)));
    // Reading backwards walks the order in reverse and turns the page round afterwards.
    let ascending = (f.dir == SortDir::Asc) != backward;
    let (order, cmp) = if ascending { ("ASC", ">") } else { ("DESC", "<") };
    let mut page_clause = clause.clone();
    let mut page_binds = binds.clone();
    if let Some(PageCursor::After(c) | PageCursor::Before(c)) = &f.cursor {
        let value = if f.sort.numeric() {
            // `ListQuery::parse` checked that it is a number.
            Bind::Int(c.value.parse().unwrap_or_default())
        } else {
            Bind::Text(c.value.clone())
        };
        page_binds.push(value);
        page_binds.push(Bind::Text(c.id.clone()));
        let (v, i) = (page_binds.len() - 1, page_binds.len());
        page_clause.push_str(&format!(" AND ({column}, id) {cmp} (${v}, ${i})"));
    }
    let per_page = f.page.per_page;
    let offset = if f.cursor.is_some() { 0 } else { f.page.offset() };
    page_binds.push(Bind::Int(per_page + 1));
    page_binds.push(Bind::Int(offset));
    let (limit_at, offset_at) = (page_binds.len() - 1, page_binds.len());
    let (total, mut rows) = on_db!(db, pool => {
        let count_sql = format!("SELECT COUNT(*) FROM deployments WHERE {clause}");
        let total: i64 = bind_all!(sqlx::query_scalar(&count_sql), &binds).fetch_one(pool).await?;
        let rows_sql = format!(
            "SELECT {COLUMNS} FROM deployments WHERE {page_clause} \
             ORDER BY {column} {order}, id {order} LIMIT ${limit_at} OFFSET ${offset_at}"
        );
        let rows: Vec<DeploymentRow> =
            bind_all!(sqlx::query_as::<_, DeploymentRow>(&rows_sql), &page_binds).fetch_all(pool).await?;
        (total, rows)
    });
    let more = rows.len() as i64 > per_page;
    rows.truncate(per_page.max(0) as usize);
    if backward {
        rows.reverse();
    }
    let cursor_of = |row: Option<&DeploymentRow>| {
        row.map(|r| {
            app::deployments::Cursor {
                id: r.id.clone(),
                value: sort_value(r, f.sort),
            }
            .encode()
        })
    };
    let (has_next, has_prev) = match &f.cursor {
        Some(PageCursor::Before(_)) => (true, more),
        Some(PageCursor::After(_)) => (more, true),
        None => (more, f.page.page > 1),
    };
    Ok(ListPage {
        total,
        next: if has_next { cursor_of(rows.last()) } else { None },
        prev: if has_prev { cursor_of(rows.first()) } else { None },
        rows,
    })
}

/// How many deployments of `orgs` (`None`: every organisation) match `f`'s search, per status (the status
/// filter left out, so the counts say what each status would show). Statuses without any are absent.
pub async fn status_counts(
    db: &Db,
    orgs: Option<&[String]>,
    f: &ListFilter,
) -> Result<Vec<(DeploymentStatus, i64)>, DbError> {
    if orgs.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    let (clause, binds) = list_clause(orgs.unwrap_or_default(), f, false);
    let rows: Vec<(String, i64)> = on_db!(db, pool => {
        let sql = format!("SELECT status, COUNT(*) FROM deployments WHERE {clause} GROUP BY status");
        bind_all!(sqlx::query_as(&sql), &binds).fetch_all(pool).await?
    });
    let mut counts: Vec<(DeploymentStatus, i64)> = rows
        .into_iter()
        .filter_map(|(s, n)| DeploymentStatus::parse(&s).map(|s| (s, n)))
        .collect();
    counts.sort_by_key(|(s, _)| DeploymentStatus::ALL.iter().position(|a| a == s));
    Ok(counts)
}

/// A status write.
#[derive(Debug, Clone)]
pub struct StatusWrite {
    pub to: DeploymentStatus,
    /// Narrows the allowed sources further than the state machine (e.g. retry only from `failed`).
    pub only_from: Option<Vec<DeploymentStatus>>,
    /// A new run starts: `started_at` = now, clears `finished_at`, the error and any cancel request.
    pub start_run: bool,
    /// JSON `DeploymentError` (for `failed`).
    pub error: Option<String>,
    /// JSON `DeploymentResult`.
    pub result: Option<String>,
    /// JSON `TeardownReport`.
    pub teardown: Option<String>,
    /// Extra state-table writes in the same transaction.
    pub effects: Vec<Effect>,
    /// The message of the status event; the event's `state` is the new status.
    pub message: String,
    pub phase: Phase,
}

impl StatusWrite {
    pub fn new(to: DeploymentStatus, phase: Phase, message: impl Into<String>) -> Self {
        Self {
            to,
            only_from: None,
            start_run: false,
            error: None,
            result: None,
            teardown: None,
            effects: Vec::new(),
            message: message.into(),
            phase,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("the deployment does not exist")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for TransitionError {
    fn from(e: sqlx::Error) -> Self {
        TransitionError::Db(DbError::Query(e))
    }
}

impl From<AppendError> for TransitionError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::NoDeployment => TransitionError::NotFound,
            AppendError::Db(d) => TransitionError::Db(d),
        }
    }
}

/// Moves a deployment to `w.to` if the state machine allows it from its current status, with the status
/// event and `w.effects`, in one transaction. Returns the updated row.
pub async fn transition(db: &Db, id: &str, w: &StatusWrite) -> Result<DeploymentRow, TransitionError> {
    let sources: Vec<DeploymentStatus> = DeploymentStatus::sources_of(w.to)
        .into_iter()
        .filter(|s| w.only_from.as_ref().is_none_or(|only| only.contains(s)))
        .collect();
    if sources.is_empty() {
        let current = get(db, id).await?.ok_or(TransitionError::NotFound)?;
        return Err(IllegalTransition {
            from: current.status(),
            to: w.to,
        }
        .into());
    }
    let list = sources
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let now = now_ms();
    let level = if w.to == DeploymentStatus::Failed {
        Level::Error
    } else {
        Level::Info
    };
    let settle = w.to.settled();
    let row: Option<DeploymentRow> = on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let row = sqlx::query_as::<_, DeploymentRow>(&format!(
            "UPDATE deployments SET
               status = $1,
               updated_at = $2,
               started_at = CASE WHEN $3 THEN $2 ELSE started_at END,
               finished_at = CASE WHEN $4 THEN $2 WHEN $3 THEN NULL ELSE finished_at END,
               error = CASE WHEN $5 IS NOT NULL THEN $5 WHEN $3 THEN NULL ELSE error END,
               result = COALESCE($6, result),
               teardown = COALESCE($7, teardown),
               cancel_requested_at = CASE WHEN $3 THEN NULL ELSE cancel_requested_at END,
               cancel_requested_by = CASE WHEN $3 THEN NULL ELSE cancel_requested_by END,
               last_seq = last_seq + 1
             WHERE id = $8 AND status IN ({list})
             RETURNING {COLUMNS}"
        ))
        .bind(w.to.as_str())
        .bind(now)
        .bind(w.start_run)
        .bind(settle)
        .bind(&w.error)
        .bind(&w.result)
        .bind(&w.teardown)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = &row {
            for effect in &w.effects {
                apply_effect!(tx, id, effect, now);
            }
            let event = NewEvent {
                at: now,
                kind: EventKind::Status,
                phase: w.phase,
                level,
                message: w.message.clone(),
                component: None,
                state: Some(w.to.as_str().to_string()),
                resource: None,
            };
            insert_event!(tx, id, row.last_seq, &event);
            notify!(tx, id);
            tx.commit().await?;
        }
        row
    });
    match row {
        Some(row) => Ok(row),
        None => {
            let current = get(db, id).await?.ok_or(TransitionError::NotFound)?;
            Err(IllegalTransition {
                from: current.status(),
                to: w.to,
            }
            .into())
        }
    }
}

/// Records a cancel request; the replica running the deployment sees it at its next heartbeat.
pub async fn request_cancel(db: &Db, id: &str, by: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query(
            "UPDATE deployments SET cancel_requested_at = $1, cancel_requested_by = $2 WHERE id = $3",
        )
        .bind(now_ms())
        .bind(by)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Who asked to cancel, if anyone did since the run started.
pub async fn cancel_requested(db: &Db, id: &str) -> Result<Option<String>, DbError> {
    let row: Option<(Option<i64>, Option<String>)> = on_db!(db, pool => {
        sqlx::query_as("SELECT cancel_requested_at, cancel_requested_by FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok(match row {
        Some((Some(_), by)) => Some(by.unwrap_or_default()),
        _ => None,
    })
}

/// Deletes a settled deployment and everything that hangs off it. Returns false if it was not there or
/// not settled (the status check is part of the statement).
pub async fn delete_settled(db: &Db, id: &str) -> Result<bool, DbError> {
    let settled = DeploymentStatus::ALL
        .into_iter()
        .filter(|s| s.settled())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let n = on_db!(db, pool => {
        sqlx::query(&format!("DELETE FROM deployments WHERE id = $1 AND status IN ({settled})"))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

/// Hides a settled, not wiped deployment (its organisation deleted the record): it keeps holding its domain.
/// False if it is in flight, wiped or hidden already.
pub async fn hide_settled(db: &Db, id: &str) -> Result<bool, DbError> {
    let settled = DeploymentStatus::ALL
        .into_iter()
        .filter(|s| s.settled() && *s != DeploymentStatus::Wiped)
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let n = on_db!(db, pool => {
        sqlx::query(&format!(
            "UPDATE deployments SET deleted_at = $2, updated_at = $2
             WHERE id = $1 AND status IN ({settled}) AND deleted_at IS NULL"
        ))
        .bind(id)
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Deleted records that still hold their domain (not wiped), oldest first.
pub async fn held(db: &Db) -> Result<Vec<DeploymentRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as::<_, DeploymentRow>(&format!(
            "SELECT {COLUMNS} FROM deployments WHERE deleted_at IS NOT NULL AND status <> 'wiped' ORDER BY deleted_at, id"
        ))
        .fetch_all(pool)
        .await?
    }))
}

/// Removes a hidden record for good, freeing its domain (a superadmin's release). Only a settled one.
pub async fn release_held(db: &Db, id: &str) -> Result<bool, DbError> {
    let settled = DeploymentStatus::ALL
        .into_iter()
        .filter(|s| s.settled())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let n = on_db!(db, pool => {
        sqlx::query(&format!(
            "DELETE FROM deployments WHERE id = $1 AND deleted_at IS NOT NULL AND status IN ({settled})"
        ))
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

#[derive(Debug, sqlx::FromRow)]
struct PhaseRow {
    phase: String,
    state: String,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    attempts: i64,
}

/// The deployment's phases in run order (provisioning phases, then wipe phases once a wipe ran).
pub async fn phases(db: &Db, id: &str) -> Result<Vec<PhaseProgress>, DbError> {
    let rows: Vec<PhaseRow> = on_db!(db, pool => {
        sqlx::query_as::<_, PhaseRow>(
            "SELECT phase, state, started_at, finished_at, attempts FROM deployment_phases WHERE deployment_id = $1",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
    });
    let mut out: Vec<PhaseProgress> = rows
        .into_iter()
        .filter_map(|r| {
            Some(PhaseProgress {
                phase: Phase::parse(&r.phase)?,
                state: PhaseState::parse(&r.state)?,
                started_at: r.started_at,
                finished_at: r.finished_at,
                attempts: r.attempts,
            })
        })
        .collect();
    out.sort_by_key(|p| p.phase);
    Ok(out)
}

#[derive(Debug, sqlx::FromRow)]
struct ResourceRow {
    address: String,
    resource_type: String,
    action: String,
    state: String,
    elapsed_secs: i64,
    cloud_id: Option<String>,
    updated_at: i64,
}

pub async fn resources(db: &Db, id: &str) -> Result<Vec<ResourceProgress>, DbError> {
    let rows: Vec<ResourceRow> = on_db!(db, pool => {
        sqlx::query_as::<_, ResourceRow>(
            "SELECT address, resource_type, action, state, elapsed_secs, cloud_id, updated_at
             FROM deployment_resources WHERE deployment_id = $1 ORDER BY address",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| ResourceProgress {
            address: r.address,
            resource_type: r.resource_type,
            action: ResourceAction::parse(&r.action).unwrap_or(ResourceAction::Noop),
            state: ResourceState::parse(&r.state).unwrap_or(ResourceState::Planned),
            elapsed_secs: r.elapsed_secs,
            cloud_id: r.cloud_id,
            updated_at: r.updated_at,
        })
        .collect())
}

#[derive(Debug, sqlx::FromRow)]
struct ComponentRow {
    component: String,
    state: String,
    message: String,
    updated_at: i64,
}

pub async fn components(db: &Db, id: &str) -> Result<Vec<ComponentProgress>, DbError> {
    let rows: Vec<ComponentRow> = on_db!(db, pool => {
        sqlx::query_as::<_, ComponentRow>(
            "SELECT component, state, message, updated_at FROM deployment_components
             WHERE deployment_id = $1 ORDER BY component",
        )
        .bind(id)
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| ComponentProgress {
            id: r.component,
            state: ComponentPhase::parse(&r.state).unwrap_or(ComponentPhase::Pending),
            message: r.message,
            updated_at: r.updated_at,
        })
        .collect())
}

/// Ids of deployments in one of `statuses` (all organisations): what the lease sweeper looks at.
pub async fn ids_with_status(db: &Db, statuses: &[DeploymentStatus]) -> Result<Vec<String>, DbError> {
    if statuses.is_empty() {
        return Ok(Vec::new());
    }
    let list = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(&format!("SELECT id FROM deployments WHERE status IN ({list}) ORDER BY created_at"))
            .fetch_all(pool)
            .await?
    }))
}
