//! DNS: the pool manager's error kinds (shared by the engine, the REST API and the wizard) and the
//! canonical record set every Sovereign gets.

pub mod types;

pub use types::{CANONICAL_NAMES, PoolError, RECORD_TTL};
