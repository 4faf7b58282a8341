//! The values that cross the seam, beside the domain's own records (`domain::model`).

use crate::clock::Micros;
use crate::domain::coaching::TemplateTitle;
use crate::domain::input::{ClientMessageId, MessageBody};
use crate::domain::model::{
    ConversationId, ConversationRef, Device, DeviceId, Image, MessageId, Platform, Role,
    ScheduledId, Sender, User, UserId,
};
use crate::domain::plan::{Append, Appended};

/// A user to create.
pub struct NewUser<'a> {
    /// Stored lower-cased.
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role: Role,
    pub parent_trainer_id: Option<UserId>,
}

/// A saved reply to store: for an insert, both fields; for a change, the ones given.
#[derive(Debug, Clone)]
pub struct TemplateWrite {
    pub trainer: UserId,
    pub title: Option<TemplateTitle>,
    pub content: Option<MessageBody>,
}

/// A message to schedule (validated).
#[derive(Debug, Clone)]
pub struct NewScheduled {
    pub conversation: ConversationId,
    pub author: UserId,
    pub content: MessageBody,
    pub send_at: Micros,
}

/// Which scheduled message a change is for, and what it changes (`None`: unchanged).
#[derive(Debug, Clone)]
pub struct ScheduledChange {
    pub id: ScheduledId,
    pub conversation: ConversationId,
    pub author: UserId,
    pub content: Option<MessageBody>,
    pub send_at: Option<Micros>,
}

/// What became of a change to something pending (a scheduled message, a scheduled broadcast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed<T> {
    Done(T),
    /// It exists, but is no longer pending (sent, cancelled, failed, or being sent now).
    NotPending,
    NotFound,
}

/// A broadcast to record, with its recipients (checked: the trainer's own trainees).
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub trainer: UserId,
    pub content: String,
    pub client_broadcast_id: Option<String>,
    pub send_at: Option<Micros>,
    pub recipients: Vec<UserId>,
}

/// A recipient a broadcast has not reached yet, as its fan-out needs it: the trainee's account
/// as it is now (`None`: gone) and their conversation with the trainer, if there is one.
#[derive(Debug, Clone)]
pub struct BroadcastTarget {
    pub trainee_id: UserId,
    pub trainee: Option<User>,
    pub conversation: Option<ConversationRef>,
}

/// What became of one recipient of a broadcast, or of a scheduled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reached {
    Sent(MessageId),
    Failed(String),
}

/// A window of a trainer's messages, as the response-time figures need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// Conversations with a message in the window.
    pub conversations: i64,
    /// Messages of the trainees, and of the trainer.
    pub received: i64,
    pub sent: i64,
    /// Each first response's delay: from the trainee message that opened the wait to the
    /// trainer's next message, both in the window.
    pub first_responses: Vec<Micros>,
    /// Live conversations waiting for the trainer's answer now.
    pub waiting_now: i64,
}

/// A refresh token being used.
pub struct RefreshUse<'a> {
    pub jti: &'a str,
    pub family: &'a str,
    pub user: UserId,
}

/// What using a refresh token came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// First use: spent now.
    Fresh,
    /// It was spent before: a copy. Its family is revoked now.
    Replayed,
    /// Its family was revoked earlier.
    Revoked,
}

/// A push device to register.
pub struct NewDevice<'a> {
    pub user_id: UserId,
    pub platform: Platform,
    pub token: &'a str,
    pub p256dh: Option<&'a str>,
    pub auth_secret: Option<&'a str>,
}

/// Which messages of a conversation to read, each in id (= commit) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Newest first, by offset (the original page-number paging).
    Page { limit: i64, offset: i64 },
    /// Newest first, strictly older than `before` (the newest when `None`).
    Before {
        before: Option<MessageId>,
        limit: i64,
    },
    /// Oldest first, strictly newer than `after`: what resume replays.
    After { after: MessageId, limit: i64 },
    /// Oldest first, after position `seq`: what a socket reads to fill a gap.
    AfterSeq { seq: i64, limit: i64 },
    /// The unread ones with ids from `lo` to `hi`, oldest first (a push burst).
    UnreadBetween { lo: MessageId, hi: MessageId },
}

/// A recipient's live socket has the messages of a conversation up to `up_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryMark {
    pub conversation: ConversationId,
    pub recipient: UserId,
    pub up_to: MessageId,
}

/// A trainer's first message to a trainee, which starts (or resumes) their conversation.
#[derive(Debug, Clone)]
pub struct StartSend {
    pub trainer: Sender,
    pub trainee: UserId,
    pub body: MessageBody,
    pub image: Option<Image>,
    /// As [`Append::image_deadline`].
    pub image_deadline: Option<Micros>,
    pub cmid: Option<ClientMessageId>,
}

impl StartSend {
    /// The first message as a send to the pair's conversation `id` (just un-archived).
    pub fn to(&self, id: ConversationId) -> Append {
        Append {
            conversation: ConversationRef {
                id,
                trainer_id: self.trainer.id,
                trainee_id: Some(self.trainee),
                archived_at: None,
            },
            sender: self.trainer.clone(),
            body: self.body.clone(),
            image: self.image.clone(),
            image_deadline: self.image_deadline,
            cmid: self.cmid.clone(),
        }
    }
}

/// What a start came to.
#[derive(Debug, Clone)]
pub struct Started {
    pub conversation: ConversationRef,
    pub appended: Appended,
}

/// An outbox row claimed for planning.
#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub id: i64,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub recipient_id: UserId,
}

/// An upload's key claimed by the sweeper, and whether a message names it (then its file is
/// kept, and only the key forgotten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedUpload {
    pub key: String,
    pub referenced: bool,
}

/// A push job to create: one notification for one device.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub device: crate::domain::model::DeviceId,
    pub recipient: UserId,
    pub conversation: ConversationId,
    /// The notification as JSON.
    pub payload: String,
}

/// How an outbox row was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Settled {
    /// A notification went out (as jobs).
    Notified,
    /// The recipient had the conversation open.
    Reading,
    /// The recipient had read the messages by then.
    Read,
    /// The recipient has no active device.
    NoDevices,
    /// The recipient switched message notifications off.
    Muted,
}

impl Settled {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notified => "notified",
            Self::Reading => "reading",
            Self::Read => "read",
            Self::NoDevices => "no_devices",
            Self::Muted => "muted",
        }
    }
}

/// One planning round's writes.
#[derive(Debug, Default)]
pub struct Round {
    pub jobs: Vec<NewJob>,
    pub settled: Vec<(Settled, Vec<i64>)>,
}

/// A delivery to make.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub device: Device,
    pub conversation_id: ConversationId,
    pub payload: String,
    pub attempts: i64,
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Sent,
    /// The device is unregistered (404/410): deactivate it.
    Gone(String),
    /// Try again at this time.
    Retry {
        at: Micros,
        error: String,
    },
    /// Give up, with the reason.
    Dead(String),
}

impl JobOutcome {
    /// The job's state after it (`push_jobs.state`).
    pub fn state(&self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Gone(_) => "gone",
            Self::Retry { .. } => "pending",
            Self::Dead(_) => "dead",
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Sent => None,
            Self::Gone(e) | Self::Dead(e) | Self::Retry { error: e, .. } => Some(e),
        }
    }
}

/// Outbox rows waiting, jobs waiting, jobs dead-lettered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub outbox: i64,
    pub jobs: i64,
    pub dead: i64,
}

/// A message's new text, as `domain` decided it.
#[derive(Debug, Clone)]
pub struct Edit {
    pub conversation: ConversationId,
    pub message: MessageId,
    /// Its position: the conversation's preview follows only if it is the newest.
    pub seq: i64,
    pub content: String,
    pub preview: String,
}

/// A message to delete (it stays as a tombstone).
#[derive(Debug, Clone, Copy)]
pub struct Deletion {
    pub conversation: ConversationId,
    pub message: MessageId,
    pub seq: i64,
}

/// A search: the text to find (case-insensitive substring), whose, where, which page.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub user: UserId,
    /// Trimmed, at least 2 characters.
    pub text: String,
    /// Only this conversation.
    pub conversation: Option<ConversationId>,
    pub limit: i64,
    pub offset: i64,
}

/// A message found, with its conversation's participants' names.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: crate::domain::model::Message,
    pub conversation: ConversationRef,
    /// First and last name of the trainer, and of the trainee (`None`: account deleted).
    pub trainer_name: (String, String),
    pub trainee_name: Option<(String, String)>,
}

/// A user's notification switches (all on unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPrefs(pub [bool; 11]);

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self([true; 11])
    }
}

impl NotificationPrefs {
    /// The statement that writes a user's switches (insert, or replace those of the row there):
    /// `user_id` and `updated_at` first, then each switch in [`Self::NAMES`]'s order; `param`
    /// numbers the placeholders (`?` on SQLite, `$` on PostgreSQL).
    pub fn upsert_sql(param: char) -> String {
        let names = Self::NAMES;
        format!(
            "INSERT INTO notification_preferences (user_id, updated_at, {}) \
             VALUES ({param}1, {param}2, {}) \
             ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at, {}",
            names.join(", "),
            (3..3 + names.len())
                .map(|i| format!("{param}{i}"))
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(|n| format!("{n} = excluded.{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The switches, in the contract's order (also the columns' names).
    pub const NAMES: [&'static str; 11] = [
        "trainee_workout",
        "trainee_weight_checkin",
        "trainee_started_workout",
        "trainee_finished_workout",
        "churn_alert",
        "re_engagement",
        "trainer_announcement",
        "achievement_earned",
        "community_event",
        "new_message",
        "community_activity",
    ];

    /// Message pushes.
    pub fn new_message(&self) -> bool {
        self.0[9]
    }
}

/// What `spotter import original` keeps track of, per kind of row it copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportKind {
    User,
    Conversation,
    Message,
    Device,
    /// Keyed by the user.
    Preferences,
}

impl ImportKind {
    pub const ALL: [ImportKind; 5] = [
        Self::User,
        Self::Conversation,
        Self::Message,
        Self::Device,
        Self::Preferences,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Conversation => "conversation",
            Self::Message => "message",
            Self::Device => "device",
            Self::Preferences => "preferences",
        }
    }
}

/// A row as an earlier run imported it: the fingerprint of the original's row then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRow {
    pub id: i64,
    /// A message's conversation; 0 for the other kinds.
    pub parent: i64,
    pub fingerprint: i64,
    /// A message's image as the original named it.
    pub media: Option<String>,
}

/// Whether a row is new to Spotter or replaces what an earlier run imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportAction {
    Insert,
    Update,
}

/// A user as the original has it (ids kept).
#[derive(Debug, Clone)]
pub struct ImportUser {
    pub action: ImportAction,
    pub id: UserId,
    /// As stored there, case included.
    pub email: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub deactivated_at: Option<Micros>,
    pub created_at: Micros,
    /// The profile photo (its key in the media store).
    pub profile_image: ImportImage,
    /// The original's file name of the profile photo (kept to recognise it next run).
    pub media: Option<String>,
    pub fingerprint: i64,
}

/// A conversation as the original has it; its counters and preview are Spotter's, computed
/// from its messages when the run finishes ([`ImportFinish`]).
#[derive(Debug, Clone)]
pub struct ImportConversation {
    pub action: ImportAction,
    pub id: ConversationId,
    pub trainer_id: UserId,
    /// `None`: the trainee's account was deleted.
    pub trainee_id: Option<UserId>,
    pub archived_at: Option<Micros>,
    pub created_at: Micros,
    pub last_message_at: Option<Micros>,
    pub fingerprint: i64,
}

/// What happens to a message's image when it is imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportImage {
    /// The same file as the last run: what Spotter holds stays.
    Keep,
    /// A new file (stored already), or none (`None`): what Spotter held is replaced.
    Set(Option<Image>),
}

/// A message as the original has it. New ones are appended to their conversation in the
/// original's order (`created_at`, then id): a batch holds them in that order.
#[derive(Debug, Clone)]
pub struct ImportMessage {
    pub action: ImportAction,
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// `None`: the author's account is gone.
    pub sender_id: Option<UserId>,
    pub content: String,
    pub image: ImportImage,
    /// The original's file name of the image (kept to recognise it next run).
    pub media: Option<String>,
    pub created_at: Micros,
    pub read_at: Option<Micros>,
    pub edited_at: Option<Micros>,
    pub deleted_at: Option<Micros>,
    pub fingerprint: i64,
}

/// A push device as the original has it (FCM tokens).
#[derive(Debug, Clone)]
pub struct ImportDevice {
    pub action: ImportAction,
    pub id: DeviceId,
    pub user_id: UserId,
    pub platform: Platform,
    pub token: String,
    pub created_at: Micros,
    pub deactivated_at: Option<Micros>,
    pub fingerprint: i64,
}

/// A user's notification switches as the original has them.
#[derive(Debug, Clone)]
pub struct ImportPreferences {
    pub action: ImportAction,
    pub user_id: UserId,
    pub prefs: NotificationPrefs,
    pub fingerprint: i64,
}

/// The end of a run that wrote: counters and previews of the conversations it touched, ids
/// moved past the original's, and the run's record.
#[derive(Debug, Clone)]
pub struct ImportFinish {
    pub touched: Vec<ConversationId>,
    /// The lowest id Spotter may give next, per table (`users`, `conversations`, `messages`,
    /// `devices`).
    pub next_ids: Vec<(&'static str, i64)>,
    pub source: String,
    pub started_at: Micros,
    pub finished_at: Micros,
    pub summary: String,
}

/// An entry to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub actor: UserId,
    pub action: &'static str,
    pub subject: Option<UserId>,
    pub conversation: Option<ConversationId>,
    pub ip: Option<String>,
}

/// An entry of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: UserId,
    pub action: String,
    pub subject_user_id: Option<UserId>,
    pub conversation_id: Option<ConversationId>,
    pub ip: Option<String>,
    pub created_at: Micros,
    /// The hash of the entry before (64 zeros for the first).
    pub prev_hash: String,
    pub hash: String,
}

/// Which audit entries to read (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<UserId>,
    pub subject: Option<UserId>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
}
