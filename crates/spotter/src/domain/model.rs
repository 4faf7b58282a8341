//! The records Spotter works with, as the domain sees them (the store fills them, `http` and
//! `ws` turn them into wire JSON).

use crate::clock::Micros;

pub type UserId = i64;
pub type ConversationId = i64;
pub type MessageId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Trainer,
    Trainee,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Trainer => "trainer",
            Self::Trainee => "trainee",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "trainer" => Some(Self::Trainer),
            "trainee" => Some(Self::Trainee),
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

/// The parts of a conversation that authorization needs.
#[derive(Debug, Clone, Copy)]
pub struct ConversationRef {
    pub id: ConversationId,
    pub trainer_id: UserId,
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

/// A message's author as shown inside the message.
#[derive(Debug, Clone)]
pub struct Sender {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub profile_image: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// `None` if the author's account was deleted.
    pub sender: Option<Sender>,
    pub content: String,
    pub client_message_id: Option<String>,
    pub created_at: Micros,
    pub delivered_at: Option<Micros>,
    pub read_at: Option<Micros>,
}

#[derive(Debug, Clone)]
pub struct Device {
    pub id: i64,
    pub user_id: UserId,
    pub platform: String,
    pub token: String,
    pub p256dh: Option<String>,
    pub auth_secret: Option<String>,
}
