//! Group commit of sends, on both backends: sends queue here; a worker takes all that are
//! waiting, hands them to the backend as one batch (one transaction, a few statements, one
//! commit), and only then answers each. Every acknowledged message is as durable as with a
//! commit of its own, and a busy node pays one commit (one fsync) per batch, not per message.
//!
//! Starts (a trainer's first message, which may create the conversation) queue here too, and
//! are committed by the same workers after each batch of sends, all of a batch's starts at once
//! (one transaction each; SQLite's writer commits them together).
//!
//! The worker publishes each new message (`Event::MessageSent`) as soon as its batch is
//! committed, in commit order, before answering: this is the one place a new message is
//! announced, and sockets then get a conversation's messages in
//! order without filling gaps from the store, and a recipient's copy does not wait for the
//! sender's task to be scheduled (measured: at 2,000 messages a second, publishing from each
//! sender's task instead tripled the median delivery time).
//!
//! The backend says how many batches may be in flight at once ([`super::Database::writers`]):
//! one on SQLite (it has one writer); a few on PostgreSQL, where batches that meet in a
//! conversation are ordered by its row lock.

use std::sync::Arc;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{Dispatch, Result, StartSend, Started, StoreError};
use crate::clock::Clock;
use crate::domain::events::{Event, Publisher};
use crate::domain::model::ConversationRef;
use crate::domain::plan::{Append, Appended};

/// Sends taken in one transaction at most.
const MAX_BATCH: usize = 512;

enum Work {
    Send(Box<Append>, oneshot::Sender<Result<Appended>>),
    Start(Arc<StartSend>, oneshot::Sender<Result<Started>>),
}

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Work>,
}

impl Committer {
    pub(super) async fn spawn(backend: Dispatch, clock: Clock, events: Publisher) -> Self {
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
        let (reply, answer) = oneshot::channel();
        self.queue(Work::Send(Box::new(send), reply), answer).await
    }

    /// Starts a conversation with its first message, in a transaction of its own taken between
    /// batches; returns once committed (and the message, if new, published).
    pub async fn start(&self, start: StartSend) -> Result<Started> {
        let (reply, answer) = oneshot::channel();
        self.queue(Work::Start(Arc::new(start), reply), answer)
            .await
    }

    async fn queue<T>(&self, work: Work, answer: oneshot::Receiver<Result<T>>) -> Result<T> {
        let stopped = || StoreError::Unavailable("the writer has stopped".into());
        self.tx.send(work).await.map_err(|_| stopped())?;
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
            let mut sends = Vec::with_capacity(work.len());
            let mut replies = Vec::with_capacity(work.len());
            let mut starts = Vec::new();
            for w in work.drain(..) {
                match w {
                    Work::Send(send, reply) => {
                        sends.push(*send);
                        replies.push(reply);
                    }
                    Work::Start(start, reply) => starts.push((start, reply)),
                }
            }
            if !sends.is_empty() {
                self.batch(sends, replies).await;
            }
            // A batch's starts go together: on SQLite the writer commits them in one
            // transaction (one fsync, not one each), on PostgreSQL each takes a connection of
            // its own. Each is announced as it commits.
            let this = &self;
            let mut pending: FuturesUnordered<_> = starts
                .into_iter()
                .map(|(start, reply)| async move {
                    (this.backend.start(start, this.clock.now()).await, reply)
                })
                .collect();
            while let Some((started, reply)) = pending.next().await {
                if let Ok(s) = &started {
                    self.announce(s.conversation, &s.appended);
                }
                let _ = reply.send(started);
            }
        }
    }

    async fn batch(&self, sends: Vec<Append>, replies: Vec<oneshot::Sender<Result<Appended>>>) {
        let sends = Arc::new(sends);
        let n = sends.len();
        let results = match self
            .backend
            .append_batch(sends.clone(), self.clock.now())
            .await
        {
            Ok(results) => results,
            Err(e) => {
                tracing::warn!(error = %e, sends = n, "group commit failed");
                (0..n).map(|_| Err(for_each(&e))).collect()
            }
        };
        for ((send, reply), result) in sends.iter().zip(replies).zip(results) {
            if let Ok(appended) = &result {
                self.announce(send.conversation, appended);
            }
            let _ = reply.send(result);
        }
    }

    /// A message just committed, if new: counted and published.
    fn announce(&self, conversation: ConversationRef, appended: &Appended) {
        if let Appended::New(message) = appended {
            metrics::counter!(crate::metrics::MESSAGES_SENT).increment(1);
            self.events.publish(Event::MessageSent {
                conversation,
                message: message.clone(),
            });
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
