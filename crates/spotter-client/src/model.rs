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
    /// `""` on an image-only message and on a deleted one.
    pub content: String,
    /// Absolute URL of the image (loads without a token), or null (Part C).
    #[serde(default)]
    pub image: Option<String>,
    pub is_read: bool,
    pub read_at: Option<String>,
    /// Null until edited (Part C).
    #[serde(default)]
    pub edited_at: Option<String>,
    /// A deleted message stays in place, empty (Part C).
    #[serde(default)]
    pub is_deleted: bool,
    pub created_at: String,
    #[serde(default)]
    pub client_message_id: Option<String>,
    #[serde(default)]
    pub delivered_at: Option<String>,
    /// Position in the conversation (Part B; absent from the original server).
    #[serde(default)]
    pub seq: i64,
    /// With an image: its size in pixels, and a small preview's URL (Spotter's own).
    #[serde(default)]
    pub image_width: Option<u32>,
    #[serde(default)]
    pub image_height: Option<u32>,
    #[serde(default)]
    pub thumbnail: Option<String>,
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
    /// In the "needs reply" list only: the trainee's oldest message after the trainer's last
    /// one (Part D 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<String>,
}

/// A trainer's saved reply (Part D 3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Template {
    pub id: i64,
    pub title: String,
    pub content: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A trainer's response-time figures over 7 or 30 days (Part D 4).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct MessagingStats {
    pub conversations: i64,
    pub messages_received: i64,
    pub messages_sent: i64,
    pub median_first_response_seconds: Option<f64>,
    pub p90_first_response_seconds: Option<f64>,
    pub waiting_now: i64,
}

/// One message to many of a trainer's trainees, and how far it got (Part D 1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Broadcast {
    pub id: i64,
    /// `scheduled`, `sending`, `done` or `cancelled`.
    pub state: String,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
    pub created_at: String,
    pub send_at: Option<String>,
    pub content: String,
    pub client_broadcast_id: Option<String>,
    pub finished_at: Option<String>,
    /// Who it could not reach (only in `GET broadcasts/<id>/`).
    #[serde(default)]
    pub failures: Vec<BroadcastFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct BroadcastFailure {
    pub trainee_id: i64,
    pub trainee_name: String,
    pub reason: String,
}

/// Who a broadcast goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    All,
    Trainees(Vec<i64>),
}

/// A message to be sent later (Part D 2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Scheduled {
    pub id: i64,
    pub conversation_id: i64,
    pub content: String,
    pub send_at: String,
    /// `pending`, `sent`, `cancelled` or `failed`.
    pub state: String,
    pub failure_reason: Option<String>,
    pub created_at: String,
    pub message_id: Option<i64>,
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

/// The page centred on a message (`?around=`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AroundPage {
    pub results: Vec<Message>,
    pub has_older: bool,
    pub has_newer: bool,
}

/// Where a search matched: characters `start` to `end` (excluded) of the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SearchResult {
    pub message_id: i64,
    pub conversation_id: i64,
    pub sender_id: Option<i64>,
    pub sender_first_name: String,
    pub sender_last_name: String,
    pub content: String,
    pub image_url: Option<String>,
    pub created_at: String,
    pub other_participant_id: Option<i64>,
    pub other_participant_first_name: String,
    pub other_participant_last_name: String,
    #[serde(default)]
    pub highlights: Vec<Highlight>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SearchPage {
    pub count: i64,
    pub num_pages: i64,
    pub page: i64,
    pub has_next: bool,
    pub has_previous: bool,
    pub results: Vec<SearchResult>,
}

/// The 11 notification switches, in the contract's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub struct NotificationPreferences {
    pub trainee_workout: bool,
    pub trainee_weight_checkin: bool,
    pub trainee_started_workout: bool,
    pub trainee_finished_workout: bool,
    pub churn_alert: bool,
    pub re_engagement: bool,
    pub trainer_announcement: bool,
    pub achievement_earned: bool,
    pub community_event: bool,
    pub new_message: bool,
    pub community_activity: bool,
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

/// A conversation as the admin console lists it (Part D 6): no preview, no unread count.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AdminConversation {
    pub id: i64,
    pub trainer: UserSummary,
    pub trainee: Option<UserSummary>,
    pub last_message_at: Option<String>,
    pub message_count: i64,
    pub is_archived: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
}

/// An entry of the audit log, as admins read it (Part D 6).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: i64,
    /// `admin.read_conversations`, `admin.read_messages`, `admin.search_messages`,
    /// `impersonation.start`, `impersonation.end`, `export`, `erase`, …
    pub action: String,
    pub subject_user_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub ip: Option<String>,
    pub created_at: String,
    pub hash: String,
}

/// An entry of one's access log: who did what with one's data (no address, no hash).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessEntry {
    pub id: i64,
    pub actor_id: i64,
    /// `"[removed]"` once the account is gone.
    pub actor_name: String,
    pub actor_role: Option<String>,
    pub action: String,
    pub subject_user_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub created_at: String,
}

/// The audit log's filters (`None`: any) and page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<i64>,
    pub subject: Option<i64>,
    /// ISO 8601, inclusive.
    pub since: Option<String>,
    pub until: Option<String>,
    /// From 1 (0 is the first too).
    pub page: u32,
}

/// An image to upload: its bytes, its declared type (`image/jpeg`, `image/png`, `image/webp`)
/// and a file name (never kept by the server).
#[derive(Debug, Clone, Copy)]
pub struct Photo<'a> {
    pub bytes: &'a [u8],
    pub content_type: &'a str,
    pub file_name: &'a str,
}
