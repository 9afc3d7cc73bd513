//! The console's own status (`SystemPort`, the overview's card) and settings; their REST routes are `http`.

pub mod http;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::error::AppError;
use app::ports::SystemPort;
use app::system::StatusReport;
use async_trait::async_trait;

use crate::db::Db;
use crate::error::Error;
use crate::state::Instance;

pub struct System {
    pub db: Db,
    pub instance: Arc<Instance>,
    /// The database's version and applied migration, as last read: they change only when the database is
    /// upgraded or migrated, and the overview renders them on every visit.
    pub facts: FactsCache,
}

/// How long [`System::report`] reuses the database's version and applied migration. The round trip itself
/// (the ping and its latency) is measured on every report.
const FACTS_TTL: Duration = Duration::from_secs(10);

/// The database's version string and applied migration, with when they were read.
#[derive(Default)]
pub struct FactsCache(Mutex<Option<(Instant, String, i64)>>);

impl System {
    pub fn new(db: Db, instance: Arc<Instance>) -> Self {
        Self {
            db,
            instance,
            facts: FactsCache::default(),
        }
    }

    pub async fn report(&self) -> Result<StatusReport, Error> {
        let started = Instant::now();
        self.db.ping().await?;
        let latency = started.elapsed();
        let (database_version, schema_version) = self.facts().await?;
        Ok(StatusReport {
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
            database: self.db.backend().as_str().to_string(),
            database_version: Some(database_version),
            schema_version: Some(schema_version),
            database_latency_us: latency.as_micros() as u64,
            uptime_secs: self.instance.started.elapsed().as_secs(),
            instance: self.instance.id.clone(),
        })
    }

    async fn facts(&self) -> Result<(String, i64), Error> {
        let cached = match self.facts.0.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some((read_at, version, schema)) = cached
            && read_at.elapsed() < FACTS_TTL
        {
            return Ok((version, schema));
        }
        let version = self.db.server_version().await?;
        let schema = self.db.applied_migration().await?;
        let fresh = Some((Instant::now(), version.clone(), schema));
        match self.facts.0.lock() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok((version, schema))
    }
}

#[async_trait]
impl SystemPort for System {
    async fn status(&self) -> Result<StatusReport, AppError> {
        Ok(self.report().await?)
    }
}
