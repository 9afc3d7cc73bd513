//! Outgoing e-mail: an outbox table and one sender across replicas.
//!
//! Whoever wants a message sent calls [`Mailer::queue`] — one `INSERT`, so it neither waits for nor fails
//! with the SMTP server. A background worker on every replica competes for the `mail-outbox` lease
//! (`worker_leases`, renewed every round; an expired lease is taken over, as deployment runs are); the
//! holder sends due messages with lettre and records each outcome. A failed attempt is retried after
//! 30 s, 1, 2, 4 … minutes (at most an hour apart); after 8 attempts, or at once on a permanent (5xx)
//! answer, the message is marked `failed` with the server's last answer. Delivery is at least once: a
//! sender that dies between the SMTP `250` and recording it lets the next holder send it again.

pub mod config;
pub mod outbox;
pub mod sender;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{Db, DbError, now_ms};
use config::MailSettings;
pub use outbox::NewMail;
use sender::Sender;

/// The lease the sending replica holds.
pub const LEASE: &str = "mail-outbox";

/// Timing of the sender; [`WorkerConfig::default`] is production's.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often an idle worker looks for due messages and renews (or tries to take) the lease.
    pub poll: Duration,
    pub lease_ttl: Duration,
    /// Delay after the first failure; doubled after each further one.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// Attempts before a message is given up on.
    pub max_attempts: i64,
    /// Messages sent per round.
    pub batch: i64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            lease_ttl: Duration::from_secs(30),
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            max_attempts: 8,
            batch: 20,
        }
    }
}

impl WorkerConfig {
    /// The wait after the `attempt`-th failed attempt (1-based).
    pub fn backoff(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.first_retry
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_retry)
    }
}

/// What one round of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// This replica held the lease (only then does it send).
    pub leader: bool,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The outbox and its sender.
pub struct Mailer {
    db: Db,
    sender: Option<Sender>,
    settings: MailSettings,
    holder: String,
    config: WorkerConfig,
    wake: Notify,
}

impl Mailer {
    /// `holder` is this replica's id (the lease records it). Without SMTP settings nothing is queued.
    pub fn new(db: Db, settings: MailSettings, holder: String, config: WorkerConfig) -> Result<Self, String> {
        let sender = match &settings.smtp {
            Some(smtp) => Some(Sender::new(smtp)?),
            None => None,
        };
        Ok(Self {
            db,
            sender,
            settings,
            holder,
            config,
            wake: Notify::new(),
        })
    }

    /// Whether e-mail is configured (`--smtp-host`).
    pub fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// The console's public origin, for links in messages.
    pub fn public_origin(&self) -> &str {
        &self.settings.public_origin
    }

    /// Queues a message; `Ok(None)` when e-mail is not configured. Wakes this replica's worker.
    pub async fn queue(&self, m: &NewMail) -> Result<Option<String>, DbError> {
        if !self.enabled() {
            return Ok(None);
        }
        let id = outbox::enqueue(&self.db, m, now_ms()).await?;
        self.wake.notify_one();
        Ok(Some(id))
    }

    /// One round: take or renew the lease; if held, send the due messages and record each outcome.
    pub async fn run_once(&self) -> Result<Round, DbError> {
        let Some(sender) = &self.sender else {
            return Ok(Round::default());
        };
        let now = now_ms();
        let ttl = self.config.lease_ttl.as_millis() as i64;
        if !outbox::acquire_lease(&self.db, LEASE, &self.holder, now, ttl).await? {
            return Ok(Round::default());
        }
        let mut round = Round {
            leader: true,
            ..Round::default()
        };
        for m in outbox::due(&self.db, now, self.config.batch).await? {
            match sender.send(&m).await {
                Ok(()) => {
                    outbox::mark_sent(&self.db, &m.id, now_ms()).await?;
                    tracing::info!(mail = %m.id, kind = %m.kind, "e-mail sent");
                    round.sent += 1;
                }
                Err(e) => {
                    let attempt = m.attempts + 1;
                    let retry_at = (!e.permanent && attempt < self.config.max_attempts)
                        .then(|| now_ms() + self.config.backoff(attempt).as_millis() as i64);
                    outbox::mark_failed(&self.db, &m.id, &truncate(&e.message, 500), retry_at).await?;
                    match retry_at {
                        Some(_) => {
                            tracing::warn!(mail = %m.id, attempt, error = %e.message, "e-mail not sent; will retry");
                            round.retried += 1;
                        }
                        None => {
                            tracing::error!(mail = %m.id, attempt, error = %e.message, "e-mail not sent; giving up");
                            round.failed += 1;
                        }
                    }
                }
            }
        }
        Ok(round)
    }

    /// Runs rounds until `stop`: right after a local `queue`, when the next message falls due, and at least
    /// every `poll` (to renew the lease and see other replicas' messages). Gives the lease up on stop.
    pub fn start(self: &Arc<Self>, stop: CancellationToken) -> Option<tokio::task::JoinHandle<()>> {
        if !self.enabled() {
            return None;
        }
        let me = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let leader = match me.run_once().await {
                    Ok(round) => round.leader,
                    Err(e) => {
                        tracing::warn!(error = %e, "the e-mail sender could not run a round");
                        false
                    }
                };
                // The holder sleeps until the next message is due (at most `poll`); the others only look
                // for an expired lease every `poll`.
                let wait = match (leader, outbox::next_due(&me.db).await) {
                    (true, Ok(Some(at))) => Duration::from_millis((at - now_ms()).clamp(0, i64::MAX) as u64),
                    _ => me.config.poll,
                }
                .max(Duration::from_millis(50))
                .min(me.config.poll);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = me.wake.notified() => {}
                    () = stop.cancelled() => break,
                }
            }
            if let Err(e) = outbox::release_lease(&me.db, LEASE, &me.holder).await {
                tracing::warn!(error = %e, "cannot release the e-mail sender's lease");
            }
        }))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let c = WorkerConfig::default();
        assert_eq!(c.backoff(1), Duration::from_secs(30));
        assert_eq!(c.backoff(2), Duration::from_secs(60));
        assert_eq!(c.backoff(4), Duration::from_secs(240));
        assert_eq!(c.backoff(9), Duration::from_secs(3600));
        assert_eq!(c.backoff(1000), Duration::from_secs(3600));
    }
}
