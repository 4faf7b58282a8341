//! Group commit of sends, on both backends: sends queue here; one task takes all that are
//! waiting, writes them in one transaction with a handful of statements, commits once, and only
//! then answers each. Every acknowledged message is as durable as with a commit of its own, and
//! a busy node pays one commit (one fsync) and a few statements per batch, not per message.
//!
//! A batch reads each conversation's position once and decides each send in memory (archived,
//! a retry of a stored message or of one earlier in the batch, or new with its `seq` and
//! `created_at`: `Tally`), then writes the new messages, their push outbox rows and each
//! conversation's counters.
//!
//! - SQLite runs the batch on its direct writer connection (`store::direct`), on a blocking
//!   thread: a statement there is a call on a cached prepared statement, not a round trip to
//!   sqlx's connection thread. A new message and its outbox row are written in a savepoint of
//!   their own, so one failing send fails alone. Delivered marks (`domain::delivery`) ride in
//!   the same transactions: a receipt costs no commit of its own.
//! - PostgreSQL locks the batch's conversations (in id order) before anything else: that keeps
//!   ids committing in order within a conversation across nodes, and makes a retry stored by
//!   another node's batch visible to this one's idempotency read. Then it writes with multi-row
//!   statements. Should one fail on the data (a sender deleted meanwhile, say), the batch is
//!   rolled back and each send stored alone, so that one bad send fails alone.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::bus::Bus;
use crate::clock::{Micros, now_micros};
use crate::domain::events;
use crate::domain::input::ClientMessageId;
use crate::domain::messaging::{Append, Stored};
use crate::domain::model::{ConversationId, Message, UserId};
use crate::error::{Error, Result};
use crate::store::conversations::{self, AfterSends, SendState};
use crate::store::messages::NewMessage;
use crate::store::{Db, direct, messages, outbox};

/// Sends taken in one transaction at most.
const MAX_BATCH: usize = 512;

/// Delivered marks `(conversation, recipient, up_to)` riding with the next batch; answered with
/// `(conversation, sender)` of each message marked.
type MarkReply = oneshot::Sender<Result<Vec<(ConversationId, Option<UserId>)>>>;

type Marks = Vec<(ConversationId, UserId, i64)>;

enum Work {
    Send(Append, oneshot::Sender<Result<Stored>>),
    Mark(Marks, Micros, MarkReply),
}

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Work>,
}

/// Batches in flight at once on PostgreSQL: while one waits on its round trips and commit, the
/// next is already being written (conversation locks keep them in order where they meet).
/// SQLite has one writer: one batch at a time.
const PG_WORKERS: usize = 4;

impl Committer {
    pub fn start(db: Db, bus: Bus) -> Self {
        let (tx, rx) = mpsc::channel(8 * MAX_BATCH);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let workers = if db.direct().is_some() { 1 } else { PG_WORKERS };
        for _ in 0..workers {
            tokio::spawn(run(db.clone(), bus.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Stores one send with the next batch; returns once that batch is committed.
    pub(crate) async fn store(&self, append: Append) -> Result<Stored> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Work::Send(append, reply))
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

async fn run(db: Db, bus: Bus, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Work>>>) {
    let mut work = Vec::with_capacity(MAX_BATCH);
    // The queue is held only while taking a batch: the next worker takes the next one.
    while rx.lock().await.recv_many(&mut work, MAX_BATCH).await > 0 {
        let (mut sends, mut replies) = (Vec::new(), Vec::new());
        let (mut marks, mut mark_replies) = (Vec::new(), Vec::new());
        for w in work.drain(..) {
            match w {
                Work::Send(append, reply) => {
                    sends.push(append);
                    replies.push(reply);
                }
                Work::Mark(m, now, reply) => {
                    marks.push((m, now));
                    mark_replies.push(reply);
                }
            }
        }
        let sends = Arc::new(sends);
        let written = if db.direct().is_some() {
            let (batch, marking) = (sends.clone(), Arc::new(marks));
            db.write_direct(move |tx| write(tx, &batch, &marking))
                .await
                .map_err(Error::from)
        } else {
            // Marks come here on SQLite only (`delivery` writes PostgreSQL's itself).
            let none: Marked = marks.iter().map(|_| Ok(Vec::new())).collect();
            write_pg(&db, &sends).await.map(|results| (results, none))
        };
        let (results, marked) = match written {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!(error = %e, sends = sends.len(), "group commit failed");
                let results = sends.iter().map(|_| Err(for_each(&e))).collect();
                (
                    results,
                    mark_replies.iter().map(|_| Err(for_each(&e))).collect(),
                )
            }
        };
        for (reply, result) in mark_replies.into_iter().zip(marked) {
            let _ = reply.send(result);
        }
        for ((append, reply), result) in sends.iter().zip(replies).zip(results) {
            if let Ok(Stored::New(m)) = &result {
                bus.publish(events::new_message(&append.conversation, m));
                metrics::counter!(crate::metrics::MESSAGES_SENT).increment(1);
            }
            let _ = reply.send(result);
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

/// The whole batch, inside the writer's transaction (see the module doc). An `Err` fails the
/// batch (nothing is committed); a send or a mark request that fails alone gets its own error.
fn write(
    tx: &mut rusqlite::Transaction<'_>,
    sends: &[Append],
    marks: &[(Marks, Micros)],
) -> rusqlite::Result<(Vec<Result<Stored>>, Marked)> {
    let mut tally = Tally::new();
    let mut positions: HashMap<ConversationId, Option<SendState>> = HashMap::new();
    let mut new: Vec<Message> = Vec::new();
    let mut in_batch: HashMap<(ConversationId, UserId, &str), usize> = HashMap::new();
    let mut results = Vec::with_capacity(sends.len());
    for a in sends {
        let id = a.conversation.id;
        let state = match positions.entry(id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(conversations::direct::send_state(tx, id)?),
        };
        let Some(at) = state.as_mut().filter(|p| !p.archived) else {
            results.push(Ok(Stored::Archived));
            continue;
        };
        let key = a.cmid.as_ref().map(|c| (id, a.sender.id, c.as_str()));
        if let Some(key) = key {
            if let Some(&n) = in_batch.get(&key) {
                results.push(Ok(Stored::Replay(new[n].clone())));
                continue;
            }
            if let Some(m) = messages::direct::by_client_id(tx, key.0, key.1, key.2)? {
                results.push(Ok(Stored::Replay(m)));
                continue;
            }
        }
        let row = tally.next(a, at);
        let created_at = row.created_at;
        let sp = tx.savepoint()?;
        let written = messages::direct::insert(&sp, &row).and_then(|message| {
            if let Some(recipient) = a.conversation.other_party(a.sender.id) {
                outbox::direct::enqueue(&sp, message, id, recipient, created_at)?;
            }
            Ok(message)
        });
        let message = match written {
            Ok(message) => {
                sp.commit()?;
                message
            }
            Err(e) => {
                // Dropping the savepoint rolls this send back; the others go on.
                drop(sp);
                results.push(Err(Error::from(direct::to_sqlx(e))));
                continue;
            }
        };
        tally.record(a, at, &row);
        if let Some(key) = key {
            in_batch.insert(key, new.len());
        }
        let m = a.stored(message, row.seq, created_at);
        new.push(m.clone());
        results.push(Ok(Stored::New(m)));
    }
    for c in tally.after.values() {
        conversations::direct::apply_sends(tx, c)?;
    }
    // Delivered marks after the sends: a mark may cover a message of this very batch.
    let mut marked = Vec::with_capacity(marks.len());
    for (request, at) in marks {
        let sp = tx.savepoint()?;
        let mut done = Vec::new();
        let outcome = request.iter().try_for_each(|&(c, recipient, up_to)| {
            messages::direct::mark_delivered(&sp, c, recipient, up_to, *at, &mut done)
        });
        marked.push(match outcome {
            Ok(()) => {
                sp.commit()?;
                Ok(done)
            }
            Err(e) => Err(Error::from(direct::to_sqlx(e))),
        });
    }
    Ok((results, marked))
}

/// A batch's bookkeeping of positions: where each new message lands, and what each
/// conversation's row says after the batch.
struct Tally {
    now: Micros,
    after: BTreeMap<ConversationId, AfterSends>,
}

impl Tally {
    fn new() -> Self {
        Self {
            now: now_micros(),
            after: BTreeMap::new(),
        }
    }

    /// The row for a new message of `a` in a conversation standing at `at`. As
    /// `conversations::bump_for_send`: `created_at` never goes backwards in a conversation.
    fn next<'a>(&self, a: &'a Append, at: &SendState) -> NewMessage<'a> {
        let created_at = match at.last_message_at {
            Some(last) if last >= self.now => last + 1,
            _ => self.now,
        };
        NewMessage {
            conversation_id: a.conversation.id,
            seq: at.message_count + 1,
            sender: a.sender.id,
            content: a.body.as_str(),
            client_message_id: a.cmid.as_ref().map(ClientMessageId::as_str),
            created_at,
        }
    }

    /// Counts `row` (stored) in its conversation.
    fn record(&mut self, a: &Append, at: &mut SendState, row: &NewMessage<'_>) {
        at.last_message_at = Some(row.created_at);
        at.message_count = row.seq;
        let c = self
            .after
            .entry(row.conversation_id)
            .or_insert_with(|| AfterSends {
                id: row.conversation_id,
                last_message_at: row.created_at,
                preview: String::new(),
                message_count: 0,
                trainer_unread_added: 0,
                trainee_unread_added: 0,
            });
        c.last_message_at = row.created_at;
        c.message_count = row.seq;
        c.preview = a.body.preview();
        if a.sender_is_trainer() {
            c.trainee_unread_added += 1;
        } else {
            c.trainer_unread_added += 1;
        }
    }
}

/// What becomes of one send of a PostgreSQL batch.
enum Plan {
    /// The `n`th new row.
    New(usize),
    /// A retry of a message stored before this batch.
    Replay(Message),
    /// A retry of the `n`th new row of this batch.
    RetryOfNew(usize),
    Archived,
}

/// The batch on PostgreSQL (see the module doc); each send stored alone if a batch statement
/// fails for a reason of the data, not of the connection (which would fail them all again).
async fn write_pg(db: &Db, sends: &[Append]) -> Result<Vec<Result<Stored>>> {
    match write_pg_batch(db, sends).await {
        Err(Error::Internal(e))
            if e.downcast_ref::<sqlx::Error>()
                .is_some_and(|e| matches!(e, sqlx::Error::Database(_))) =>
        {
            tracing::debug!(error = %e, sends = sends.len(), "batch write failed; one by one");
            let mut results = Vec::with_capacity(sends.len());
            for a in sends {
                results.push(crate::domain::messaging::store_alone(db, a).await);
            }
            Ok(results)
        }
        other => other,
    }
}

async fn write_pg_batch(db: &Db, sends: &[Append]) -> Result<Vec<Result<Stored>>> {
    let mut w = db.begin_write().await?;
    let ids: Vec<ConversationId> = sends
        .iter()
        .map(|a| a.conversation.id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut states = conversations::pg::lock_for_sends(&mut w.tx, &ids).await?;
    let keys: Vec<(ConversationId, UserId, &str)> = sends
        .iter()
        .filter_map(|a| {
            a.cmid
                .as_ref()
                .map(|c| (a.conversation.id, a.sender.id, c.as_str()))
        })
        .collect();
    let stored: HashMap<(ConversationId, UserId, String), Message> = if keys.is_empty() {
        HashMap::new()
    } else {
        messages::pg::by_client_ids(&mut w.tx, &keys)
            .await?
            .into_iter()
            .filter_map(|m| {
                let key = (
                    m.conversation_id,
                    m.sender.as_ref()?.id,
                    m.client_message_id.clone()?,
                );
                Some((key, m))
            })
            .collect()
    };

    let mut tally = Tally::new();
    let mut plans = Vec::with_capacity(sends.len());
    let mut rows: Vec<NewMessage<'_>> = Vec::with_capacity(sends.len());
    let mut row_send = Vec::with_capacity(sends.len());
    let mut in_batch: HashMap<(ConversationId, UserId, &str), usize> = HashMap::new();
    for (j, a) in sends.iter().enumerate() {
        let Some(at) = states.get_mut(&a.conversation.id).filter(|p| !p.archived) else {
            plans.push(Plan::Archived);
            continue;
        };
        let key = a
            .cmid
            .as_ref()
            .map(|c| (a.conversation.id, a.sender.id, c.as_str()));
        if let Some(key) = key {
            if !stored.is_empty()
                && let Some(m) = stored.get(&(key.0, key.1, key.2.to_owned()))
            {
                plans.push(Plan::Replay(m.clone()));
                continue;
            }
            if let Some(&n) = in_batch.get(&key) {
                plans.push(Plan::RetryOfNew(n));
                continue;
            }
            in_batch.insert(key, rows.len());
        }
        let row = tally.next(a, at);
        tally.record(a, at, &row);
        plans.push(Plan::New(rows.len()));
        row_send.push(j);
        rows.push(row);
    }

    let written: HashMap<(ConversationId, i64), i64> = messages::pg::insert_many(&mut w.tx, &rows)
        .await?
        .into_iter()
        .map(|(c, seq, id)| ((c, seq), id))
        .collect();
    let mut new = Vec::with_capacity(rows.len());
    let mut pushes = Vec::with_capacity(rows.len());
    for (row, &j) in rows.iter().zip(&row_send) {
        let a = &sends[j];
        let id = *written
            .get(&(row.conversation_id, row.seq))
            .ok_or_else(|| anyhow::anyhow!("an inserted message was not returned"))?;
        if let Some(recipient) = a.conversation.other_party(a.sender.id) {
            pushes.push((id, row.conversation_id, recipient, row.created_at));
        }
        new.push(a.stored(id, row.seq, row.created_at));
    }
    outbox::pg::enqueue_many(&mut w.tx, &pushes).await?;
    conversations::pg::apply_sends(&mut w.tx, &tally.after.into_values().collect::<Vec<_>>())
        .await?;
    w.commit().await?;
    Ok(plans
        .into_iter()
        .map(|plan| {
            Ok(match plan {
                Plan::New(n) => Stored::New(new[n].clone()),
                Plan::RetryOfNew(n) => Stored::Replay(new[n].clone()),
                Plan::Replay(m) => Stored::Replay(m),
                Plan::Archived => Stored::Archived,
            })
        })
        .collect())
}
