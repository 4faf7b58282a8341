//! Group commit for SQLite. SQLite has one writer and `synchronous=FULL` makes every commit an
//! fsync, so one transaction per message caps throughput at the disk's fsync rate. Instead,
//! sends queue here; one task takes all that are waiting, runs each in its own savepoint (one
//! failing send does not undo the others), commits once, and only then answers each: every
//! acknowledged message is as durable as before, with one fsync for the whole batch.
//!
//! PostgreSQL does not come here: its concurrent commits already share WAL flushes, and one
//! writer would serialise the statement round trips instead.

use sqlx::Acquire;
use tokio::sync::{mpsc, oneshot};

use crate::bus::Bus;
use crate::domain::events;
use crate::domain::input::ClientMessageId;
use crate::domain::messaging::{Append, Appended, Stored, append};
use crate::error::{Error, Result};
use crate::store::{Db, messages};

/// Sends taken in one transaction at most.
const MAX_BATCH: usize = 512;

struct Job {
    append: Append,
    reply: oneshot::Sender<Result<Stored>>,
}

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    pub fn start(db: Db, bus: Bus) -> Self {
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        tokio::spawn(run(db, bus, rx));
        Self { tx }
    }

    /// Stores one send with the next batch; returns once that batch is committed.
    pub(crate) async fn store(&self, append: Append) -> Result<Stored> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { append, reply })
            .await
            .map_err(|_| Error::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the writer has stopped".into()))?
    }
}

async fn run(db: Db, bus: Bus, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let results = commit(&db, &batch).await;
        for (job, result) in batch.drain(..).zip(results) {
            if let Ok(Stored::New(m)) = &result {
                bus.publish(events::new_message(&job.append.conversation, m));
                metrics::counter!(crate::metrics::MESSAGES_SENT).increment(1);
            }
            let _ = job.reply.send(result);
        }
    }
}

/// The same failure for every send of a batch whose commit failed.
fn for_each(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        Error::StorageFull(m) => Error::StorageFull(m.clone()),
        other => Error::Internal(anyhow::anyhow!("batch commit failed: {other}")),
    }
}

async fn commit(db: &Db, jobs: &[Job]) -> Vec<Result<Stored>> {
    let mut w = match db.begin_write().await {
        Ok(w) => w,
        Err(e) => {
            let e = Error::from(e);
            return jobs.iter().map(|_| Err(for_each(&e))).collect();
        }
    };
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(one(&mut w.tx, &job.append).await);
    }
    match w.commit().await {
        Ok(()) => results,
        Err(e) => {
            let e = Error::from(e);
            tracing::warn!(error = %e, sends = jobs.len(), "group commit failed");
            jobs.iter().map(|_| Err(for_each(&e))).collect()
        }
    }
}

async fn one(tx: &mut sqlx::Transaction<'static, sqlx::Any>, a: &Append) -> Result<Stored> {
    let mut sp = tx.begin().await?;
    match append(&mut sp, a).await {
        Ok(Appended::New(m)) => {
            sp.commit().await?;
            Ok(Stored::New(m))
        }
        Ok(Appended::Duplicate) => {
            sp.rollback().await?;
            let cmid = a
                .cmid
                .as_ref()
                .map(ClientMessageId::as_str)
                .unwrap_or_default();
            let m = messages::by_client_id(&mut **tx, a.conversation.id, a.sender.id, cmid)
                .await?
                .ok_or_else(|| anyhow::anyhow!("idempotent message vanished"))?;
            Ok(Stored::Replay(m))
        }
        Ok(Appended::Archived) => {
            sp.rollback().await?;
            Ok(Stored::Archived)
        }
        Err(e) => {
            let _ = sp.rollback().await;
            Err(e)
        }
    }
}
