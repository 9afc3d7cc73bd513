//! The cache of resolved callers this replica keeps (the state; [`super::callers`] resolves and forgets).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use app::auth::Principal;
use tokio::sync::watch;

/// A resolved caller, by the SHA-256 of their session or token secret.
pub(super) struct Cached {
    pub(super) principal: Principal,
    pub(super) fetched: Instant,
    /// Sessions only: absolute expiry (ms since epoch).
    pub(super) expires_at: Option<i64>,
    /// Last recorded activity (ms since epoch).
    pub(super) last_seen_at: i64,
}

/// Resolved callers by credential digest, and the generation open streams watch for changes.
pub struct CallerCache {
    pub(super) entries: Mutex<HashMap<String, Cached>>,
    /// Bumped by every change of who may do what made through this replica; open streams watch it.
    pub(super) generation: watch::Sender<u64>,
}

impl Default for CallerCache {
    fn default() -> Self {
        CallerCache {
            entries: Mutex::new(HashMap::new()),
            generation: watch::channel(0).0,
        }
    }
}
