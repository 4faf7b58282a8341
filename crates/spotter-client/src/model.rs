//! The contract's JSON, as a client reads it. Written independently of the server's types, so
//! the integration tests that use them also check the wire format.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub profile_image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Sender {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub profile_image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub sender: Option<Sender>,
    pub content: String,
    pub is_read: bool,
    pub read_at: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub client_message_id: Option<String>,
    #[serde(default)]
    pub delivered_at: Option<String>,
    /// Position in the conversation (Part B; absent from the original server).
    #[serde(default)]
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub trainer: UserSummary,
    pub trainee: Option<UserSummary>,
    pub last_message_at: Option<String>,
    pub last_message_preview: Option<String>,
    pub unread_count: i64,
    pub is_archived: bool,
    pub created_at: String,
}

/// Page-number paging's envelope.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Page<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// Cursor paging's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CursorPage {
    pub results: Vec<Message>,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Started {
    pub conversation_id: i64,
    pub message: Message,
    pub is_new_conversation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MarkedRead {
    pub conversation_id: i64,
    pub messages_marked: i64,
    pub read_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub profile_image: Option<String>,
    #[serde(default)]
    pub is_impersonating: bool,
    #[serde(default)]
    pub original_user_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Impersonation {
    pub access: String,
    pub refresh: String,
    pub user: User,
}
