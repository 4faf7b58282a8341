//! Conversations and messages: start, send, read, list, count. Checks run in the contract's
//! order (rate limit, impersonation, content, existence, participation, archive); a send is
//! acknowledged only once it is durable (the store's group commit, which publishes it as it
//! commits, in commit order).

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, Micros, micros};
use crate::domain::access::{self, Purpose};
use crate::domain::events::{Event, Publisher};
use crate::domain::input::{ClientMessageId, MessageBody, SendBody, StartBody, Upload};
use crate::domain::model::{
    Conversation, ConversationId, ConversationRef, Image, Message, MessageId, User, UserId,
};
use crate::domain::plan::{Append, Appended};
use crate::domain::{Actor, search};
use crate::error::{Error, Result};
use crate::media::{ImageError, Media};
use crate::ratelimit::UserBucket;
use crate::store::{Range, StartSend, Store};

mod changes;
pub use changes::{Deleted, EDIT_WINDOW};

/// The messaging service: what REST handlers and sockets call.
#[derive(Clone)]
pub struct Messaging {
    store: Store,
    events: Publisher,
    /// The one bucket of send, start, edit, delete and search, shared by REST, the socket and
    /// every node.
    limit: Arc<UserBucket>,
    clock: Clock,
    /// Where images go.
    media: Media,
    /// How long an image send may take from recording its upload to committing its message
    /// (half the sweeper's grace: see `Append::image_deadline`).
    upload_window: Duration,
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

/// An image stored for a message to come ([`Messaging::upload`]).
#[derive(Debug, Clone)]
pub struct Staged {
    pub image: Image,
    /// The message naming it must commit by then.
    pub deadline: Micros,
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
    /// The page centred on a message (it and older ones, then newer ones), newest first.
    Around { around: MessageId, limit: i64 },
}

pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Total messages in the conversation (for page-number paging).
    pub total: i64,
    pub has_more: bool,
    /// Around a message: whether newer ones lie beyond the page (`has_more` says it of older).
    pub has_newer: bool,
}

/// Which conversation a send is for: an id to look up, or one the caller (a socket) already
/// checked. Participants never change; archive is checked again by the store's write.
pub enum Target {
    Id(ConversationId),
    Known(ConversationRef),
}

/// Where a send nobody is waiting on goes ([`Messaging::send_later`]).
pub enum Later<'a> {
    /// A conversation the author takes part in.
    To(Target),
    /// The author's (a trainer's) trainee, in their conversation, started or un-archived if
    /// need be.
    Start(&'a User),
}

impl Messaging {
    pub fn new(
        store: Store,
        events: Publisher,
        limit: Arc<UserBucket>,
        clock: Clock,
        media: Media,
        orphan_grace: Duration,
    ) -> Self {
        Self {
            store,
            events,
            limit,
            clock,
            media,
            upload_window: orphan_grace / 2,
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

    /// Sends a message (with an image from a multipart form, if `upload`).
    pub async fn send(
        &self,
        actor: &Actor,
        target: Target,
        body: &SendBody,
        upload: Option<Upload>,
    ) -> Result<Sent> {
        self.limit.check(actor.id()).await?;
        access::writable(actor)?;
        let draft = body.validate(upload.as_ref())?;
        let conversation = self.writable(actor, target).await?;
        let (image, image_deadline) = self.staged(upload).await?;
        let send = Append {
            conversation,
            sender: actor.user.as_sender(),
            body: draft.body,
            image: image.clone(),
            image_deadline,
            cmid: draft.cmid,
        };
        let outcome = self.store.append(send).await.map_err(Error::from);
        let (message, created) = self.settle(image, outcome.and_then(stored)).await?;
        Ok(Sent {
            message,
            created,
            conversation,
        })
    }

    /// The conversation a send goes to, if `actor` may write to it.
    async fn writable(&self, actor: &Actor, target: Target) -> Result<ConversationRef> {
        match target {
            // A remembered copy may be out of date on archive (never on participants): the
            // store's write sees the archive, and answers the same 400.
            Target::Known(c) => access::conversation(
                Some(ConversationRef {
                    archived_at: None,
                    ..c
                }),
                actor,
                Purpose::Write,
            ),
            Target::Id(id) => self.conversation(actor, id, Purpose::Write).await,
        }
    }

    /// A send nobody is waiting on: a scheduled message when it is due, or one recipient of a
    /// broadcast. The rules of a send as `author` stands now (an active account; a
    /// conversation of theirs, not archived; a start only with their own active trainee), but
    /// no rate limit (scheduling took the slot) and no impersonation (only a real user's
    /// request schedules). `cmid` is Spotter's own key for this send, so a second attempt
    /// (after a crash, or by another node) finds the first one's message and stores nothing.
    pub async fn send_later(
        &self,
        author: &User,
        to: Later<'_>,
        body: MessageBody,
        cmid: ClientMessageId,
    ) -> Result<Sent> {
        if !author.is_active {
            return Err(Error::SenderDeactivated);
        }
        let actor = Actor {
            user: author.clone(),
            impersonating: false,
            original_user_id: None,
        };
        match to {
            Later::To(target) => {
                let conversation = self.writable(&actor, target).await?;
                let send = Append {
                    conversation,
                    sender: author.as_sender(),
                    body,
                    image: None,
                    image_deadline: None,
                    cmid: Some(cmid),
                };
                let (message, created) = stored(self.store.append(send).await?)?;
                Ok(Sent {
                    message,
                    created,
                    conversation,
                })
            }
            Later::Start(trainee) => {
                access::may_start_with(&actor, Some(trainee))?;
                let start = StartSend {
                    trainer: author.as_sender(),
                    trainee: trainee.id,
                    body,
                    image: None,
                    image_deadline: None,
                    cmid: Some(cmid),
                };
                let started = self.store.start(start).await?;
                let (message, created) = stored(started.appended)?;
                Ok(Sent {
                    message,
                    created,
                    conversation: started.conversation,
                })
            }
        }
    }

    /// A trainer starts (or resumes) the conversation with one of their trainees.
    pub async fn start(
        &self,
        actor: &Actor,
        body: &StartBody,
        upload: Option<Upload>,
    ) -> Result<Started> {
        self.limit.check(actor.id()).await?;
        access::is_trainer(actor)?;
        access::writable(actor)?;
        let (trainee_id, draft) = body.validate(upload.as_ref())?;
        let trainee = self.store.user(trainee_id).await?;
        access::may_start_with(actor, trainee.as_ref())?;
        let (image, image_deadline) = self.staged(upload).await?;
        let start = StartSend {
            trainer: actor.user.as_sender(),
            trainee: trainee_id,
            body: draft.body,
            image: image.clone(),
            image_deadline,
            cmid: draft.cmid,
        };
        // Stored (and, if new, published) by the group commit, like every send.
        let outcome = match self.store.start(start).await {
            Ok(s) => stored(s.appended),
            Err(e) => Err(e.into()),
        };
        let (message, created) = self.settle(image, outcome).await?;
        Ok(Started {
            conversation_id: message.conversation_id,
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
        self.page(id, paging).await
    }

    /// A page of a conversation's messages, whoever asks: callers check who may read it first
    /// (a participant above; the admin console, which logs the read first, in
    /// `domain::console`).
    pub(crate) async fn page(&self, id: ConversationId, paging: Paging) -> Result<MessagePage> {
        let cursor = |range, limit: i64| async move {
            let mut messages = self.store.messages(id, range).await?;
            let has_more = messages.len() as i64 > limit;
            messages.truncate(usize::try_from(limit).unwrap_or(0));
            Ok::<_, Error>(MessagePage {
                messages,
                total: 0,
                has_more,
                has_newer: false,
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
                    has_newer: false,
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
            Paging::Around { around, limit } => {
                if self.store.message(id, around).await?.is_none() {
                    return Err(Error::MessageNotFound);
                }
                // The message and older ones fill the larger half, newer ones the rest.
                let newer_wanted = limit / 2;
                let older_wanted = limit - newer_wanted;
                let older = cursor(
                    Range::Before {
                        before: Some(MessageId(around.get().saturating_add(1))),
                        limit: older_wanted + 1,
                    },
                    older_wanted,
                )
                .await?;
                let newer = cursor(
                    Range::After {
                        after: around,
                        limit: newer_wanted + 1,
                    },
                    newer_wanted,
                )
                .await?;
                let mut messages: Vec<Message> = newer.messages.into_iter().rev().collect();
                messages.extend(older.messages);
                Ok(MessagePage {
                    messages,
                    total: 0,
                    has_more: older.has_more,
                    has_newer: newer.has_more,
                })
            }
        }
    }

    /// A page of `actor`'s messages containing `q` (case-insensitive), newest first. Takes a
    /// slot of the send bucket, as the original does.
    pub async fn search(
        &self,
        actor: &Actor,
        q: Option<&str>,
        page: Option<&str>,
        conversation: Option<ConversationId>,
    ) -> Result<search::Found> {
        self.limit.check(actor.id()).await?;
        let text = search::query(actor, q)?;
        let mut page = search::page_number(page);
        if text.contains('\0') {
            // No stored text holds NUL (every text field refuses it), and PostgreSQL cannot
            // even be asked: nothing matches.
            return Ok(search::Found {
                hits: Vec::new(),
                count: 0,
                num_pages: 1,
                page: 1,
            });
        }
        let mut query = search::store_query(actor, text, conversation, page);
        let (mut hits, mut count) = self.store.search(query.clone()).await?;
        let num_pages = search::num_pages(count);
        if page > num_pages {
            // Past the end: the last page.
            page = num_pages;
            query.offset = (page - 1) * search::RESULTS_PER_PAGE;
            (hits, count) = self.store.search(query).await?;
        }
        Ok(search::Found {
            hits,
            num_pages: search::num_pages(count),
            count,
            page,
        })
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

impl Messaging {
    /// Decodes, cleans and stores an image for a message to come (checked already for type
    /// and size, and called once the request is known to be allowed). Its keys are recorded
    /// before any file is stored, and forgotten by the transaction that appends its message:
    /// an upload whose message never commits (the process dies, the request is dropped after
    /// this) keeps its record, and the sweeper removes its files (`workers::orphans`). The
    /// message must commit by the deadline it comes with (`Append::image_deadline`). Text
    /// sends pay nothing of this; a refused image send, one write more ([`Messaging::settle`]).
    pub async fn upload(&self, upload: Upload) -> Result<Staged> {
        let prepared = self
            .media
            .prepare(&upload.declared, upload.bytes)
            .await
            .map_err(image_error)?;
        let now = self.clock.now();
        let keys = prepared.keys().map(str::to_owned).to_vec();
        self.store.record_uploads(keys, now).await?;
        // A failure here leaves the record to the sweeper (what was put is removed, but that
        // removal may fail too).
        let s = self.media.store(prepared).await.map_err(image_error)?;
        Ok(Staged {
            image: Image {
                key: s.key,
                thumbnail: Some(s.thumbnail),
                width: Some(s.width),
                height: Some(s.height),
            },
            deadline: now + micros(self.upload_window),
        })
    }

    /// [`Messaging::upload`] for a send that may have no image.
    async fn staged(&self, upload: Option<Upload>) -> Result<(Option<Image>, Option<Micros>)> {
        match upload {
            None => Ok((None, None)),
            Some(u) => {
                let s = self.upload(u).await?;
                Ok((Some(s.image), Some(s.deadline)))
            }
        }
    }

    /// An upload is kept only by the message that was stored with it: a send that failed
    /// after the image was stored, or that replayed an earlier message, leaves no file behind,
    /// and then no record either (so the sweeper meets only real orphans). A file that could
    /// not be removed keeps its record, for the sweeper to try again.
    async fn settle(
        &self,
        image: Option<Image>,
        outcome: Result<(Message, bool)>,
    ) -> Result<(Message, bool)> {
        let kept = matches!(outcome, Ok((_, true)));
        if let (Some(i), false) = (&image, kept)
            && self.media.remove(&i.key, i.thumbnail.as_deref()).await
        {
            let keys = std::iter::once(&i.key)
                .chain(&i.thumbnail)
                .cloned()
                .collect();
            if let Err(e) = self.store.forget_uploads(keys).await {
                tracing::warn!(error = %e, key = i.key, "media: upload record left for the sweeper");
            }
        }
        outcome
    }
}

fn image_error(e: ImageError) -> Error {
    match e {
        ImageError::UnsupportedType => Error::UnsupportedImage,
        ImageError::Invalid(m) => Error::field("image", m),
        ImageError::Storage(e) => Error::Unavailable(format!("media store: {e:#}")),
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
        // Rare (a send stuck for half the sweeper's grace): the client sends again.
        Appended::Expired => Err(Error::Unavailable(
            "the image's upload expired before its message was stored".into(),
        )),
    }
}
