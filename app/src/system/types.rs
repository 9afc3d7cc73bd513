//! Wire types of the system status.

use serde::{Deserialize, Serialize};

/// What the console reports about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Catalyst's version: superadmins only (a version helps pick an exploit); `null` for others.
    pub version: Option<String>,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The database server's own version string: superadmins only.
    #[serde(rename = "databaseVersion")]
    pub database_version: Option<String>,
    /// Latest migration applied: superadmins only.
    #[serde(rename = "schemaVersion")]
    pub schema_version: Option<i64>,
    /// Round trip of a trivial query, in microseconds.
    #[serde(rename = "databaseLatencyUs")]
    pub database_latency_us: u64,
    /// Seconds since this process started.
    #[serde(rename = "uptimeSecs")]
    pub uptime_secs: u64,
    /// This replica's instance id.
    pub instance: String,
}

impl StatusReport {
    /// The report as `viewer` may see it: software versions (Catalyst's, the database server's, the schema's)
    /// only for superadmins, since a version tells an attacker which published hole to try (issue 18.8).
    pub fn for_viewer(mut self, viewer: &crate::auth::Principal) -> Self {
        if !viewer.is_superadmin() {
            self.version = None;
            self.database_version = None;
            self.schema_version = None;
        }
        self
    }
}
