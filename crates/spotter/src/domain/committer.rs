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

async fn run(db: Db, bus: Bus, mut rx: mpsc::Receiver<Work>) {
    let mut work = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut work, MAX_BATCH).await > 0 {
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
        let (batch, marking) = (sends.clone(), Arc::new(marks));
        let written = db.write_direct(move |tx| write(tx, &batch, &marking)).await;
        let (results, marked) = match written {
            Ok(done) => done,
            Err(e) => {
                let e = Error::from(e);
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
    let now = now_micros();
    let mut positions: HashMap<ConversationId, Option<SendState>> = HashMap::new();
    let mut after: BTreeMap<ConversationId, AfterSends> = BTreeMap::new();
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
        // As `conversations::bump_for_send`: created_at never goes backwards in a conversation.
        let created_at = match at.last_message_at {
            Some(last) if last >= now => last + 1,
            _ => now,
        };
        let row = NewMessage {
            conversation_id: id,
            seq: at.message_count + 1,
            sender: a.sender.id,
            content: a.body.as_str(),
            client_message_id: a.cmid.as_ref().map(ClientMessageId::as_str),
            created_at,
        };
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
        at.last_message_at = Some(created_at);
        at.message_count = row.seq;
        let c = after.entry(id).or_insert_with(|| AfterSends {
            id,
            last_message_at: created_at,
            preview: String::new(),
            message_count: 0,
            trainer_unread_added: 0,
            trainee_unread_added: 0,
        });
        c.last_message_at = created_at;
        c.message_count = row.seq;
        c.preview = a.body.preview();
        if a.sender_is_trainer() {
            c.trainee_unread_added += 1;
        } else {
            c.trainer_unread_added += 1;
        }
        if let Some(key) = key {
            in_batch.insert(key, new.len());
        }
        let m = a.stored(message, row.seq, created_at);
        new.push(m.clone());
        results.push(Ok(Stored::New(m)));
    }
    for c in after.values() {
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
