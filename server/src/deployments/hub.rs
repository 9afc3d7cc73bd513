//! Live fan-out of deployment events to this replica's subscribers.
//!
//! The database is the source of truth. Each replica keeps at most one [`Hub`] per deployment that has
//! subscribers; the hub reads new events from the database once and broadcasts them (already serialised) to
//! every local subscriber. Hubs wake on local appends ([`Hubs::wake`]), on Postgres `NOTIFY` from any
//! replica ([`listen_postgres`]), and on a slow poll as a safety net. A subscriber that lags behind the
//! broadcast buffer, or sees a gap, reads the missing range from the database by `seq`
//! ([`crate::deployments::http`]), so nothing is lost or sent twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::deployments::{DeploymentEvent, DeploymentStatus, EventKind};
use tokio::sync::{Notify, broadcast};

use crate::db::{Db, deployment_events};

/// Events buffered per hub for slow subscribers before they fall back to the database.
pub const BROADCAST_CAPACITY: usize = 1024;
/// Events read from the database per round.
const READ_BATCH: i64 = 500;

/// One event as broadcast: the event, its JSON (serialised once for all subscribers), and the new status
/// when it is a status event.
#[derive(Debug)]
pub struct LiveEvent {
    pub event: DeploymentEvent,
    pub json: String,
    pub status: Option<DeploymentStatus>,
}

impl LiveEvent {
    pub fn new(event: DeploymentEvent) -> Self {
        let json = serde_json::to_string(&event).unwrap_or_default();
        let status = if event.kind == EventKind::Status {
            event.state.as_deref().and_then(DeploymentStatus::parse)
        } else {
            None
        };
        Self { event, json, status }
    }
}

pub struct Hub {
    id: String,
    tx: broadcast::Sender<Arc<LiveEvent>>,
    wake: Notify,
    /// Highest seq broadcast so far.
    last: AtomicI64,
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// This replica's hubs.
#[derive(Clone)]
pub struct Hubs {
    db: Db,
    map: Arc<Mutex<HashMap<String, Arc<Hub>>>>,
    poll: Duration,
}

impl Hubs {
    /// `poll`: the safety-net interval at which hubs read the database without a wake-up.
    pub fn new(db: Db, poll: Duration) -> Self {
        Self {
            db,
            map: Arc::new(Mutex::new(HashMap::new())),
            poll,
        }
    }

    /// Subscribes to a deployment's live events: the receiver gets every event with `seq > last_seq` (the
    /// value passed, normally read just before), possibly also some earlier ones (subscribers skip by seq).
    pub fn subscribe(&self, id: &str, last_seq: i64) -> (Arc<Hub>, broadcast::Receiver<Arc<LiveEvent>>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hub) = map.get(id) {
            let rx = hub.subscribe();
            return (hub.clone(), rx);
        }
        let (tx, rx) = broadcast::channel(BROADCAST_CAPACITY);
        let hub = Arc::new(Hub {
            id: id.to_string(),
            tx,
            wake: Notify::new(),
            last: AtomicI64::new(last_seq),
        });
        map.insert(id.to_string(), hub.clone());
        tokio::spawn(run_hub(self.clone(), hub.clone()));
        (hub, rx)
    }

    /// New events of `id` are in the database: wake its hub, if this replica has one.
    pub fn wake(&self, id: &str) {
        let hub = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        if let Some(hub) = hub {
            hub.wake.notify_one();
        }
    }

    /// Live event streams on this replica: the receivers of every hub (metrics).
    pub fn subscribers(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|h| h.subscribers())
            .sum()
    }

    /// Number of live hubs (tests, metrics).
    pub fn active(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Removes the hub if nobody listens any more. True if removed.
    fn retire_if_idle(&self, hub: &Arc<Hub>) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the map lock: `subscribe` cannot hand out this hub at the same time.
        if hub.tx.receiver_count() == 0 {
            if map.get(&hub.id).is_some_and(|h| Arc::ptr_eq(h, hub)) {
                map.remove(&hub.id);
            }
            true
        } else {
            false
        }
    }
}

async fn run_hub(hubs: Hubs, hub: Arc<Hub>) {
    loop {
        if hubs.retire_if_idle(&hub) {
            return;
        }
        // Read everything new, in batches, broadcasting as we go.
        loop {
            let after = hub.last.load(Ordering::Acquire);
            let events = match deployment_events::list_after(&hubs.db, &hub.id, after, READ_BATCH).await {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(deployment = %hub.id, error = %e, "live events: cannot read new events; retrying");
                    break;
                }
            };
            let n = events.len() as i64;
            for event in events {
                hub.last.store(event.seq, Ordering::Release);
                // No receivers is not an error: the next round retires the hub.
                let _ = hub.tx.send(Arc::new(LiveEvent::new(event)));
            }
            if n < READ_BATCH {
                break;
            }
        }
        tokio::select! {
            () = hub.wake.notified() => {}
            () = tokio::time::sleep(hubs.poll) => {}
        }
    }
}

/// Forwards Postgres `NOTIFY catalyst_events` (sent by any replica's appends) to this replica's hubs.
/// Reconnects with a back-off if the connection drops; the hubs' poll covers the gap.
pub async fn listen_postgres(pool: sqlx::PgPool, hubs: Hubs, wakers: Arc<dyn Fn(&str) + Send + Sync>) {
    let mut backoff = Duration::from_millis(500);
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(deployment_events::NOTIFY_CHANNEL).await {
                    tracing::warn!(error = %e, "live events: LISTEN failed; retrying");
                } else {
                    backoff = Duration::from_millis(500);
                    loop {
                        match listener.recv().await {
                            Ok(n) => {
                                hubs.wake(n.payload());
                                wakers(n.payload());
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "live events: the LISTEN connection dropped; reconnecting");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "live events: cannot open a LISTEN connection; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
