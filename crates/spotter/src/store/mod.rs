//! Storage: two explicit backends behind one seam.
//!
//! - [`sqlite`]: embedded SQLite through rusqlite: inline reads on a few `query_only`
//!   connections with cached statements, and one writer connection on a thread of its own that
//!   commits whatever work is waiting in one transaction (one fsync for many writers).
//! - [`postgres`]: PostgreSQL through sqlx's typed `PgPool`; sends are committed in batches
//!   that lock their conversations in id order.
//!
//! Each backend has its own SQL, its own migrations (`migrations/sqlite`, `migrations/postgres`)
//! and maps its rows once. The seam is a trait per concern ([`Accounts`], [`Conversations`],
//! [`Messages`], [`Coaching`], [`Scheduling`], [`Audit`], [`Retention`], [`Console`],
//! [`Search`], [`Preferences`], [`Appends`], [`Outbox`], [`Uploads`], [`Import`], [`Export`],
//! [`Database`]): every operation the rest of Spotter
//! needs, each implemented by both backends in the module of that concern. [`Store`] is what
//! the rest holds: an enum over the two (static dispatch, no boxed futures, no generic
//! parameter spreading through every type above the store), plus the group commit of sends
//! ([`commit`]). Nothing above the store asks which
//! backend it runs on; neither backend decides a rule (a send's position, its retry, the
//! counters: `domain::plan` does).

pub mod commit;
pub mod postgres;
pub mod sqlite;
mod types;

use std::future::Future;
use std::sync::Arc;

use crate::clock::{Clock, Micros};
use crate::domain::events::Publisher;
use crate::domain::model::{
    Broadcast, BroadcastFailure, BroadcastId, Conversation, ConversationId, ConversationRef,
    Device, DeviceId, Image, Message, MessageId, Scheduled, ScheduledId, Template, TemplateId,
    User, UserId,
};
use crate::domain::plan::{Append, Appended};
pub use types::*;

/// What can go wrong below the seam, as the layers above need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached, or gave no connection in time: retry later (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Its disk is full: nothing was stored (507).
    #[error("database storage full: {0}")]
    Full(String),
    /// A unique constraint refused the write (a taken email, say).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Declares the seam once: a trait per concern, which both backends implement (each in the
/// module of that concern), and the same methods on [`Store`], each a `match` over the
/// backend.
macro_rules! seam {
    ($(
        $(#[$tdoc:meta])*
        trait $trait:ident {
            $(
                $(#[$doc:meta])*
                fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
            )*
        }
    )*) => {
        $(
            $(#[$tdoc])*
            pub trait $trait: Send + Sync {
                $(
                    $(#[$doc])*
                    fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send;
                )*
            }
        )*

        impl Store {
            $($(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &*self.backend {
                        Backend::Sqlite(s) => $trait::$name(s $(, $arg)*).await,
                        Backend::Postgres(p) => $trait::$name(p $(, $arg)*).await,
                    }
                }
            )*)*
        }
    };
}

seam! {
    /// Users, their trainers, refresh tokens and push devices.
    trait Accounts {
        /// One user by id: every authenticated request reads it.
        fn user(&self, id: UserId) -> Result<Option<User>>;
        fn user_by_email(&self, email: &str) -> Result<Option<User>>;
        /// The user and their password hash, for login.
        fn login_record(&self, email: &str) -> Result<Option<(User, String)>>;
        /// Replaces a user's password hash if it is still `old` (a password changed meanwhile
        /// is kept): whether it was replaced.
        fn replace_password_hash(&self, user: UserId, old: &str, new: &str) -> Result<bool>;
        /// A new user; a taken email is [`StoreError::Conflict`].
        fn insert_user(&self, user: &NewUser<'_>, now: Micros) -> Result<UserId>;
        /// A trainer's trainees by name (a case-insensitive match on names and email), and how
        /// many match.
        fn trainees(
            &self,
            trainer: UserId,
            search: Option<&str>,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<User>, i64)>;
        /// Links a trainee to a trainer (or another one).
        fn assign(&self, trainee: UserId, trainer: UserId) -> Result<()>;
        /// Unlinks a trainee and archives their conversation with the trainer, in one
        /// transaction; the conversation archived, if there was one.
        fn unassign(
            &self,
            trainer: UserId,
            trainee: UserId,
            now: Micros,
        ) -> Result<Option<ConversationId>>;
        /// Deactivates (or reactivates) an account.
        fn set_active(&self, user: UserId, active: bool, now: Micros) -> Result<bool>;
        /// Deletes an account: its conversations stay, with the user shown as removed.
        fn delete_user(&self, user: UserId) -> Result<bool>;
        /// Spends a refresh token: records it as used, and tells whether it had been already (a
        /// replay, which revokes its family) or its family was revoked.
        fn spend_refresh(&self, token: &RefreshUse<'_>, now: Micros) -> Result<Spend>;
        /// Registers a device; a known token moves to this user and is active again.
        fn upsert_device(&self, device: &NewDevice<'_>, now: Micros) -> Result<DeviceId>;
        /// Removes the user's device with this token; how many went.
        fn remove_device(&self, user: UserId, token: &str) -> Result<u64>;
        fn active_devices(&self, user: UserId) -> Result<Vec<Device>>;
    }

    /// Each user's notification switches.
    trait Preferences {
        /// A user's switches (all on for a user who never set them).
        fn preferences(&self, user: UserId) -> Result<NotificationPrefs>;
        fn set_preferences(
            &self,
            user: UserId,
            prefs: NotificationPrefs,
            now: Micros,
        ) -> Result<()>;
    }

    /// Conversations: who takes part, and the counters a list row needs.
    trait Conversations {
        /// Who takes part in a conversation and whether it is archived.
        fn conversation_ref(&self, id: ConversationId) -> Result<Option<ConversationRef>>;
        /// A page of a user's conversations, newest activity first, and how many there are.
        /// `archived`: the trainer's archived ones instead.
        fn conversations(
            &self,
            user: UserId,
            archived: bool,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<Conversation>, i64)>;
        /// Unread messages from others over the user's live conversations.
        fn unread_total(&self, user: UserId) -> Result<i64>;
        fn message_count(&self, id: ConversationId) -> Result<i64>;
        /// Each live conversation of the user with its message count (where a user socket's
        /// cursors start).
        fn message_counts(&self, user: UserId) -> Result<Vec<(ConversationId, i64)>>;
    }

    /// Messages: reading them, marking them read or delivered.
    trait Messages {
        fn messages(&self, conversation: ConversationId, range: Range) -> Result<Vec<Message>>;
        /// The position of the newest message at or before `id` (0 for none): where a resume's
        /// cursor starts.
        fn seq_of(&self, conversation: ConversationId, id: MessageId) -> Result<i64>;
        /// Marks every unread message of the other party read and clears the reader's counter,
        /// in one transaction; how many were marked.
        fn mark_read(
            &self,
            conversation: ConversationRef,
            reader: UserId,
            now: Micros,
        ) -> Result<u64>;
        /// Marks each recipient's undelivered messages up to a point delivered; for each message
        /// marked, its conversation and sender.
        fn mark_delivered(
            &self,
            marks: Vec<DeliveryMark>,
            now: Micros,
        ) -> Result<Vec<(ConversationId, Option<UserId>)>>;
        /// One message of a conversation (`None`: no such message there).
        fn message(&self, conversation: ConversationId, id: MessageId) -> Result<Option<Message>>;
        /// Replaces a message's text (and the conversation's preview, if it is the newest),
        /// unless it was deleted meanwhile: whether it was changed.
        fn edit_message(&self, edit: Edit, now: Micros) -> Result<bool>;
        /// Deletes a message: its text and image cleared, `deleted_at` set, the preview
        /// following if it is the newest; unless it was deleted already (`None`). The image it
        /// had, for the media store to remove.
        fn delete_message(
            &self,
            deletion: Deletion,
            now: Micros,
        ) -> Result<Option<Option<Image>>>;
    }

    /// A trainer's saved replies, and what the "needs reply" inbox and the response-time
    /// figures read (Part D 3 and 4).
    trait Coaching {
        /// The trainer's saved replies by title (lower-cased, then as written), then id.
        fn templates(&self, trainer: UserId) -> Result<Vec<Template>>;
        /// Saves a reply, unless the trainer keeps `cap` already (`None`). A title the trainer
        /// uses already (whatever its case) is [`StoreError::Conflict`].
        fn insert_template(
            &self,
            new: TemplateWrite,
            cap: i64,
            now: Micros,
        ) -> Result<Option<Template>>;
        /// Changes the fields given of one of the trainer's replies (`None`: no such reply of
        /// theirs); a title taken is [`StoreError::Conflict`].
        fn update_template(
            &self,
            id: TemplateId,
            change: TemplateWrite,
            now: Micros,
        ) -> Result<Option<Template>>;
        /// Deletes one of the trainer's replies: whether there was one.
        fn delete_template(&self, trainer: UserId, id: TemplateId) -> Result<bool>;
        /// A page of the trainer's live conversations whose newest message is the trainee's,
        /// longest waiting first, and how many there are (from the conversation rows alone).
        fn needing_reply(
            &self,
            trainer: UserId,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<Conversation>, i64)>;
        /// The trainer's messages created since `since` (any of their conversations), counted,
        /// with the first responses among them; and the live conversations waiting now.
        fn window(&self, trainer: UserId, since: Micros) -> Result<Window>;
    }

    /// Scheduled messages and broadcasts (Part D 1 and 2): durable work that whichever node is
    /// up claims when due, with a lease (`workers::dispatch`). Something is pending only while
    /// no unexpired lease holds it: a message being sent can no longer be edited or cancelled.
    trait Scheduling {
        /// Schedules a message, unless its author has `cap` pending already (`None`).
        fn insert_scheduled(
            &self,
            new: NewScheduled,
            cap: i64,
            now: Micros,
        ) -> Result<Option<Scheduled>>;
        /// The author's pending messages in a conversation, soonest first.
        fn pending_scheduled(
            &self,
            author: UserId,
            conversation: ConversationId,
        ) -> Result<Vec<Scheduled>>;
        /// Changes a pending message's text or time.
        fn change_scheduled(&self, change: ScheduledChange, now: Micros)
        -> Result<Changed<Scheduled>>;
        /// Cancels a pending message.
        fn cancel_scheduled(
            &self,
            author: UserId,
            conversation: ConversationId,
            id: ScheduledId,
            now: Micros,
        ) -> Result<Changed<Scheduled>>;
        /// Claims up to `limit` pending messages due by `now` that no unexpired lease holds,
        /// leased until `lease_until`, soonest first.
        fn claim_scheduled(
            &self,
            now: Micros,
            lease_until: Micros,
            limit: i64,
        ) -> Result<Vec<Scheduled>>;
        /// Records what became of a claimed message (unless it is no longer pending).
        fn finish_scheduled(
            &self,
            id: ScheduledId,
            reached: Reached,
            now: Micros,
        ) -> Result<Option<Scheduled>>;
        /// When the next scheduled message may be claimed: its time, or just after its lease
        /// ends if that is later.
        fn next_scheduled(&self) -> Result<Option<Micros>>;
        /// When the next broadcast may be claimed (as [`Scheduling::next_scheduled`]).
        fn next_broadcast(&self) -> Result<Option<Micros>>;
        /// Records a broadcast and its recipients in one transaction; a `client_broadcast_id`
        /// the trainer used already answers the first broadcast instead (`false`: not new).
        fn insert_broadcast(&self, new: NewBroadcast, now: Micros) -> Result<(Broadcast, bool)>;
        /// A page of the trainer's broadcasts, newest first, and how many there are.
        fn broadcasts(
            &self,
            trainer: UserId,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<Broadcast>, i64)>;
        /// One of the trainer's broadcasts, with the recipients it could not reach.
        fn broadcast(
            &self,
            trainer: UserId,
            id: BroadcastId,
        ) -> Result<Option<(Broadcast, Vec<BroadcastFailure>)>>;
        /// Cancels a scheduled broadcast that no node has begun.
        fn cancel_broadcast(
            &self,
            trainer: UserId,
            id: BroadcastId,
            now: Micros,
        ) -> Result<Changed<Broadcast>>;
        /// Claims the broadcast due longest ago that no unexpired lease holds (now `sending`),
        /// leased until `lease_until`.
        fn claim_broadcast(&self, now: Micros, lease_until: Micros) -> Result<Option<Broadcast>>;
        /// Up to `limit` recipients the broadcast has not reached yet.
        fn broadcast_targets(
            &self,
            broadcast: BroadcastId,
            trainer: UserId,
            limit: i64,
        ) -> Result<Vec<BroadcastTarget>>;
        /// Records what became of some recipients (each counted once, however often it is
        /// recorded), extends the lease, and finishes the broadcast when none is left.
        fn record_broadcast(
            &self,
            id: BroadcastId,
            reached: Vec<(UserId, Reached)>,
            lease_until: Micros,
            now: Micros,
        ) -> Result<Option<Broadcast>>;
    }

    /// The audit log (Part D 6): appended to, read, never changed. Appends take the log's
    /// lock, so entries chain in id order (`domain::audit` computes each hash).
    trait Audit {
        /// Appends an entry after the newest one (its id + 1, its hash as `prev_hash`;
        /// [`GENESIS`] for the first), sealed with `seal` (the entry's hash, computed by the
        /// domain), all under the log's lock.
        fn append_audit(
            &self,
            entry: NewAuditEntry,
            now: Micros,
            seal: fn(&AuditEntry) -> String,
        ) -> Result<AuditEntry>;
        /// A page of entries matching `filter`, newest first, and how many match.
        fn audit_entries(
            &self,
            filter: AuditFilter,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<AuditEntry>, i64)>;
        /// Up to `limit` entries after id `after`, oldest first (to walk the chain).
        fn audit_chain(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>>;
        /// Erases a user's personal data and appends `entry`, in one transaction (`None`: no
        /// such user). A trainee, an admin or an ambassador is deleted (their conversations
        /// stay, with them shown as removed); a trainer, whose account holds their trainees'
        /// conversations, is emptied instead: name, email, photo, password, devices, saved
        /// replies and preferences gone, the account deactivated, pending sends cancelled.
        /// The profile photo's key, for the media store to remove.
        fn erase_user(
            &self,
            user: UserId,
            entry: NewAuditEntry,
            now: Micros,
            seal: fn(&AuditEntry) -> String,
        ) -> Result<Option<(AuditEntry, Option<String>)>>;
    }

    /// Retention: messages older than a deployment keeps them become tombstones.
    trait Retention {
        /// Clears up to `limit` messages created before `cutoff` (oldest first) as a deletion
        /// does (text and image gone, `deleted_at` set, the preview following if one is its
        /// conversation's newest), in one transaction that also hands their images to the
        /// orphan sweeper (`media_uploads`, already past its grace); how many were cleared.
        fn purge_messages(&self, cutoff: Micros, limit: i64, now: Micros) -> Result<u64>;
    }

    /// What the admin console reads beyond a participant's view (Part D 6): every
    /// conversation, every account. The rules (who may, what is logged first) are
    /// `domain::console`'s.
    trait Console {
        /// A page of conversations, archived ones included, newest activity first, and how
        /// many match: all of them, or those `user` takes part in (trainer or trainee);
        /// `search` matches either participant's names or email (case-insensitive).
        fn all_conversations(
            &self,
            user: Option<UserId>,
            search: Option<&str>,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<Conversation>, i64)>;
        /// A page of accounts by name (then id), deactivated ones included, and how many
        /// match; `search` as [`Accounts::trainees`] matches.
        fn users(
            &self,
            search: Option<&str>,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<User>, i64)>;
    }

    /// Search over message text.
    trait Search {
        /// A page of the messages of `query.user`'s live conversations whose text contains
        /// `query.text` (case-insensitive; deleted ones excluded), newest first, and how many
        /// there are in all.
        fn search(&self, query: SearchQuery) -> Result<(Vec<Hit>, i64)>;
    }

    /// The push outbox and its delivery jobs.
    trait Outbox {
        /// Claims every unfinished row of each (recipient, conversation) that has a row older
        /// than `cutoff` (a burst is taken whole), leased until `lease_until`.
        fn claim_outbox(
            &self,
            now: Micros,
            cutoff: Micros,
            lease_until: Micros,
            limit: i64,
        ) -> Result<Vec<Pending>>;
        /// What a planning round decided, in one transaction: jobs to create, outbox rows done.
        fn record_round(&self, round: Round, now: Micros) -> Result<()>;
        /// Claims due jobs of active devices (jobs of devices gone meanwhile are closed).
        fn claim_jobs(&self, now: Micros, lease_until: Micros, limit: i64) -> Result<Vec<Job>>;
        fn record_job(&self, job: &Job, outcome: &JobOutcome, now: Micros) -> Result<()>;
        /// Deletes outbox rows finished before `before`, a bounded number per call.
        fn purge_outbox(&self, before: Micros) -> Result<u64>;
        fn push_depth(&self) -> Result<QueueDepth>;
    }

    /// The intent log of uploads (`media_uploads`): the keys of files stored for a message
    /// that may not have committed. A new message's transaction forgets its own keys.
    trait Uploads {
        /// Records the keys of an upload about to be stored: on disk before any file is.
        fn record_uploads(&self, keys: Vec<String>, now: Micros) -> Result<()>;
        /// Claims up to `limit` keys recorded before `cutoff` that no unexpired lease holds,
        /// leased until `lease_until`, each with whether a message names it. Nodes sweeping at
        /// once claim different keys.
        fn claim_uploads(
            &self,
            now: Micros,
            cutoff: Micros,
            lease_until: Micros,
            limit: i64,
        ) -> Result<Vec<ClaimedUpload>>;
        /// Forgets keys whose files were removed, or are kept by a message; how many went.
        fn forget_uploads(&self, keys: Vec<String>) -> Result<u64>;
    }

    /// `spotter import original`'s reads and writes (the rules are `import`'s): each write is
    /// one transaction, and records what it imported in `import_rows`.
    trait Import {
        /// Whether the schema has the import's tables (an older database a dry run reads: no).
        fn import_ready(&self) -> Result<bool>;
        /// What earlier runs imported of `kind` whose parent lies in `parents` (inclusive).
        fn imported(&self, kind: ImportKind, parents: (i64, i64)) -> Result<Vec<ImportedRow>>;
        /// Inserts or updates users, their trainers aside ([`Import::import_trainers`]); the
        /// profile photos no user has any more.
        fn import_users(&self, rows: Vec<ImportUser>) -> Result<Vec<Image>>;
        /// Sets imported users' trainers (once every user is in: a trainer may come later).
        fn import_trainers(&self, rows: Vec<(UserId, Option<UserId>)>) -> Result<()>;
        fn import_conversations(&self, rows: Vec<ImportConversation>) -> Result<()>;
        /// Inserts (appended in order) or updates messages; the images no message has any
        /// more, for the media store to remove.
        fn import_messages(&self, rows: Vec<ImportMessage>) -> Result<Vec<Image>>;
        /// Inserts or updates devices; those skipped because another device has the token.
        fn import_devices(&self, rows: Vec<ImportDevice>) -> Result<Vec<DeviceId>>;
        fn import_preferences(&self, rows: Vec<ImportPreferences>, now: Micros) -> Result<()>;
        /// Removes imported rows the original no longer has (with what depends on them); the
        /// images no message has any more.
        fn import_remove(&self, kind: ImportKind, ids: Vec<i64>) -> Result<Vec<Image>>;
        /// Recounts the touched conversations, moves the id sequences on, records the run.
        fn import_finish(&self, finish: ImportFinish) -> Result<()>;
    }

    /// What an export reads besides message pages ([`Messages::messages`] gives those).
    trait Export {
        /// Up to `limit` conversations `user` takes part in (either side, archived or not) with
        /// ids after `after`, by id.
        fn export_conversations(
            &self,
            user: UserId,
            after: ConversationId,
            limit: i64,
        ) -> Result<Vec<Conversation>>;
    }

    /// The database itself.
    trait Database {
        /// A trivial query: does the database answer?
        fn ping(&self) -> Result<()>;
        fn close(&self) -> ();
        /// Batches of sends that may be in flight at once (1 for one writer).
        fn writers(&self) -> usize;
    }
}

/// Appending messages, as `domain::plan` decides: the only way a message is stored. Only the
/// group commit ([`commit`]) calls these, so that every new message is published as it commits;
/// the rest of Spotter calls [`Store::append`] and [`Store::start`].
pub trait Appends: Send + Sync {
    /// Stores a batch of sends with their push outbox rows, in one transaction (a send that
    /// fails alone gets its own error).
    fn append_batch(
        &self,
        sends: Arc<Vec<Append>>,
        now: Micros,
    ) -> impl Future<Output = Result<Vec<Result<Appended>>>> + Send;
    /// Creates (or finds, and un-archives) a pair's conversation and appends the first
    /// message, in one transaction.
    fn start(
        &self,
        start: Arc<StartSend>,
        now: Micros,
    ) -> impl Future<Output = Result<Started>> + Send;
}

enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// The database, as every part of Spotter holds it. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
    commit: commit::Committer,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file when absent,
    /// and applies pending migrations. Each new message appended is published to `events` as
    /// its batch commits.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        clock: Clock,
        events: Publisher,
    ) -> anyhow::Result<Self> {
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(postgres::PgStore::connect(url, max_connections).await?)
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Backend::Sqlite(sqlite::SqliteStore::open(path, max_connections)?)
        } else {
            anyhow::bail!("unsupported database URL (want sqlite://… or postgres://…)");
        };
        let backend = Arc::new(backend);
        let commit = commit::Committer::spawn(Dispatch(backend.clone()), clock, events).await;
        Ok(Self { backend, commit })
    }

    /// Opens an existing database as it is, to read: no migration, no background work, nothing
    /// written (`spotter import original --dry-run`). `None` when a SQLite file is not there.
    pub async fn open_existing(url: &str, clock: Clock) -> anyhow::Result<Option<Self>> {
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres(postgres::PgStore::connect_as_is(url).await?)
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            match sqlite::SqliteStore::open_as_is(path)? {
                Some(store) => Backend::Sqlite(store),
                None => return Ok(None),
            }
        } else {
            anyhow::bail!("unsupported database URL (want sqlite://… or postgres://…)");
        };
        struct Nowhere;
        impl crate::domain::events::Publish for Nowhere {
            fn publish(&self, _: crate::domain::events::Event) {}
        }
        let backend = Arc::new(backend);
        let commit =
            commit::Committer::spawn(Dispatch(backend.clone()), clock, Arc::new(Nowhere)).await;
        Ok(Some(Self { backend, commit }))
    }

    /// Stores one send with the next group commit; returns once it is durable (and, if new,
    /// published).
    pub async fn append(&self, send: Append) -> Result<Appended> {
        self.commit.append(send).await
    }

    /// Starts (or resumes) a pair's conversation with its first message, through the group
    /// commit's queue; returns once it is durable (and, if new, published).
    pub async fn start(&self, start: StartSend) -> Result<Started> {
        self.commit.start(start).await
    }
}

/// The backend alone, for the group commit's workers.
#[derive(Clone)]
pub struct Dispatch(Arc<Backend>);

impl Dispatch {
    async fn append_batch(
        &self,
        sends: Arc<Vec<Append>>,
        now: Micros,
    ) -> Result<Vec<Result<Appended>>> {
        match &*self.0 {
            Backend::Sqlite(s) => s.append_batch(sends, now).await,
            Backend::Postgres(p) => p.append_batch(sends, now).await,
        }
    }

    async fn start(&self, start: Arc<StartSend>, now: Micros) -> Result<Started> {
        match &*self.0 {
            Backend::Sqlite(s) => s.start(start, now).await,
            Backend::Postgres(p) => p.start(start, now).await,
        }
    }

    async fn writers(&self) -> usize {
        match &*self.0 {
            Backend::Sqlite(s) => s.writers().await,
            Backend::Postgres(p) => p.writers().await,
        }
    }
}

/// A search box's text as a LIKE pattern: `%text%`, lower-cased, with `%`, `_` and `\`
/// matched literally (escaped with `\`); `None` for no text.
/// The `prev_hash` of the audit log's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub(crate) fn like_pattern(search: Option<&str>) -> Option<String> {
    let text = search.map(str::trim).filter(|s| !s.is_empty())?;
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_matches_its_pattern_characters_literally() {
        assert_eq!(like_pattern(Some(" Ana ")).as_deref(), Some("%ana%"));
        assert_eq!(
            like_pattern(Some("50%_\\")).as_deref(),
            Some("%50\\%\\_\\\\%")
        );
        assert_eq!(like_pattern(Some("  ")), None);
        assert_eq!(like_pattern(None), None);
    }
}
