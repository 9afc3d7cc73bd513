//! Hetzner's price list and the server types not available now, kept in the database (`hetzner_cache`) so
//! every replica — and the wizard before a token is entered — uses the last answer any replica got, with its
//! "as of" time. A pre-flight (it has a token) fetches the price list again once the stored one is older than
//! [`PRICE_TTL`]; without any stored answer the estimate uses Catalyst's built-in list and says so.

use std::time::Duration;

use app::preflight::{PriceSource, PriceTable, cost};

use crate::db::{Db, hetzner_cache, now_ms};
use crate::hetzner::HetznerClient;

/// How long a fetched price list is current. Hetzner changes prices rarely and announces it weeks ahead.
pub const PRICE_TTL: Duration = Duration::from_secs(6 * 3600);

const PRICING: &str = "pricing";
const UNAVAILABLE: &str = "unavailable";

/// The prices and availability the console knows without asking Hetzner.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    pub prices: PriceTable,
    /// `(server type, location)` pairs Hetzner reported as not available, at the last pre-flight.
    pub unavailable: Vec<(String, String)>,
}

/// The stored answers: prices marked [`PriceSource::Api`] while younger than [`PRICE_TTL`], else
/// [`PriceSource::Cached`]; the built-in list when nothing is stored (or the store cannot be read).
pub async fn cached(db: &Db, api_url: &str) -> Known {
    Known {
        prices: stored_prices(db, api_url, now_ms())
            .await
            .unwrap_or_else(cost::builtin_prices),
        unavailable: match hetzner_cache::get(db, UNAVAILABLE, api_url).await {
            Ok(Some(row)) => serde_json::from_str(&row.body).unwrap_or_default(),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored server type availability");
                Vec::new()
            }
        },
    }
}

async fn stored_prices(db: &Db, api_url: &str, now: i64) -> Option<PriceTable> {
    let row = match hetzner_cache::get(db, PRICING, api_url).await {
        Ok(r) => r?,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the stored Hetzner prices");
            return None;
        }
    };
    let mut table: PriceTable = serde_json::from_str(&row.body).ok()?;
    table.as_of_ms = Some(row.fetched_at);
    table.source = if now - row.fetched_at < PRICE_TTL.as_millis() as i64 {
        PriceSource::Api
    } else {
        PriceSource::Cached
    };
    Some(table)
}

/// Current prices for a run with a token: the stored list while it is younger than [`PRICE_TTL`], else
/// `GET /pricing` (stored for everyone). If Hetzner does not answer, the stored list (marked cached) or the
/// built-in one.
pub async fn current(db: &Db, api_url: &str, client: &HetznerClient) -> PriceTable {
    let now = now_ms();
    let stored = stored_prices(db, api_url, now).await;
    if let Some(t) = &stored
        && t.source == PriceSource::Api
    {
        return t.clone();
    }
    match client.pricing(now).await {
        Ok(table) => {
            match serde_json::to_string(&table) {
                Ok(body) => {
                    if let Err(e) = hetzner_cache::put(db, PRICING, api_url, &body, now).await {
                        tracing::warn!(error = %e, "cannot store Hetzner's prices");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot encode Hetzner's prices"),
            }
            table
        }
        Err(e) => {
            tracing::warn!(error = %e, "Hetzner's price list is unavailable; using the last known one");
            stored.unwrap_or_else(cost::builtin_prices)
        }
    }
}

/// Records which server types Hetzner does not have available now, for the Provider step's proposals.
pub async fn store_unavailable(db: &Db, api_url: &str, pairs: &[(String, String)]) {
    let body = serde_json::to_string(pairs).unwrap_or_else(|_| "[]".into());
    if let Err(e) = hetzner_cache::put(db, UNAVAILABLE, api_url, &body, now_ms()).await {
        tracing::warn!(error = %e, "cannot store the server types' availability");
    }
}
