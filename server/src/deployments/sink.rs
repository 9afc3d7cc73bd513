//! Batches a run's output lines into event appends: OpenTofu can print hundreds of lines a second, and one
//! transaction per batch (up to [`BATCH`] events or [`LINGER`]) keeps the database cost per line low while
//! the page still sees lines within a fraction of a second. Every message passes the [`Redactor`].

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Engine;
use super::redact::Redactor;
use crate::db::deployment_events::{Effect, NewEvent};

pub const BATCH: usize = 256;
pub const LINGER: Duration = Duration::from_millis(50);

pub struct EventSink {
    tx: Option<mpsc::UnboundedSender<(NewEvent, Option<Effect>)>>,
    task: JoinHandle<()>,
}

impl EventSink {
    pub fn new(engine: Engine, id: String, redactor: Redactor) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(NewEvent, Option<Effect>)>();
        let task = tokio::spawn(async move {
            let mut events = Vec::with_capacity(BATCH);
            let mut effects = Vec::new();
            loop {
                let Some(first) = rx.recv().await else { break };
                push(&mut events, &mut effects, first, &redactor);
                let deadline = tokio::time::sleep(LINGER);
                tokio::pin!(deadline);
                while events.len() < BATCH {
                    tokio::select! {
                        next = rx.recv() => match next {
                            Some(item) => push(&mut events, &mut effects, item, &redactor),
                            None => break,
                        },
                        () = &mut deadline => break,
                    }
                }
                if let Err(e) = engine.append(&id, &events, &effects).await {
                    tracing::warn!(deployment = %id, error = %e, lost = events.len(), "cannot store run output");
                }
                events.clear();
                effects.clear();
            }
        });
        Self { tx: Some(tx), task }
    }

    pub fn push(&self, event: NewEvent, effect: Option<Effect>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((event, effect));
        }
    }

    /// Flushes everything pushed so far and stops.
    pub async fn finish(mut self) {
        self.tx.take();
        let _ = (&mut self.task).await;
    }
}

fn push(
    events: &mut Vec<NewEvent>,
    effects: &mut Vec<Effect>,
    (mut e, effect): (NewEvent, Option<Effect>),
    r: &Redactor,
) {
    e.message = r.apply(&e.message);
    events.push(e);
    if let Some(effect) = effect {
        effects.push(effect);
    }
}
