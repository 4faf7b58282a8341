//! Conversations and messages: start, send, read, list, count. Checks run in the contract's
//! order (rate limit, impersonation, content, existence, participation, archive); a send is
//! acknowledged only once it is durable (the store's group commit, which publishes it as it
//! commits, in commit order).

use std::sync::Arc;

use crate::clock::{Clock, Micros};
use crate::domain::Actor;
use crate::domain::access::{self, Purpose};
use crate::domain::events::{Event, Publisher};
use crate::domain::input::{SendBody, StartBody};
use crate::domain::model::{
    Conversation, ConversationId, ConversationRef, Message, MessageId, UserId,
};
use crate::domain::plan::{Append, Appended};
use crate::error::{Error, Result};
use crate::ratelimit::Limiter;
use crate::store::{Range, StartSend, Store};

/// The messaging service: what REST handlers and sockets call.
#[derive(Clone)]
pub struct Messaging {
    store: Store,
    events: Publisher,
    /// Sends and starts per user, shared by REST and the socket.
    sends: Arc<Limiter<UserId>>,
    clock: Clock,
}

/// A stored message, whether this call created it (false: an idempotent replay), and where.
#[derive(Debug)]
pub struct Sent {
    pub message: Message,
    pub created: bool,
    pub conversation: ConversationRef,
}

#[derive(Debug)]
pub struct Started {
    pub conversation_id: ConversationId,
    pub message: Message,
    /// True only when the conversation had no message before this one.
    pub is_new_conversation: bool,
    pub created: bool,
}

pub struct MarkedRead {
    pub conversation: ConversationRef,
    pub messages_marked: u64,
    pub read_at: Micros,
}

/// How to page through a conversation's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// The original page-number paging: `size` a page, newest first.
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

/// Which conversation a send is for: an id to look up, or one the caller (a socket) already
/// checked. Participants never change; archive is checked again by the store's write.
pub enum Target {
    Id(ConversationId),
    Known(ConversationRef),
}

impl Messaging {
    pub fn new(store: Store, events: Publisher, sends: Arc<Limiter<UserId>>, clock: Clock) -> Self {
        Self {
            store,
            events,
            sends,
            clock,
        }
    }

    /// The conversation, if `actor` may use it for `purpose`.
    pub async fn conversation(
        &self,
        actor: &Actor,
        id: ConversationId,
        purpose: Purpose,
    ) -> Result<ConversationRef> {
        let found = self.store.conversation_ref(id).await?;
        access::conversation(found, actor, purpose)
    }

    pub async fn send(&self, actor: &Actor, target: Target, body: &SendBody) -> Result<Sent> {
        self.sends.check(&actor.id())?;
        access::writable(actor)?;
        let draft = body.validate()?;
        let conversation = match target {
            // A remembered copy may be out of date on archive (never on participants): the
            // store's write sees the archive, and answers the same 400.
            Target::Known(c) => access::conversation(
                Some(ConversationRef {
                    archived_at: None,
                    ..c
                }),
                actor,
                Purpose::Write,
            )?,
            Target::Id(id) => self.conversation(actor, id, Purpose::Write).await?,
        };
        let send = Append {
            conversation,
            sender: actor.user.as_sender(),
            body: draft.body,
            cmid: draft.cmid,
        };
        let (message, created) = stored(self.store.append(send).await?)?;
        Ok(Sent {
            message,
            created,
            conversation,
        })
    }

    /// A trainer starts (or resumes) the conversation with one of their trainees.
    pub async fn start(&self, actor: &Actor, body: &StartBody) -> Result<Started> {
        self.sends.check(&actor.id())?;
        access::is_trainer(actor)?;
        access::writable(actor)?;
        let (trainee_id, draft) = body.validate()?;
        let trainee = self.store.user(trainee_id).await?;
        access::may_start_with(actor, trainee.as_ref())?;
        let start = StartSend {
            trainer: actor.user.as_sender(),
            trainee: trainee_id,
            body: draft.body,
            cmid: draft.cmid,
        };
        // Stored (and, if new, published) by the group commit, like every send.
        let started = self.store.start(start).await?;
        let (message, created) = stored(started.appended)?;
        Ok(Started {
            conversation_id: started.conversation.id,
            is_new_conversation: message.seq == 1,
            message,
            created,
        })
    }

    /// Marks the other party's messages read. An impersonating token is read-only: it may look,
    /// but must not tell the other party that the real user read anything, so it marks nothing
    /// (and answers as the original API would, for compatibility).
    pub async fn mark_read(&self, actor: &Actor, id: ConversationId) -> Result<MarkedRead> {
        let conversation = self.conversation(actor, id, Purpose::Read).await?;
        let now = self.clock.now();
        if actor.impersonating {
            return Ok(MarkedRead {
                conversation,
                messages_marked: 0,
                read_at: now,
            });
        }
        let marked = self.store.mark_read(conversation, actor.id(), now).await?;
        self.events.publish(Event::Read {
            conversation,
            reader: actor.id(),
            at: now,
        });
        Ok(MarkedRead {
            conversation,
            messages_marked: marked,
            read_at: now,
        })
    }

    /// `actor` starts or stops typing in a conversation it may write to (`known`: checked
    /// before, by a socket).
    pub fn typing(&self, actor: &Actor, known: ConversationRef, is_typing: bool) -> Result<()> {
        access::writable(actor)?;
        let conversation = access::conversation(Some(known), actor, Purpose::Write)?;
        self.events.publish(Event::Typing {
            conversation,
            typist: actor.id(),
            is_typing,
        });
        Ok(())
    }

    pub async fn messages(
        &self,
        actor: &Actor,
        id: ConversationId,
        paging: Paging,
    ) -> Result<MessagePage> {
        self.conversation(actor, id, Purpose::Read).await?;
        let cursor = |range, limit: i64| async move {
            let mut messages = self.store.messages(id, range).await?;
            let has_more = messages.len() as i64 > limit;
            messages.truncate(usize::try_from(limit).unwrap_or(0));
            Ok::<_, Error>(MessagePage {
                messages,
                total: 0,
                has_more,
            })
        };
        match paging {
            Paging::Page { page, size } => {
                let total = self.store.message_count(id).await?;
                let range = Range::Page {
                    limit: size,
                    offset: (page - 1) * size,
                };
                Ok(MessagePage {
                    messages: self.store.messages(id, range).await?,
                    has_more: page * size < total,
                    total,
                })
            }
            Paging::Before { before, limit } => {
                cursor(
                    Range::Before {
                        before,
                        limit: limit + 1,
                    },
                    limit,
                )
                .await
            }
            Paging::After { after, limit } => {
                cursor(
                    Range::After {
                        after,
                        limit: limit + 1,
                    },
                    limit,
                )
                .await
            }
        }
    }

    pub async fn conversations(
        &self,
        actor: &Actor,
        archived: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        Ok(self
            .store
            .conversations(actor.id(), archived, limit, offset)
            .await?)
    }

    pub async fn unread_count(&self, user: UserId) -> Result<i64> {
        Ok(self.store.unread_total(user).await?)
    }
}

/// What the store did with a send: the message and whether it is new (false: a replay of its
/// `client_message_id`), or why it was refused. (A start un-archives and creates its
/// conversation in the same transaction, so it is never refused.)
fn stored(appended: Appended) -> Result<(Message, bool)> {
    match appended {
        Appended::New(m) => Ok((m, true)),
        Appended::Replay(m) => Ok((m, false)),
        Appended::Archived => Err(Error::ArchivedConversation),
        Appended::Gone => Err(Error::ConversationNotFound),
    }
}
