//! The JSON shapes of the contract, shared by REST answers and socket frames ([`frames`]),
//! with their OpenAPI schemas. Field names, order and nullability are the original API's, to
//! the letter (`docs/api.md`).

pub mod export;
pub mod frames;
pub mod time;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::model::{
    Broadcast, BroadcastId, Conversation, ConversationId, Message, MessageId, Scheduled,
    ScheduledId, Sender, User, UserId, UserSummary,
};
pub use time::{to_wire, to_wire_opt};

/// A participant inside a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummaryJson {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Absolute URL, or null.
    pub profile_image: Option<String>,
}

/// A stored profile image as clients get it: a media key (an imported photo) becomes its
/// signed URL; a URL stays as it is.
pub fn profile_url(stored: Option<&String>, urls: &dyn MediaUrls) -> Option<String> {
    stored.filter(|s| !s.is_empty()).map(|s| {
        if s.contains("://") {
            s.clone()
        } else {
            urls.media_url(s)
        }
    })
}

impl UserSummaryJson {
    pub fn new(u: &UserSummary, urls: &dyn MediaUrls) -> Self {
        Self {
            id: u.id,
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            email: u.email.clone(),
            profile_image: profile_url(u.profile_image.as_ref(), urls),
        }
    }
}

/// A message's author.
#[derive(Debug, Serialize, ToSchema)]
pub struct SenderJson {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub profile_image: Option<String>,
}

impl SenderJson {
    pub fn new(s: &Sender, urls: &dyn MediaUrls) -> Self {
        Self {
            id: s.id,
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            profile_image: profile_url(s.profile_image.as_ref(), urls),
        }
    }
}

/// Turns a media key into the absolute URL a client loads with a plain GET (no
/// `Authorization` header: `<img src>`, Flutter's `Image.network`): signed and expiring when
/// Spotter serves it.
pub trait MediaUrls: Send + Sync {
    fn media_url(&self, key: &str) -> String;
}

/// The contract's Message: Part A's keys, Part C's in their places, then Spotter's own.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageJson {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Null only if the author's account was deleted.
    pub sender: Option<SenderJson>,
    /// `""` on an image-only message and on a deleted one.
    pub content: String,
    /// Absolute URL of the image (loads without an `Authorization` header), or null.
    pub image: Option<String>,
    pub is_read: bool,
    /// ISO 8601 UTC with microseconds; null until the other party reads it.
    pub read_at: Option<String>,
    /// Null until edited.
    pub edited_at: Option<String>,
    /// A deleted message stays in place: `content` `""`, `image` null.
    pub is_deleted: bool,
    pub created_at: String,
    /// Part B: the idempotency key the sender chose, or null.
    pub client_message_id: Option<String>,
    /// Part B: when a live socket of the recipient received it; null until then.
    pub delivered_at: Option<String>,
    /// Part B: position in the conversation (1, 2, 3, … without gaps).
    pub seq: i64,
    /// With an image: its width in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_width: Option<u32>,
    /// With an image: its height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_height: Option<u32>,
    /// With an image: absolute URL of a small preview (at most 320 pixels a side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

impl MessageJson {
    pub fn new(m: &Message, urls: &dyn MediaUrls) -> Self {
        let deleted = m.is_deleted();
        let image = m.image.as_ref().filter(|_| !deleted);
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            sender: m.sender.as_ref().map(|s| SenderJson::new(s, urls)),
            content: if deleted {
                String::new()
            } else {
                m.content.clone()
            },
            image: image.map(|i| urls.media_url(&i.key)),
            is_read: m.read_at.is_some(),
            read_at: to_wire_opt(m.read_at),
            edited_at: to_wire_opt(m.edited_at),
            is_deleted: deleted,
            created_at: to_wire(m.created_at),
            client_message_id: m.client_message_id.clone(),
            delivered_at: to_wire_opt(m.delivered_at),
            seq: m.seq,
            image_width: image.and_then(|i| i.width),
            image_height: image.and_then(|i| i.height),
            thumbnail: image
                .and_then(|i| i.thumbnail.as_deref())
                .map(|k| urls.media_url(k)),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationJson {
    pub id: ConversationId,
    pub trainer: UserSummaryJson,
    /// Null if the trainee's account was deleted.
    pub trainee: Option<UserSummaryJson>,
    pub last_message_at: Option<String>,
    /// The first 100 characters of the latest message, or null.
    pub last_message_preview: Option<String>,
    /// Messages from the other party not yet read by the viewer.
    pub unread_count: i64,
    pub is_archived: bool,
    pub created_at: String,
    /// Part D 4, in the "needs reply" list only (`?needs_reply=true`): the `created_at` of the
    /// trainee's oldest message after the trainer's last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<String>,
}

impl ConversationJson {
    pub fn new(c: &Conversation, viewer: UserId, urls: &dyn MediaUrls) -> Self {
        Self {
            id: c.id,
            trainer: UserSummaryJson::new(&c.trainer, urls),
            trainee: c.trainee.as_ref().map(|t| UserSummaryJson::new(t, urls)),
            last_message_at: to_wire_opt(c.last_message_at),
            last_message_preview: c.last_message_preview.clone(),
            unread_count: c.unread_for(viewer),
            is_archived: c.archived_at.is_some(),
            created_at: to_wire(c.created_at),
            waiting_since: None,
        }
    }

    /// As a row of the "needs reply" list: with `waiting_since`.
    pub fn waiting(c: &Conversation, viewer: UserId, urls: &dyn MediaUrls) -> Self {
        Self {
            waiting_since: to_wire_opt(c.awaiting_reply_since),
            ..Self::new(c, viewer, urls)
        }
    }
}

/// A user as the platform endpoints show one (`users/me/`, the trainee list).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserJson {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `admin`, `trainer` or `trainee`; `ambassador` for the original platform's referral
    /// partners (imported: they log in, and take no part in messaging).
    pub role: String,
    pub profile_image: Option<String>,
    pub is_active: bool,
    /// A trainee's trainer, or null.
    pub parent_trainer: Option<UserId>,
    pub date_joined: String,
}

impl UserJson {
    pub fn new(u: &User, urls: &dyn MediaUrls) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            role: u.role.as_str().to_owned(),
            profile_image: profile_url(u.profile_image.as_ref(), urls),
            is_active: u.is_active,
            parent_trainer: u.parent_trainer_id,
            date_joined: to_wire(u.created_at),
        }
    }
}

/// A broadcast and how far it got (Part D 1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BroadcastJson {
    pub id: BroadcastId,
    /// `scheduled`, `sending`, `done` or `cancelled`.
    pub state: &'static str,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
    pub created_at: String,
    pub send_at: Option<String>,
    /// As written, `{first_name}` and all.
    pub content: String,
    pub client_broadcast_id: Option<String>,
    pub finished_at: Option<String>,
}

impl From<&Broadcast> for BroadcastJson {
    fn from(b: &Broadcast) -> Self {
        Self {
            id: b.id,
            state: b.state.as_str(),
            total: b.total,
            sent: b.sent,
            failed: b.failed,
            created_at: to_wire(b.created_at),
            send_at: to_wire_opt(b.send_at),
            content: b.content.clone(),
            client_broadcast_id: b.client_broadcast_id.clone(),
            finished_at: to_wire_opt(b.finished_at),
        }
    }
}

/// A message to be sent later (Part D 2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduledJson {
    pub id: ScheduledId,
    pub conversation_id: ConversationId,
    pub content: String,
    pub send_at: String,
    /// `pending`, `sent`, `cancelled` or `failed`.
    pub state: &'static str,
    pub failure_reason: Option<String>,
    pub created_at: String,
    /// The message it became, once sent.
    pub message_id: Option<MessageId>,
}

impl From<&Scheduled> for ScheduledJson {
    fn from(s: &Scheduled) -> Self {
        Self {
            id: s.id,
            conversation_id: s.conversation_id,
            content: s.content.clone(),
            send_at: to_wire(s.send_at),
            state: s.state.as_str(),
            failure_reason: s.failure_reason.clone(),
            created_at: to_wire(s.created_at),
            message_id: s.message_id,
        }
    }
}
