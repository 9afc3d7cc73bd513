//! The `audit_log` table: append-only security and administration events.

use app::audit::{AuditEntry, Outcome};
use app::auth::{Principal, RequestMeta};
use app::paging::{Page, PageRequest};

use super::{Db, DbError, now_ms};
use crate::db::on_db;

/// An event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
    pub ip: String,
    pub request_id: String,
}

impl NewAudit {
    /// The one builder of audit entries: who (`actor_id` and how the log names them; no id for a stranger or
    /// the console itself), what, on what, how it went, and the request it came with. The names are cut to
    /// 254 characters without control characters (a stranger's sign-in name is theirs to choose).
    pub fn new(
        actor_id: Option<&str>,
        actor: &str,
        action: &str,
        target: &str,
        outcome: Outcome,
        detail: &str,
        meta: &RequestMeta,
    ) -> Self {
        Self {
            actor_id: actor_id.map(str::to_string),
            actor: clean(actor),
            action: action.into(),
            target: clean(target),
            outcome,
            detail: detail.into(),
            ip: meta.ip.clone(),
            request_id: meta.request_id.clone(),
        }
    }

    /// A signed-in person's successful action.
    pub fn by(me: &Principal, meta: &RequestMeta, action: &str, target: &str, detail: &str) -> Self {
        Self::new(
            Some(&me.user_id),
            &me.email,
            action,
            target,
            Outcome::Success,
            detail,
            meta,
        )
    }

    /// What the console did on its own.
    pub fn system(action: &str, target: &str, detail: &str) -> Self {
        Self::new(
            None,
            "system",
            action,
            target,
            Outcome::Success,
            detail,
            &RequestMeta::default(),
        )
    }
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(254).collect()
}

#[derive(Debug, sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    actor_id: Option<String>,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    detail: String,
    ip: String,
    request_id: String,
}

impl AuditRow {
    fn into_entry(self) -> AuditEntry {
        AuditEntry {
            id: self.id,
            at: self.at,
            actor_id: self.actor_id,
            actor: self.actor,
            action: self.action,
            target: self.target,
            outcome: Outcome::parse(&self.outcome).unwrap_or(Outcome::Failure),
            detail: self.detail,
            ip: self.ip,
            request_id: self.request_id,
        }
    }
}

/// Filter for listing: by action prefix (e.g. `auth.`) and/or actor id.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action_prefix: Option<String>,
    pub actor_id: Option<String>,
}

/// Appends an entry and returns its id.
pub async fn append(db: &Db, e: &NewAudit) -> Result<String, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let at = now_ms();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor_id, actor, action, target, outcome, detail, ip, request_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(at)
        .bind(&e.actor_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(e.outcome.as_str())
        .bind(&e.detail)
        .bind(&e.ip)
        .bind(&e.request_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(id)
}

/// Newest first.
pub async fn list(db: &Db, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>, DbError> {
    // `$1 IS NULL OR …` keeps one statement for every filter combination on both backends.
    let prefix = filter
        .action_prefix
        .as_ref()
        .map(|p| format!("{}%", escape_like(p)));
    let where_clause = "($1 IS NULL OR action LIKE $1 ESCAPE '\\') AND ($2 IS NULL OR actor_id = $2)";
    let (total, rows): (i64, Vec<AuditRow>) = on_db!(db, pool => {
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log WHERE {where_clause}"))
            .bind(&prefix)
            .bind(&filter.actor_id)
            .fetch_one(pool)
            .await?;
        let rows = sqlx::query_as::<_, AuditRow>(&format!(
            "SELECT id, at, actor_id, actor, action, target, outcome, detail, ip, request_id FROM audit_log
             WHERE {where_clause} ORDER BY seq DESC LIMIT $3 OFFSET $4"
        ))
        .bind(&prefix)
        .bind(&filter.actor_id)
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(pool)
        .await?;
        (total, rows)
    });
    Ok(Page {
        items: rows.into_iter().map(AuditRow::into_entry).collect(),
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
