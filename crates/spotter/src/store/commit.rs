//! Group commit of sends, on both backends: sends queue here; a worker takes all that are
//! waiting, hands them to the backend as one batch (one transaction, a few statements, one
//! commit), and only then answers each. Every acknowledged message is as durable as with a
//! commit of its own, and a busy node pays one commit (one fsync) per batch, not per message.
//!
//! The worker publishes each new message (`Event::MessageSent`) as soon as its batch is
//! committed, in commit order, before answering: sockets then get a conversation's messages in
//! order without filling gaps from the store, and a recipient's copy does not wait for the
//! sender's task to be scheduled (measured: at 2,000 messages a second, publishing from each
//! sender's task instead tripled the median delivery time).
//!
//! The backend says how many batches may be in flight at once ([`super::Database::writers`]):
//! one on SQLite (it has one writer); a few on PostgreSQL, where batches that meet in a
//! conversation are ordered by its row lock.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{Dispatch, Result, StoreError};
use crate::clock::Clock;
use crate::domain::events::{Event, Publisher};
use crate::domain::plan::{Append, Appended};

/// Sends taken in one transaction at most.
const MAX_BATCH: usize = 512;

type Work = (Append, oneshot::Sender<Result<Appended>>);

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Work>,
}

impl Committer {
    pub(super) async fn start(backend: Dispatch, clock: Clock, events: Publisher) -> Self {
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..backend.writers().await.max(1) {
            let worker = Worker {
                backend: backend.clone(),
                clock: clock.clone(),
                events: events.clone(),
            };
            tokio::spawn(worker.run(rx.clone()));
        }
        Self { tx }
    }

    /// Stores one send with the next batch; returns once that batch is committed (and the new
    /// message published).
    pub async fn append(&self, send: Append) -> Result<Appended> {
        let stopped = || StoreError::Unavailable("the writer has stopped".into());
        let (reply, answer) = oneshot::channel();
        self.tx.send((send, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

struct Worker {
    backend: Dispatch,
    clock: Clock,
    events: Publisher,
}

impl Worker {
    async fn run(self, rx: Arc<Mutex<mpsc::Receiver<Work>>>) {
        let mut work = Vec::with_capacity(MAX_BATCH);
        // The queue is held only while taking a batch: the next worker takes the next one.
        while rx.lock().await.recv_many(&mut work, MAX_BATCH).await > 0 {
            let (sends, replies): (Vec<Append>, Vec<_>) = work.drain(..).unzip();
            let sends = Arc::new(sends);
            let n = sends.len();
            let now = self.clock.now();
            let results = match self.backend.append_batch(sends.clone(), now).await {
                Ok(results) => results,
                Err(e) => {
                    tracing::warn!(error = %e, sends = n, "group commit failed");
                    (0..n).map(|_| Err(for_each(&e))).collect()
                }
            };
            for ((send, reply), result) in sends.iter().zip(replies).zip(results) {
                if let Ok(Appended::New(message)) = &result {
                    metrics::counter!(crate::metrics::MESSAGES_SENT).increment(1);
                    self.events.publish(Event::MessageSent {
                        conversation: send.conversation,
                        message: message.clone(),
                    });
                }
                let _ = reply.send(result);
            }
        }
    }
}

/// The same failure for every send of a batch whose commit failed.
fn for_each(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Full(m) => StoreError::Full(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Other(e) => StoreError::Other(anyhow::anyhow!("batch commit failed: {e:#}")),
    }
}
