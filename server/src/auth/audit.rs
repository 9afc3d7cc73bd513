//! The audit trail of accounts and access: [`AuthService::record`] writes an entry (every other use case
//! calls it), and `AuditPort` reads the log for the audit page.

use app::audit::{AuditEntry, Outcome};
use app::auth::policy::{self, Action};
use app::auth::{Principal, RequestMeta};
use app::error::AppError;
use app::paging::{Page, PageRequest};
use app::ports::AuditPort;
use async_trait::async_trait;

use super::service::AuthService;
use crate::db::audit::{AuditFilter, NewAudit};
use crate::db::{self, users::UserRow};
use crate::error::Error;

/// Audit categories the audit page filters by (the part of the action before the first dot).
pub const AUDIT_CATEGORIES: &[&str] = &[
    "auth", "users", "orgs", "tokens", "settings", "vouchers", "billing",
];

/// Who an audit entry is about.
pub enum Actor<'a> {
    User {
        id: &'a str,
        label: &'a str,
    },
    /// No account (a failed sign-in records the e-mail that was typed).
    Anonymous(&'a str),
}

impl<'a> Actor<'a> {
    pub fn of(p: &'a Principal) -> Self {
        Actor::User {
            id: &p.user_id,
            label: &p.email,
        }
    }

    pub fn user(u: &'a UserRow) -> Self {
        Actor::User {
            id: &u.id,
            label: &u.email,
        }
    }
}

impl AuthService {
    /// Appends to the audit log; a failure to record is logged, not returned (the action already happened).
    pub async fn record(
        &self,
        actor: Actor<'_>,
        action: &str,
        target: &str,
        outcome: Outcome,
        detail: &str,
        meta: &RequestMeta,
    ) {
        let entry = match actor {
            Actor::User { id, label } => {
                NewAudit::new(Some(id), label, action, target, outcome, detail, meta)
            }
            Actor::Anonymous(label) => NewAudit::new(None, label, action, target, outcome, detail, meta),
        };
        if let Err(e) = db::audit::append(&self.db, &entry).await {
            tracing::error!(error = %e, action, "cannot write the audit log");
        }
    }
}

#[async_trait]
impl AuditPort for AuthService {
    async fn audit(
        &self,
        me: &Principal,
        category: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AppError> {
        policy::require(me, Action::AuditRead, None)?;
        let action_prefix = match category {
            None => None,
            Some(c) if AUDIT_CATEGORIES.contains(&c) => Some(format!("{c}.")),
            Some(_) => {
                return Err(AppError::invalid(
                    "category",
                    format!("Choose one of {}.", AUDIT_CATEGORIES.join(", ")),
                ));
            }
        };
        let filter = AuditFilter {
            action_prefix,
            actor_id: None,
        };
        Ok(db::audit::list(&self.db, &filter, page)
            .await
            .map_err(Error::from)?)
    }
}
