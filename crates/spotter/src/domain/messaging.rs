//! Conversations and messages: start, send, read, list, count. Checks run in the contract's
//! order (impersonation, content, existence, participation, archive), and each write is one
//! transaction: once it commits, the message is durable and only then acknowledged.

use serde_json::Value;

use crate::clock::{Micros, now_micros};
use crate::domain::input::{ClientMessageId, Fields, MessageBody, required_id};
use crate::domain::model::{
    Conversation, ConversationId, ConversationRef, Message, MessageId, Role, Sender, UserId,
};
use crate::domain::{Actor, events};
use crate::error::{Error, Result, msg};
use crate::state::AppState;
use crate::store::messages::NewMessage;
use crate::store::{Db, conversations, messages, outbox, users};
use sqlx::AnyConnection;

/// A send as it arrives (REST body or socket frame), validated inside [`send`] so the order of
/// checks is the contract's.
pub struct Draft<'a> {
    pub content: Option<&'a Value>,
    pub client_message_id: Option<&'a Value>,
}

impl<'a> Draft<'a> {
    pub fn from_json(v: &'a Value) -> Self {
        Self {
            content: v.get("content"),
            client_message_id: v.get("client_message_id"),
        }
    }

    fn parse(&self, fields: &mut Fields) -> (Option<MessageBody>, Option<ClientMessageId>) {
        let body = fields.take("content", MessageBody::from_json(self.content));
        let cmid = fields
            .take(
                "client_message_id",
                ClientMessageId::from_json(self.client_message_id),
            )
            .flatten();
        (body, cmid)
    }
}

/// A stored message, and whether this call created it (false: an idempotent replay).
pub struct Sent {
    pub message: Message,
    pub created: bool,
    pub conversation: ConversationRef,
}

/// Finds a conversation the actor may see; `for_reading` applies the archive rule for reads
/// (the trainer keeps the history, the trainee loses it).
pub async fn visible(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    for_reading: bool,
) -> Result<ConversationRef> {
    let conv = conversations::get_ref(&state.db, id)
        .await?
        .ok_or(Error::NotFound(msg::CONVERSATION_NOT_FOUND))?;
    if !conv.is_participant(actor.id()) {
        return Err(Error::Forbidden(msg::NO_ACCESS));
    }
    if for_reading && conv.is_archived() && conv.trainer_id != actor.id() {
        return Err(Error::Forbidden(msg::ARCHIVED_READ));
    }
    Ok(conv)
}

pub async fn send(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    draft: &Draft<'_>,
) -> Result<Sent> {
    send_to(state, actor, Target::Id(id), draft).await
}

/// Which conversation a send is for: an id to look up, or one the caller (a socket) already
/// knows. Participants never change; archive is checked again under the row lock either way.
pub enum Target {
    Id(ConversationId),
    Known(ConversationRef),
}

pub async fn send_to(
    state: &AppState,
    actor: &Actor,
    target: Target,
    draft: &Draft<'_>,
) -> Result<Sent> {
    state.limits.send.check(&actor.id())?;
    if actor.impersonating {
        return Err(Error::Forbidden(msg::IMPERSONATION_SEND));
    }
    let mut fields = Fields::default();
    let (body, cmid) = draft.parse(&mut fields);
    fields.finish()?;
    let body = body.ok_or_else(|| Error::field("content", msg::REQUIRED))?;
    let conv = match target {
        // A remembered copy may be out of date on archive (never on participants): the write
        // checks archive again under the row lock, and answers the same 400.
        Target::Known(mut c) => {
            c.archived_at = None;
            c
        }
        Target::Id(id) => conversations::get_ref(&state.db, id)
            .await?
            .ok_or(Error::NotFound(msg::CONVERSATION_NOT_FOUND))?,
    };
    if !conv.is_participant(actor.id()) {
        return Err(Error::Forbidden(msg::NO_ACCESS));
    }
    if conv.is_archived() {
        return Err(Error::Rejected(msg::ARCHIVED_SEND));
    }
    // A retry needs no read here: the group commit finds it and answers with the stored message.
    let job = Append {
        conversation: conv,
        sender: sender_of(actor),
        body,
        cmid,
    };
    let stored = state.committer.store(job).await?;
    match stored {
        Stored::New(message) => Ok(Sent {
            message,
            created: true,
            conversation: conv,
        }),
        Stored::Replay(message) => Ok(Sent {
            message,
            created: false,
            conversation: conv,
        }),
        Stored::Archived => Err(Error::Rejected(msg::ARCHIVED_SEND)),
    }
}

/// A message's author, from the acting user.
fn sender_of(actor: &Actor) -> Sender {
    Sender {
        id: actor.id(),
        first_name: actor.user.first_name.clone(),
        last_name: actor.user.last_name.clone(),
        profile_image: actor.user.profile_image.clone(),
    }
}

/// What storing a send came to.
pub(crate) enum Stored {
    New(Message),
    /// A retry: the message first stored with this idempotency key.
    Replay(Message),
    Archived,
}

/// Stores one send in a transaction of its own: the group commit's way on PostgreSQL when a
/// batch statement failed on the data, so that one bad send does not fail the others. The
/// caller publishes.
pub(crate) async fn store_alone(db: &Db, a: &Append) -> Result<Stored> {
    let mut w = db.begin_write().await?;
    match append(&mut w.tx, a).await? {
        Appended::New(message) => {
            w.commit().await?;
            Ok(Stored::New(message))
        }
        Appended::Duplicate => {
            drop(w);
            Ok(Stored::Replay(
                replayed(db, a.conversation.id, a.sender.id, a.cmid.as_ref()).await?,
            ))
        }
        Appended::Archived => Ok(Stored::Archived),
    }
}

/// One send to store.
pub(crate) struct Append {
    pub conversation: ConversationRef,
    pub sender: Sender,
    pub body: MessageBody,
    pub cmid: Option<ClientMessageId>,
}

impl Append {
    pub(crate) fn sender_is_trainer(&self) -> bool {
        self.conversation.trainer_id == self.sender.id
    }

    /// The message this send stored, built from what was written, not read back.
    pub(crate) fn stored(&self, id: MessageId, seq: i64, created_at: Micros) -> Message {
        Message {
            id,
            conversation_id: self.conversation.id,
            seq,
            sender: Some(self.sender.clone()),
            content: self.body.as_str().to_owned(),
            client_message_id: self.cmid.as_ref().map(|c| c.as_str().to_owned()),
            created_at,
            delivered_at: None,
            read_at: None,
        }
    }
}

pub(crate) enum Appended {
    New(Message),
    /// The sender already used this `client_message_id` here (a concurrent retry won).
    Duplicate,
    Archived,
}

/// The heart of a send, inside the caller's write transaction: lock and bump the conversation,
/// then insert the message (its id and `seq` are drawn under the lock, so within a conversation
/// they commit in order), then enqueue the recipient's push in the same transaction. The stored
/// message is built from what was written, not read back.
pub(crate) async fn append(conn: &mut AnyConnection, a: &Append) -> Result<Appended> {
    let bumped = conversations::bump_for_send(
        conn,
        a.conversation.id,
        a.sender_is_trainer(),
        now_micros(),
        &a.body.preview(),
    )
    .await?;
    let Some((created_at, seq)) = bumped else {
        return Ok(Appended::Archived);
    };
    let new = NewMessage {
        conversation_id: a.conversation.id,
        seq,
        sender: a.sender.id,
        content: a.body.as_str(),
        client_message_id: a.cmid.as_ref().map(ClientMessageId::as_str),
        created_at,
    };
    let Some(message_id) = messages::insert(conn, &new).await? else {
        return Ok(Appended::Duplicate);
    };
    if let Some(recipient) = a.conversation.other_party(a.sender.id) {
        outbox::enqueue(conn, message_id, a.conversation.id, recipient, created_at).await?;
    }
    Ok(Appended::New(a.stored(message_id, seq, created_at)))
}

/// The message first sent with this idempotency key.
async fn replayed(
    db: &Db,
    id: ConversationId,
    sender: UserId,
    cmid: Option<&ClientMessageId>,
) -> Result<Message> {
    let cmid = cmid.map(ClientMessageId::as_str).unwrap_or_default();
    messages::by_client_id(db.pool(), id, sender, cmid)
        .await?
        .ok_or_else(|| anyhow::anyhow!("idempotent message vanished").into())
}

/// A start request as it arrives.
pub struct StartDraft<'a> {
    pub trainee_id: Option<&'a Value>,
    pub send: Draft<'a>,
}

pub struct Started {
    pub conversation_id: ConversationId,
    pub message: Message,
    pub is_new_conversation: bool,
    pub created: bool,
}

pub async fn start(state: &AppState, actor: &Actor, draft: &StartDraft<'_>) -> Result<Started> {
    state.limits.send.check(&actor.id())?;
    if actor.role() != Role::Trainer {
        return Err(Error::Forbidden(msg::ONLY_TRAINERS));
    }
    if actor.impersonating {
        return Err(Error::Forbidden(msg::IMPERSONATION_START));
    }
    let mut fields = Fields::default();
    let trainee_id = fields.take("trainee_id", required_id(draft.trainee_id));
    let (body, cmid) = draft.send.parse(&mut fields);
    fields.finish()?;
    let (Some(trainee_id), Some(body)) = (trainee_id, body) else {
        return Err(Error::field("content", msg::REQUIRED));
    };
    let trainee = users::by_id(&state.db, trainee_id).await?;
    let assigned = trainee.is_some_and(|t| {
        t.role == Role::Trainee && t.is_active && t.parent_trainer_id == Some(actor.id())
    });
    if !assigned {
        return Err(Error::Rejected(msg::TRAINEE_NOT_ASSIGNED));
    }

    let mut w = state.db.begin_write().await?;
    let now = now_micros();
    let conversation_id =
        conversations::upsert_pair(&mut w.tx, actor.id(), trainee_id, now).await?;
    if let Some(cmid) = &cmid
        && let Some(message) =
            // On the transaction's own connection: taking a second one from the pool while
            // holding this one starves the pool under concurrent starts.
            messages::by_client_id(&mut *w.tx, conversation_id, actor.id(), cmid.as_str())
                    .await?
    {
        drop(w);
        let is_first = messages::before(&state.db, conversation_id, Some(message.id), 1)
            .await?
            .is_empty();
        return Ok(Started {
            conversation_id,
            message,
            is_new_conversation: is_first,
            created: false,
        });
    }
    conversations::unarchive(&mut w.tx, conversation_id).await?;
    let before = conversations::get(&mut w.tx, conversation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("conversation vanished"))?;
    let mut conv = before.as_ref();
    conv.archived_at = None;
    let job = Append {
        conversation: conv,
        sender: sender_of(actor),
        body,
        cmid,
    };
    match append(&mut w.tx, &job).await? {
        Appended::New(message) => {
            w.commit().await?;
            state
                .bus
                .publish(events::new_message(&job.conversation, &message));
            metrics::counter!(crate::metrics::MESSAGES_SENT).increment(1);
            Ok(Started {
                conversation_id,
                message,
                is_new_conversation: before.message_count == 0,
                created: true,
            })
        }
        Appended::Duplicate => {
            drop(w);
            let message =
                replayed(&state.db, conversation_id, actor.id(), job.cmid.as_ref()).await?;
            Ok(Started {
                conversation_id,
                message,
                is_new_conversation: false,
                created: false,
            })
        }
        Appended::Archived => {
            Err(anyhow::anyhow!("conversation archived inside its own transaction").into())
        }
    }
}

pub struct MarkedRead {
    pub conversation: ConversationRef,
    pub messages_marked: u64,
    pub read_at: Micros,
}

/// Marks the other party's messages read. An impersonating token is read-only: it may look, but
/// must not tell the other party that the real user read anything, so it marks nothing (and
/// answers as the original API would, for compatibility).
pub async fn mark_read(state: &AppState, actor: &Actor, id: ConversationId) -> Result<MarkedRead> {
    let conversation = visible(state, actor, id, true).await?;
    let now = now_micros();
    if actor.impersonating {
        return Ok(MarkedRead {
            conversation,
            messages_marked: 0,
            read_at: now,
        });
    }
    let mut w = state.db.begin_write().await?;
    let marked = messages::mark_read(&mut w.tx, id, actor.id(), now).await?;
    conversations::clear_unread(&mut w.tx, id, conversation.trainer_id == actor.id()).await?;
    w.commit().await?;
    state
        .bus
        .publish(events::read_receipt(&conversation, actor.id(), now));
    Ok(MarkedRead {
        conversation,
        messages_marked: marked,
        read_at: now,
    })
}

/// How to page through a conversation's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// The original page-number paging: 20 a page, newest first.
    Page { page: i64, size: i64 },
    /// Older than a message (or the newest), newest first.
    Before {
        before: Option<MessageId>,
        limit: i64,
    },
    /// Newer than a message, oldest first.
    After { after: MessageId, limit: i64 },
}

pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Total messages in the conversation (for page-number paging).
    pub total: i64,
    pub has_more: bool,
}

pub async fn list_messages(
    state: &AppState,
    actor: &Actor,
    id: ConversationId,
    paging: Paging,
) -> Result<MessagePage> {
    visible(state, actor, id, true).await?;
    match paging {
        Paging::Page { page, size } => {
            let total = conversations::message_count(&state.db, id).await?;
            let messages = messages::page(&state.db, id, size, (page - 1) * size).await?;
            Ok(MessagePage {
                has_more: page * size < total,
                messages,
                total,
            })
        }
        Paging::Before { before, limit } => {
            let mut messages = messages::before(&state.db, id, before, limit + 1).await?;
            let has_more = messages.len() as i64 > limit;
            messages.truncate(limit as usize);
            Ok(MessagePage {
                messages,
                total: 0,
                has_more,
            })
        }
        Paging::After { after, limit } => {
            let mut messages = messages::after(&state.db, id, after, limit + 1).await?;
            let has_more = messages.len() as i64 > limit;
            messages.truncate(limit as usize);
            Ok(MessagePage {
                messages,
                total: 0,
                has_more,
            })
        }
    }
}

pub async fn list_conversations(
    state: &AppState,
    actor: &Actor,
    archived: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Conversation>, i64)> {
    Ok(conversations::list_for(&state.db, actor.id(), archived, limit, offset).await?)
}

pub async fn unread_count(state: &AppState, user: UserId) -> Result<i64> {
    Ok(conversations::unread_total(&state.db, user).await?)
}
