//! The records Spotter works with, as the domain sees them: the store fills them, `wire` turns
//! them into the contract's JSON.

use crate::clock::Micros;
pub use crate::domain::ids::{
    BroadcastId, ConversationId, DeviceId, MessageId, ScheduledId, TemplateId, UserId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Trainer,
    Trainee,
    /// The original platform's referral partners, adopted with it: they log in but take no part
    /// in messaging.
    Ambassador,
}

impl Role {
    /// Whether this role takes part in conversations.
    pub fn messages(self) -> bool {
        matches!(self, Self::Trainer | Self::Trainee)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Trainer => "trainer",
            Self::Trainee => "trainee",
            Self::Ambassador => "ambassador",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "trainer" => Some(Self::Trainer),
            "trainee" => Some(Self::Trainee),
            "ambassador" => Some(Self::Ambassador),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub parent_trainer_id: Option<UserId>,
    pub profile_image: Option<String>,
    pub is_active: bool,
    pub created_at: Micros,
}

impl User {
    /// "First Last", or the email when the user has no name (the push title's rule).
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name.trim(), self.last_name.trim());
        let name = name.trim();
        if name.is_empty() {
            self.email.clone()
        } else {
            name.to_owned()
        }
    }

    /// The author of a message this user writes, as messages show it.
    pub fn as_sender(&self) -> Sender {
        Sender {
            id: self.id,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            profile_image: self.profile_image.clone(),
        }
    }
}

/// A participant as shown inside a conversation.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub profile_image: Option<String>,
}

/// The parts of a conversation that authorization needs: who takes part, and whether it is
/// archived. The rules over it live in `domain::access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationRef {
    pub id: ConversationId,
    pub trainer_id: UserId,
    /// `None` once the trainee's account was deleted.
    pub trainee_id: Option<UserId>,
    pub archived_at: Option<Micros>,
}

impl ConversationRef {
    pub fn is_participant(&self, user: UserId) -> bool {
        self.trainer_id == user || self.trainee_id == Some(user)
    }

    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }

    /// The participant who is not `user`.
    pub fn other_party(&self, user: UserId) -> Option<UserId> {
        if self.trainer_id == user {
            self.trainee_id
        } else {
            Some(self.trainer_id)
        }
    }

    /// Both participants (one, if the trainee's account is gone).
    pub fn participants(&self) -> impl Iterator<Item = UserId> {
        std::iter::once(self.trainer_id).chain(self.trainee_id)
    }
}

/// A conversation with what a list row needs.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: ConversationId,
    pub trainer: UserSummary,
    pub trainee: Option<UserSummary>,
    pub archived_at: Option<Micros>,
    pub created_at: Micros,
    pub last_message_at: Option<Micros>,
    pub last_message_preview: Option<String>,
    pub message_count: i64,
    pub trainer_unread: i64,
    pub trainee_unread: i64,
    /// Since when the trainee has been waiting for the trainer's answer: their first message
    /// after the trainer's last one (`None`: the newest message is the trainer's, or none).
    pub awaiting_reply_since: Option<Micros>,
}

impl Conversation {
    pub fn as_ref(&self) -> ConversationRef {
        ConversationRef {
            id: self.id,
            trainer_id: self.trainer.id,
            trainee_id: self.trainee.as_ref().map(|t| t.id),
            archived_at: self.archived_at,
        }
    }

    /// Messages from the other party that `viewer` has not read.
    pub fn unread_for(&self, viewer: UserId) -> i64 {
        if viewer == self.trainer.id {
            self.trainer_unread
        } else {
            self.trainee_unread
        }
    }
}

/// A trainer's saved reply (Part D 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub id: TemplateId,
    pub title: String,
    pub content: String,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Where a broadcast stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastState {
    /// Waiting for its `send_at`.
    Scheduled,
    /// Being fanned out (or due to be).
    Sending,
    /// Every recipient reached or failed.
    Done,
    /// Cancelled while scheduled.
    Cancelled,
}

impl BroadcastState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(Self::Scheduled),
            "sending" => Some(Self::Sending),
            "done" => Some(Self::Done),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// One message to many of a trainer's trainees, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    pub id: BroadcastId,
    pub trainer_id: UserId,
    /// As written, `{first_name}` and all.
    pub content: String,
    pub client_broadcast_id: Option<String>,
    pub state: BroadcastState,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
    pub send_at: Option<Micros>,
    pub created_at: Micros,
    pub finished_at: Option<Micros>,
}

/// A recipient a broadcast could not reach, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastFailure {
    pub trainee_id: UserId,
    /// "First Last" (empty when the account is gone).
    pub trainee_name: String,
    pub reason: String,
}

/// Where a scheduled message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledState {
    Pending,
    Sent,
    Cancelled,
    /// It could not be sent when due (`failure_reason` says why).
    Failed,
}

impl ScheduledState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "cancelled" => Some(Self::Cancelled),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// A message its author wrote to be sent later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub id: ScheduledId,
    pub conversation_id: ConversationId,
    pub author_id: UserId,
    pub content: String,
    pub send_at: Micros,
    pub state: ScheduledState,
    pub failure_reason: Option<String>,
    /// The message it became, once sent.
    pub message_id: Option<MessageId>,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// A message's author as shown inside the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub profile_image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// `None` if the author's account was deleted.
    pub sender: Option<Sender>,
    /// `""` on an image-only message and on a deleted one.
    pub content: String,
    /// Boxed: most messages have none, and a message travels in events and plans.
    pub image: Option<Box<Image>>,
    pub client_message_id: Option<String>,
    pub created_at: Micros,
    pub delivered_at: Option<Micros>,
    pub read_at: Option<Micros>,
    pub edited_at: Option<Micros>,
    /// Set once deleted: the message stays in place as a tombstone.
    pub deleted_at: Option<Micros>,
}

/// An image attached to a message: where the media store keeps it (keys, never URLs: URLs are
/// signed when a message is shown) and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `message_images/<32 hex>.<ext>`.
    pub key: String,
    /// The small preview's key; `None` for an image imported without one.
    pub thumbnail: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl Image {
    /// An image known by its files only (what removing them needs).
    pub fn files(key: String, thumbnail: Option<String>) -> Self {
        Self {
            key,
            thumbnail,
            width: None,
            height: None,
        }
    }
}

/// The conversation list's preview of a deleted message.
pub const DELETED_PREVIEW: &str = "This message was deleted";
/// The preview (and push body) of an image without text.
pub const PHOTO_PREVIEW: &str = "Sent a photo";
/// The preview on a conversation: the first 100 characters of the latest message.
pub const PREVIEW_CHARS: usize = 100;

/// What the conversation list and a push show of a message: a deleted one says so; else the
/// first 100 characters of its text; else, for an image alone, "Sent a photo".
pub fn preview(content: &str, has_image: bool, deleted: bool) -> String {
    if deleted {
        DELETED_PREVIEW.to_owned()
    } else if content.is_empty() && has_image {
        PHOTO_PREVIEW.to_owned()
    } else {
        content.chars().take(PREVIEW_CHARS).collect()
    }
}

impl Message {
    pub fn sender_id(&self) -> Option<UserId> {
        self.sender.as_ref().map(|s| s.id)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn preview(&self) -> String {
        preview(&self.content, self.image.is_some(), self.is_deleted())
    }
}

/// Where a push device's notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// FCM tokens, as the original apps register them (`web` is the original web app's FCM
    /// token, not a Web Push subscription).
    Ios,
    Android,
    Web,
    /// A browser's Web Push subscription (RFC 8030): the token is its endpoint URL.
    WebPush,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ios => "ios",
            Self::Android => "android",
            Self::Web => "web",
            Self::WebPush => "webpush",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ios" => Some(Self::Ios),
            "android" => Some(Self::Android),
            "web" => Some(Self::Web),
            "webpush" => Some(Self::WebPush),
            _ => None,
        }
    }

    /// Delivered through FCM (else Web Push).
    pub fn is_fcm(self) -> bool {
        self != Self::WebPush
    }
}

#[derive(Debug, Clone)]
pub struct Device {
    pub id: DeviceId,
    pub user_id: UserId,
    pub platform: Platform,
    /// The FCM token, or the Web Push endpoint.
    pub token: String,
    pub p256dh: Option<String>,
    pub auth_secret: Option<String>,
}
