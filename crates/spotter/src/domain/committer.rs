//! Group commit for SQLite. SQLite has one writer and `synchronous=FULL` makes every commit an
//! fsync, so one transaction per message caps throughput at the disk's fsync rate. Instead,
//! sends queue here; one task takes all that are waiting, runs each in its own savepoint (one
//! failing send does not undo the others), commits once, and only then answers each: every
//! acknowledged message is as durable as before, with one fsync for the whole batch.
//!
//! A batch is written with a handful of multi-row statements, not a few per send: read every
//! conversation's position and any reused `client_message_id` first (the writer lock holds
//! them still), decide each send in memory (archived, a retry, or new with its `seq` and
//! `created_at`), then insert all messages, all push outbox rows and all conversation bumps at
//! once. Should a batch statement fail, the batch is rolled back and taken again one send per
//! savepoint, so one bad send cannot fail the others.
//!
//! Delivered marks (`domain::delivery`) ride in the same transactions: on a busy node a
//! receipt costs no commit of its own and never waits for the writer behind a batch.
//!
//! PostgreSQL does not come here: its concurrent commits already share WAL flushes, and one
//! writer would serialise the statement round trips instead.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{Acquire, AnyConnection};
use tokio::sync::{mpsc, oneshot};

use crate::bus::Bus;
use crate::clock::{Micros, now_micros};
use crate::domain::events;
use crate::domain::input::ClientMessageId;
use crate::domain::messaging::{Append, Appended, Stored, append};
use crate::domain::model::{ConversationId, UserId};
use crate::error::{Error, Result};
use crate::store::conversations::{self, AfterSends};
use crate::store::messages::NewMessage;
use crate::store::{Db, messages, outbox};

/// Sends taken in one transaction at most.
const MAX_BATCH: usize = 512;

struct Job {
    append: Append,
    reply: oneshot::Sender<Result<Stored>>,
}

/// Delivered marks `(conversation, recipient, up_to)` riding with the next batch; answered with
/// `(conversation, sender)` of each message marked.
type MarkReply = oneshot::Sender<Result<Vec<(ConversationId, Option<UserId>)>>>;

/// One request of delivered marks: the marks, their time, where to answer.
type MarkRequest = (Vec<(ConversationId, UserId, i64)>, Micros, MarkReply);

enum Work {
    Send(Job),
    Mark(Vec<(ConversationId, UserId, i64)>, Micros, MarkReply),
}

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Work>,
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
            .send(Work::Send(Job { append, reply }))
            .await
            .map_err(|_| Error::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the writer has stopped".into()))?
    }

    /// Marks messages delivered in the next batch's transaction (no commit of their own);
    /// returns `(conversation, sender)` of each message marked.
    pub(crate) async fn mark_delivered(
        &self,
        marks: Vec<(ConversationId, UserId, i64)>,
        now: Micros,
    ) -> Result<Vec<(ConversationId, Option<UserId>)>> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Work::Mark(marks, now, reply))
            .await
            .map_err(|_| Error::Unavailable("the writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Unavailable("the writer has stopped".into()))?
    }
}

async fn run(db: Db, bus: Bus, mut rx: mpsc::Receiver<Work>) {
    let mut work = Vec::with_capacity(MAX_BATCH);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut marks = Vec::new();
    while rx.recv_many(&mut work, MAX_BATCH).await > 0 {
        for w in work.drain(..) {
            match w {
                Work::Send(job) => batch.push(job),
                Work::Mark(m, now, reply) => marks.push((m, now, reply)),
            }
        }
        let (results, marked) = commit(&db, &batch, &marks).await;
        for ((_, _, reply), result) in marks.drain(..).zip(marked) {
            let _ = reply.send(result);
        }
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

/// What the batch's delivered marks did: per mark request, the messages marked.
type Marked = Vec<Result<Vec<(ConversationId, Option<UserId>)>>>;

async fn commit(db: &Db, jobs: &[Job], marks: &[MarkRequest]) -> (Vec<Result<Stored>>, Marked) {
    let fail_marks = |e: &Error| marks.iter().map(|_| Err(for_each(e))).collect::<Marked>();
    let mut w = match db.begin_write().await {
        Ok(w) => w,
        Err(e) => {
            let e = Error::from(e);
            return (fail_all(jobs, &e), fail_marks(&e));
        }
    };
    let results = match batch(&mut w.tx, jobs).await {
        Ok(results) => results,
        Err(e) => {
            tracing::debug!(error = %e, sends = jobs.len(), "batch write failed; one by one");
            let _ = w.rollback().await;
            w = match db.begin_write().await {
                Ok(w) => w,
                Err(e) => {
                    let e = Error::from(e);
                    return (fail_all(jobs, &e), fail_marks(&e));
                }
            };
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                results.push(one(&mut w.tx, &job.append).await);
            }
            results
        }
    };
    // Delivered marks after the sends: a mark may cover a message of this very batch.
    let mut marked = Vec::with_capacity(marks.len());
    for (m, at, _) in marks {
        marked.push(
            messages::mark_delivered_many(&mut w.tx, m, *at)
                .await
                .map_err(Error::from),
        );
    }
    match w.commit().await {
        Ok(()) => (results, marked),
        Err(e) => {
            let e = Error::from(e);
            tracing::warn!(error = %e, sends = jobs.len(), "group commit failed");
            (fail_all(jobs, &e), fail_marks(&e))
        }
    }
}

fn fail_all(jobs: &[Job], e: &Error) -> Vec<Result<Stored>> {
    jobs.iter().map(|_| Err(for_each(e))).collect()
}

/// What becomes of one send of a batch.
enum Plan {
    /// The `n`th new row.
    New(usize),
    /// A retry of a message stored before this batch.
    RetryOfStored,
    /// A retry of the `n`th new row of this batch.
    RetryOfNew(usize),
    Archived,
}

/// The whole batch in a few multi-row statements (see the module doc).
async fn batch(conn: &mut AnyConnection, jobs: &[Job]) -> Result<Vec<Result<Stored>>> {
    let now = now_micros();
    let ids: Vec<ConversationId> = jobs
        .iter()
        .map(|j| j.append.conversation.id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut positions = conversations::send_states(conn, &ids).await?;
    let keys: Vec<(ConversationId, UserId, &str)> = jobs
        .iter()
        .filter_map(|j| {
            let a = &j.append;
            a.cmid
                .as_ref()
                .map(|c| (a.conversation.id, a.sender.id, c.as_str()))
        })
        .collect();
    let stored: HashSet<(ConversationId, UserId, String)> = if keys.is_empty() {
        HashSet::new()
    } else {
        messages::existing_client_ids(conn, &keys)
            .await?
            .into_iter()
            .collect()
    };

    let mut plans = Vec::with_capacity(jobs.len());
    let mut rows: Vec<NewMessage<'_>> = Vec::with_capacity(jobs.len());
    let mut row_job = Vec::with_capacity(jobs.len());
    let mut in_batch: HashMap<(ConversationId, UserId, &str), usize> = HashMap::new();
    let mut after: BTreeMap<ConversationId, AfterSends> = BTreeMap::new();
    for (j, job) in jobs.iter().enumerate() {
        let a = &job.append;
        let Some(at) = positions
            .get_mut(&a.conversation.id)
            .filter(|p| !p.archived)
        else {
            plans.push(Plan::Archived);
            continue;
        };
        if let Some(cmid) = &a.cmid {
            let key = (a.conversation.id, a.sender.id, cmid.as_str());
            // (Checked only when a retry is known to exist: the lookup key is an owned copy.)
            if !stored.is_empty() && stored.contains(&(key.0, key.1, key.2.to_owned())) {
                plans.push(Plan::RetryOfStored);
                continue;
            }
            if let Some(&n) = in_batch.get(&key) {
                plans.push(Plan::RetryOfNew(n));
                continue;
            }
            in_batch.insert(key, rows.len());
        }
        // As `conversations::bump_for_send`: created_at never goes backwards in a conversation.
        let created_at = match at.last_message_at {
            Some(last) if last >= now => last + 1,
            _ => now,
        };
        at.last_message_at = Some(created_at);
        at.message_count += 1;
        let c = after
            .entry(a.conversation.id)
            .or_insert_with(|| AfterSends {
                id: a.conversation.id,
                last_message_at: created_at,
                preview: String::new(),
                message_count: 0,
                trainer_unread_added: 0,
                trainee_unread_added: 0,
            });
        c.last_message_at = created_at;
        c.message_count = at.message_count;
        c.preview = a.body.preview();
        if a.sender_is_trainer() {
            c.trainee_unread_added += 1;
        } else {
            c.trainer_unread_added += 1;
        }
        plans.push(Plan::New(rows.len()));
        row_job.push(j);
        rows.push(NewMessage {
            conversation_id: a.conversation.id,
            seq: at.message_count,
            sender: a.sender.id,
            content: a.body.as_str(),
            client_message_id: a.cmid.as_ref().map(ClientMessageId::as_str),
            created_at,
        });
    }

    let written: HashMap<(ConversationId, i64), i64> = messages::insert_many(conn, &rows)
        .await?
        .into_iter()
        .map(|(c, seq, id)| ((c, seq), id))
        .collect();
    let mut new = Vec::with_capacity(rows.len());
    let mut pushes = Vec::with_capacity(rows.len());
    for (row, &j) in rows.iter().zip(&row_job) {
        let a = &jobs[j].append;
        let id = *written
            .get(&(row.conversation_id, row.seq))
            .ok_or_else(|| anyhow::anyhow!("an inserted message was not returned"))?;
        if let Some(recipient) = a.conversation.other_party(a.sender.id) {
            pushes.push((id, row.conversation_id, recipient, row.created_at));
        }
        new.push(a.stored(id, row.seq, row.created_at));
    }
    outbox::enqueue_many(conn, &pushes).await?;
    conversations::apply_sends(conn, &after.into_values().collect::<Vec<_>>()).await?;

    let mut results = Vec::with_capacity(jobs.len());
    for (plan, job) in plans.into_iter().zip(jobs) {
        results.push(match plan {
            Plan::New(n) => Ok(Stored::New(new[n].clone())),
            Plan::RetryOfNew(n) => Ok(Stored::Replay(new[n].clone())),
            Plan::Archived => Ok(Stored::Archived),
            Plan::RetryOfStored => {
                let a = &job.append;
                let cmid = a
                    .cmid
                    .as_ref()
                    .map(ClientMessageId::as_str)
                    .unwrap_or_default();
                messages::by_client_id(&mut *conn, a.conversation.id, a.sender.id, cmid)
                    .await?
                    .map(Stored::Replay)
                    .ok_or_else(|| anyhow::anyhow!("idempotent message vanished").into())
            }
        });
    }
    Ok(results)
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
