//! Shared state of the HTTP layer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::config::Settings;
use crate::db::Db;
use crate::deployments::Engine;

#[derive(Clone, FromRef)]
pub struct AppState {
    /// Site paths and output names for SSR and static files.
    pub leptos_options: LeptosOptions,
    /// The database pool (SQLite or Postgres).
    pub db: Db,
    /// Validated configuration.
    pub settings: Arc<Settings>,
    /// Facts about this process.
    pub instance: Arc<Instance>,
    /// The provisioning engine.
    pub engine: Engine,
    /// Accounts and sessions: resolves callers, implements the accounts-and-access ports.
    pub auth: crate::auth::Auth,
    /// Vouchers: issue, preview, redeem (also the sign-up hook's implementation).
    pub vouchers: std::sync::Arc<crate::vouchers::Vouchers>,
    /// Organisations' credit: balance, ledger, orders.
    pub billing: crate::billing::Billing,
    /// The e-mail outbox and its sender.
    pub mailer: std::sync::Arc<crate::mail::Mailer>,
    /// Single sign-on, when `--oidc-issuer` is set.
    pub oidc: Option<Arc<crate::auth::oidc::Oidc>>,
    /// The DNS pool manager, when `--pdns-url` is set.
    pub pools: Option<Arc<crate::dns::PoolManager>>,
}

impl FromRef<AppState> for crate::auth::oidc::Sso {
    fn from_ref(state: &AppState) -> Self {
        crate::auth::oidc::Sso {
            auth: state.auth.clone(),
            oidc: state.oidc.clone(),
        }
    }
}

/// This replica: its id (leases and logs carry it) and when it started.
#[derive(Debug)]
pub struct Instance {
    pub id: String,
    pub started: Instant,
}

impl Instance {
    pub fn new() -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "catalyst".into());
        let short = uuid::Uuid::new_v4().simple().to_string();
        Self {
            id: format!("{host}-{}", &short[..8]),
            started: Instant::now(),
        }
    }
}

impl Default for Instance {
    fn default() -> Self {
        Self::new()
    }
}
