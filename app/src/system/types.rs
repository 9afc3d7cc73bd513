//! Wire types of the system status.

use serde::{Deserialize, Serialize};

/// What the console reports about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Catalyst's version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The database server's own version string.
    #[serde(rename = "databaseVersion")]
    pub database_version: String,
    /// Latest migration applied.
    #[serde(rename = "schemaVersion")]
    pub schema_version: i64,
    /// Round trip of a trivial query, in microseconds.
    #[serde(rename = "databaseLatencyUs")]
    pub database_latency_us: u64,
    /// Seconds since this process started.
    #[serde(rename = "uptimeSecs")]
    pub uptime_secs: u64,
    /// This replica's instance id.
    pub instance: String,
}
