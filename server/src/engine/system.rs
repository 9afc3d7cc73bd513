//! `SystemPort`: the console's own status.

use std::sync::Arc;
use std::time::Instant;

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
}

impl System {
    pub async fn report(&self) -> Result<StatusReport, Error> {
        let started = Instant::now();
        self.db.ping().await?;
        let latency = started.elapsed();
        Ok(StatusReport {
            version: env!("CARGO_PKG_VERSION").to_string(),
            database: self.db.backend().as_str().to_string(),
            database_version: self.db.server_version().await?,
            schema_version: self.db.applied_migration().await?,
            database_latency_us: latency.as_micros() as u64,
            uptime_secs: self.instance.started.elapsed().as_secs(),
            instance: self.instance.id.clone(),
        })
    }
}

#[async_trait]
impl SystemPort for System {
    async fn status(&self) -> Result<StatusReport, AppError> {
        Ok(self.report().await?)
    }
}
