//! Events after a commit, on their way to sockets. The domain publishes what happened
//! (`domain::events`); [`route`] says which sockets get it and serialises its frame once;
//! [`Hub`] hands it to this node's sockets; [`Bus`] adds Redis pub/sub so every node's hub sees
//! every event. Nothing reads the bus for data: the store has it all, and a client that missed
//! an event resumes from the store.

pub mod hub;
pub mod redis;
pub mod route;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::domain::events::Publish;
use crate::domain::model::{ConversationId, MessageId, UserId};
use crate::wire::MediaUrls;
pub use hub::{Hub, Subscription};

/// Who listens: the sockets of one conversation (Part A) or all sockets of one user (Part B 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    Conversation(ConversationId),
    User(UserId),
}

/// What an event is about, for the sockets' own bookkeeping (dedupe on resume, receipts,
/// typing expiry, unread badges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    NewMessage {
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: i64,
        /// `None` once the author's account is gone.
        sender_id: Option<UserId>,
        /// The message's commit timestamp (for the send→deliver latency).
        created_at: crate::clock::Micros,
    },
    ReadReceipt {
        conversation_id: ConversationId,
        reader_id: UserId,
    },
    DeliveryReceipt {
        conversation_id: ConversationId,
    },
    Typing {
        conversation_id: ConversationId,
        user_id: UserId,
        is_typing: bool,
    },
    Archived {
        conversation_id: ConversationId,
    },
    /// A message was edited or deleted.
    Changed {
        conversation_id: ConversationId,
    },
    /// Something of the user's own (a broadcast's progress, a scheduled message).
    Own,
}

/// One event, ready to send: its frame is serialised once, whatever the number of sockets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub topics: Vec<Topic>,
    /// Sockets of this user do not get it (typing is never echoed to the typist).
    pub exclude_user: Option<UserId>,
    pub kind: Kind,
    /// The JSON frame as the client receives it.
    pub frame: Arc<str>,
    /// When it was published (microseconds), for the cross-node lag.
    #[serde(default)]
    pub published_at: crate::clock::Micros,
}

/// Publishes events to every node's sockets.
#[derive(Clone)]
pub struct Bus {
    hub: Arc<Hub>,
    redis: Option<redis::RedisBus>,
    clock: Clock,
    /// Signs the media URLs inside the frames.
    urls: Arc<dyn MediaUrls>,
}

impl Publish for Bus {
    fn publish(&self, event: crate::domain::events::Event) {
        self.send(route::route(&event, &*self.urls));
    }
}

impl Bus {
    /// A single node: events go straight to this node's hub.
    pub fn local(clock: Clock, urls: Arc<dyn MediaUrls>) -> Self {
        Self {
            hub: Arc::new(Hub::default()),
            redis: None,
            clock,
            urls,
        }
    }

    /// Several nodes: this node's hub, plus Redis to and from the others.
    pub fn with_redis(
        url: &str,
        channel: &str,
        clock: Clock,
        urls: Arc<dyn MediaUrls>,
    ) -> anyhow::Result<Self> {
        let hub = Arc::new(Hub::default());
        let redis = redis::RedisBus::start(url, channel, hub.clone(), clock.clone())?;
        Ok(Self {
            hub,
            redis: Some(redis),
            clock,
            urls,
        })
    }

    /// The Redis link, with several nodes.
    pub fn redis(&self) -> Option<&redis::RedisBus> {
        self.redis.as_ref()
    }

    /// What turns media keys into the URLs clients load.
    pub fn urls(&self) -> &dyn MediaUrls {
        &*self.urls
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Delivers to this node's sockets at once, and to other nodes through Redis when set. Never
    /// waits on Redis: if it is away, other nodes' clients catch up by resuming.
    pub fn send(&self, mut event: Event) {
        event.published_at = self.clock.now();
        let event = Arc::new(event);
        self.hub.dispatch(&event);
        if let Some(r) = &self.redis {
            r.publish(event);
        }
    }

    /// Whether `user` has `conversation` open on a live socket, on this node or (with Redis)
    /// any other.
    pub async fn is_reading(&self, user: UserId, conversation: ConversationId) -> bool {
        if self.hub.is_reading(user, conversation) {
            return true;
        }
        match &self.redis {
            Some(r) => r.is_reading(user, conversation).await,
            None => false,
        }
    }

    /// Tells other nodes that socket `socket` shows `conversation` to `user` (for the next
    /// `ttl`), or no longer does. A no-op on a single node, where the hub knows.
    pub fn set_reading(
        &self,
        user: UserId,
        conversation: ConversationId,
        socket: &str,
        ttl: Option<std::time::Duration>,
    ) {
        if let Some(r) = self.redis.clone() {
            let socket = socket.to_owned();
            let until = ttl.map(|t| (self.clock.now() + crate::clock::micros(t)) / 1000);
            tokio::spawn(async move { r.set_reading(user, conversation, &socket, until).await });
        }
    }

    /// How many times the Redis subscriber has (re)subscribed; 0 for a single node.
    pub fn link_generation(&self) -> u64 {
        self.redis.as_ref().map_or(0, redis::RedisBus::generation)
    }

    /// Whether the Redis link is up (always true for a single node).
    pub fn connected(&self) -> bool {
        self.redis.as_ref().is_none_or(redis::RedisBus::connected)
    }
}
