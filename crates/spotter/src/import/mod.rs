//! `spotter import original`: a team running the original platform moves to Spotter keeping
//! every id, password, token and message.
//!
//! A run reads the original's five tables in one read-only snapshot ([`source`]) and compares
//! each row with the fingerprint of what the last run imported of it (`import_rows`): new rows
//! are inserted, changed ones updated (the original wins), vanished ones removed, the rest left
//! alone, so what only Spotter did meanwhile (its own messages, read marks, re-hashed
//! passwords) survives, and a second run copies only the difference. Messages stream
//! conversation by conversation in the original's order and are written in batches: memory
//! stays bounded by the largest conversation. Nothing is published: history makes no socket
//! event and no push. The rules of a row (roles, read marks, tombstones) are here; the SQL is
//! the store's ([`crate::store::Import`]).

mod report;
pub mod source;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::clock::{Clock, Micros};
use crate::config::Config;
use crate::domain::model::{ConversationId, DeviceId, Image, MessageId, Platform, Role, UserId};
use crate::media::{Media, StoredImage};
use crate::store::{
    ImportAction, ImportConversation, ImportDevice, ImportFinish, ImportImage, ImportKind,
    ImportMessage, ImportPreferences, ImportUser, ImportedRow, NotificationPrefs, Store,
};
pub use report::{Counts, Summary};
use source::{OrigMessage, Source};

/// Photos copied at once (each is decoded, cleaned and thumbnailed; the media store itself lets
/// one decode run per core).
const PHOTOS_AT_ONCE: usize = 4;

/// The original's file a changed message needs copied: its photo, unless deleted or the one the
/// last run copied.
fn photo_to_copy<'m>(
    m: &'m OrigMessage,
    action: ImportAction,
    had: Option<&String>,
) -> Option<&'m String> {
    let wanted = m.image.as_ref().filter(|_| !m.is_deleted)?;
    if action == ImportAction::Update && had == Some(wanted) {
        return None;
    }
    Some(wanted)
}

/// Messages per write: big enough for throughput, small enough that a serving Spotter's sends
/// never wait long behind one.
const BATCH: usize = 2_000;

/// How a run is asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The original's PostgreSQL URL.
    pub from: String,
    /// The original's `MEDIA_ROOT` (with `message_images/` in it).
    pub media_dir: Option<PathBuf>,
    /// Read and report; write nothing at all.
    pub dry_run: bool,
    /// Spotter's own new rows get ids above the original's highest plus this.
    pub id_margin: i64,
    /// Progress bars on the terminal.
    pub progress: bool,
}

/// Where a run writes: Spotter's store and media, or nowhere (a dry run, which reads what an
/// earlier run imported if the database is there).
struct Target {
    store: Option<Store>,
    media: Option<Media>,
    dry_run: bool,
}

impl Target {
    async fn imported(
        &self,
        kind: ImportKind,
        parents: (i64, i64),
    ) -> anyhow::Result<HashMap<i64, ImportedRow>> {
        let Some(store) = &self.store else {
            return Ok(HashMap::new());
        };
        Ok(store
            .imported(kind, parents)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }

    fn writes(&self) -> Option<&Store> {
        if self.dry_run {
            None
        } else {
            self.store.as_ref()
        }
    }
}

/// A row's fingerprint: the first 8 bytes of a SHA-256 of its imported columns as JSON (stable
/// across versions of Spotter and of Rust, unlike `Hash`).
fn fingerprint(row: &impl serde::Serialize) -> i64 {
    let json = serde_json::to_vec(row).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// What to do with a row, given what the last run imported of it.
fn action(earlier: Option<&ImportedRow>, fingerprint: i64) -> Option<ImportAction> {
    match earlier {
        None => Some(ImportAction::Insert),
        Some(e) if e.fingerprint != fingerprint => Some(ImportAction::Update),
        Some(_) => None,
    }
}

fn role(original: &str) -> Option<Role> {
    Role::parse(&original.to_ascii_lowercase())
}

fn platform(original: &str) -> Option<Platform> {
    match original.to_ascii_lowercase().as_str() {
        "ios" => Some(Platform::Ios),
        "android" => Some(Platform::Android),
        "web" => Some(Platform::Web),
        _ => None,
    }
}

/// Runs an import with Spotter's configuration; the summary of what it did (or, dry, would do).
pub async fn run(config: Config, options: Options) -> anyhow::Result<Summary> {
    let clock = Clock::system();
    let started_at = clock.now();
    let mut source = Source::open(&options.from).await?;
    let mut target = if options.dry_run {
        Target {
            store: crate::store::Store::open_existing(&config.database_url(), clock.clone())
                .await?,
            media: None,
            dry_run: true,
        }
    } else {
        let state = crate::startup::state_on(config, clock.clone())
            .await
            .context("opening Spotter's database and media store")?;
        Target {
            store: Some(state.store.clone()),
            media: Some(state.media.clone()),
            dry_run: false,
        }
    };
    if let Some(store) = &target.store
        && !store.import_ready().await?
    {
        // A dry run over a database from before imports existed: as if nothing was imported.
        target.store = None;
    }
    run_with(&mut source, target, &options, started_at, &clock).await
}

async fn run_with(
    source: &mut Source,
    target: Target,
    options: &Options,
    started_at: Micros,
    clock: &Clock,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::new(options.dry_run);
    let progress = report::Progress::new(options.progress);

    // Users first (every other table refers to them), their trainers once all are in.
    let users = source.users().await?;
    let earlier = target.imported(ImportKind::User, (0, 0)).await?;
    let mut known: HashSet<i64> = HashSet::new();
    let mut user_rows = Vec::new();
    let mut trainers = Vec::new();
    let bar = progress.bar("users", users.len() as u64);
    for u in &users {
        bar.inc(1);
        let Some(role) = role(&u.role) else {
            summary.skip("users", &format!("unknown role {:?}", u.role));
            continue;
        };
        known.insert(u.id);
        let print = fingerprint(u);
        let Some(action) = action(earlier.get(&u.id), print) else {
            summary.count("users").unchanged += 1;
            continue;
        };
        summary.tally("users", action);
        let (profile_image, media) = profile(
            &target,
            options,
            &mut summary,
            u,
            action,
            earlier.get(&u.id),
        )
        .await;
        user_rows.push(ImportUser {
            action,
            id: UserId(u.id),
            email: u.email.clone(),
            password_hash: u.password.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            role,
            deactivated_at: (!u.is_active).then_some(u.updated_at),
            created_at: u.created_at,
            profile_image,
            media,
            fingerprint: print,
        });
        trainers.push((UserId(u.id), u.parent_trainer_id));
    }
    bar.finish();
    if let Some(store) = target.writes() {
        for chunk in user_rows.chunks(BATCH) {
            let freed = store.import_users(chunk.to_vec()).await?;
            drop_files(&target, freed).await;
        }
        let trainers: Vec<_> = trainers
            .into_iter()
            .map(|(u, t)| (u, t.filter(|t| known.contains(t)).map(UserId)))
            .collect();
        for chunk in trainers.chunks(BATCH) {
            store.import_trainers(chunk.to_vec()).await?;
        }
    }

    // Conversations.
    let conversations = source.conversations().await?;
    let earlier = target.imported(ImportKind::Conversation, (0, 0)).await?;
    let mut live: HashSet<i64> = HashSet::new();
    let mut touched: BTreeSet<i64> = BTreeSet::new();
    let mut rows = Vec::new();
    let bar = progress.bar("conversations", conversations.len() as u64);
    for v in &conversations {
        bar.inc(1);
        if !known.contains(&v.trainer_id) {
            summary.skip("conversations", "its trainer is not imported");
            continue;
        }
        live.insert(v.id);
        let trainee = v.trainee_id.filter(|t| known.contains(t));
        let print = fingerprint(&(v, trainee));
        let Some(action) = action(earlier.get(&v.id), print) else {
            summary.count("conversations").unchanged += 1;
            continue;
        };
        summary.tally("conversations", action);
        touched.insert(v.id);
        rows.push(ImportConversation {
            action,
            id: ConversationId(v.id),
            trainer_id: UserId(v.trainer_id),
            trainee_id: trainee.map(UserId),
            archived_at: v.is_archived.then_some(v.updated_at),
            created_at: v.created_at,
            last_message_at: v.last_message_at,
            fingerprint: print,
        });
    }
    bar.finish();
    if let Some(store) = target.writes() {
        for chunk in rows.chunks(BATCH) {
            store.import_conversations(chunk.to_vec()).await?;
        }
    }
    let gone: Vec<i64> = earlier
        .keys()
        .filter(|id| !live.contains(id))
        .copied()
        .collect();
    remove(
        &target,
        ImportKind::Conversation,
        gone,
        "conversations",
        &mut summary,
    )
    .await?;

    // Messages, streamed.
    let total = source.message_count().await?;
    let max_message = {
        let bar = progress.bar("messages", total);
        let mut messages = Messages {
            target: &target,
            options,
            summary: &mut summary,
            touched: &mut touched,
            known: &known,
            live: &live,
            pending: Vec::new(),
            group: Vec::new(),
            covered: i64::MIN,
            max_id: 0,
            deleted_at: started_at,
        };
        let mut stream = source.messages();
        while let Some(m) = stream.next().await {
            let m = m.context("reading the original's messaging_messages")?;
            bar.inc(1);
            messages.push(m).await?;
        }
        drop(stream);
        messages.close_group();
        messages.flush(i64::MAX).await?;
        bar.finish();
        messages.max_id
    };

    // Devices and notification switches.
    let devices = source.devices().await?;
    let earlier = target.imported(ImportKind::Device, (0, 0)).await?;
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for d in &devices {
        let Some(platform) = platform(&d.platform) else {
            summary.skip("devices", &format!("unknown platform {:?}", d.platform));
            continue;
        };
        if !known.contains(&d.user_id) {
            summary.skip("devices", "its user is not imported");
            continue;
        }
        seen.insert(d.id);
        let print = fingerprint(d);
        let Some(action) = action(earlier.get(&d.id), print) else {
            summary.count("devices").unchanged += 1;
            continue;
        };
        rows.push(ImportDevice {
            action,
            id: DeviceId(d.id),
            user_id: UserId(d.user_id),
            platform,
            token: d.token.clone(),
            created_at: d.created_at,
            deactivated_at: (!d.is_active).then_some(d.updated_at),
            fingerprint: print,
        });
    }
    if let Some(store) = target.writes() {
        for chunk in rows.chunks(BATCH) {
            let skipped: HashSet<DeviceId> = store
                .import_devices(chunk.to_vec())
                .await?
                .into_iter()
                .collect();
            for d in chunk {
                if skipped.contains(&d.id) {
                    summary.skip("devices", "another user's device has its token");
                } else {
                    summary.tally("devices", d.action);
                }
            }
        }
    } else {
        for d in &rows {
            summary.tally("devices", d.action);
        }
    }
    let gone: Vec<i64> = earlier
        .keys()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    remove(&target, ImportKind::Device, gone, "devices", &mut summary).await?;

    let prefs = source.preferences().await?;
    let earlier = target.imported(ImportKind::Preferences, (0, 0)).await?;
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for p in &prefs {
        if !known.contains(&p.user_id) {
            summary.skip("notification_preferences", "its user is not imported");
            continue;
        }
        seen.insert(p.user_id);
        let print = fingerprint(p);
        let Some(action) = action(earlier.get(&p.user_id), print) else {
            summary.count("notification_preferences").unchanged += 1;
            continue;
        };
        summary.tally("notification_preferences", action);
        rows.push(ImportPreferences {
            action,
            user_id: UserId(p.user_id),
            prefs: NotificationPrefs(p.values),
            fingerprint: print,
        });
    }
    if let Some(store) = target.writes() {
        for chunk in rows.chunks(BATCH) {
            store
                .import_preferences(chunk.to_vec(), clock.now())
                .await?;
        }
    }
    let gone: Vec<i64> = earlier
        .keys()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    remove(
        &target,
        ImportKind::Preferences,
        gone,
        "notification_preferences",
        &mut summary,
    )
    .await?;

    // Users the original no longer has, last: their conversations went above.
    let earlier = target.imported(ImportKind::User, (0, 0)).await?;
    let gone: Vec<i64> = earlier
        .keys()
        .filter(|id| !known.contains(id))
        .copied()
        .collect();
    remove(&target, ImportKind::User, gone, "users", &mut summary).await?;

    if let Some(store) = target.writes() {
        let highest = |ids: &mut dyn Iterator<Item = i64>| ids.max().unwrap_or(0);
        let margin = options.id_margin.max(0);
        let next_ids = vec![
            (
                "users",
                highest(&mut users.iter().map(|u| u.id)) + margin + 1,
            ),
            (
                "conversations",
                highest(&mut conversations.iter().map(|v| v.id)) + margin + 1,
            ),
            ("messages", max_message + margin + 1),
            (
                "devices",
                highest(&mut devices.iter().map(|d| d.id)) + margin + 1,
            ),
        ];
        let touched: Vec<ConversationId> = touched
            .into_iter()
            .filter(|c| live.contains(c))
            .map(ConversationId)
            .collect();
        let bar = progress.bar("counters", touched.len() as u64);
        store
            .import_finish(ImportFinish {
                touched,
                next_ids,
                source: source::redact(&options.from),
                started_at,
                finished_at: clock.now(),
                summary: serde_json::to_string(&summary)?,
            })
            .await?;
        bar.finish();
    }
    summary.seconds = (clock.now() - started_at) as f64 / 1e6;
    Ok(summary)
}

/// A user's profile photo: the one the last run copied, or a new copy. Avatars are shown small,
/// so Spotter keeps the 320 px thumbnail the media store makes (without metadata) and not the
/// full-size file.
async fn profile(
    target: &Target,
    options: &Options,
    summary: &mut Summary,
    u: &source::OrigUser,
    action: ImportAction,
    earlier: Option<&ImportedRow>,
) -> (ImportImage, Option<String>) {
    let had = earlier.and_then(|e| e.media.clone());
    if action == ImportAction::Update && u.profile_image == had {
        return (ImportImage::Keep, had);
    }
    let Some(name) = &u.profile_image else {
        return (ImportImage::Set(None), None);
    };
    let dir = options.media_dir.as_deref();
    match copy_image(target, dir, name).await.tally(summary) {
        Some(stored) => {
            if let Some(media) = &target.media {
                media.remove(&stored.key, None).await;
            }
            let avatar = Image::files(stored.thumbnail, None);
            (ImportImage::Set(Some(avatar)), Some(name.clone()))
        }
        None => (ImportImage::Set(None), None),
    }
}

/// Removes what the original no longer has, and the files only it used.
async fn remove(
    target: &Target,
    kind: ImportKind,
    ids: Vec<i64>,
    table: &str,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    summary.count(table).removed += ids.len() as u64;
    let Some(store) = target.writes() else {
        return Ok(());
    };
    for chunk in ids.chunks(BATCH) {
        let freed = store.import_remove(kind, chunk.to_vec()).await?;
        drop_files(target, freed).await;
    }
    Ok(())
}

async fn drop_files(target: &Target, images: Vec<Image>) {
    if let Some(media) = &target.media {
        for i in images {
            media.remove(&i.key, i.thumbnail.as_deref()).await;
        }
    }
}

/// The message stream's state: the current conversation's rows, the batch waiting to be
/// written, and how far (in conversation ids) the comparison with earlier runs has got.
struct Messages<'a> {
    target: &'a Target,
    options: &'a Options,
    summary: &'a mut Summary,
    touched: &'a mut BTreeSet<i64>,
    known: &'a HashSet<i64>,
    live: &'a HashSet<i64>,
    /// Whole conversations, in order.
    pending: Vec<OrigMessage>,
    /// The conversation being read.
    group: Vec<OrigMessage>,
    /// Conversations up to this id are compared and written.
    covered: i64,
    max_id: i64,
    /// A tombstone's `deleted_at` (the original keeps no time for it): this run's start.
    deleted_at: Micros,
}

impl Messages<'_> {
    async fn push(&mut self, m: OrigMessage) -> anyhow::Result<()> {
        self.max_id = self.max_id.max(m.id);
        if self
            .group
            .first()
            .is_some_and(|g| g.conversation_id != m.conversation_id)
        {
            self.close_group();
            if self.pending.len() >= BATCH {
                let last = self.pending.last().map_or(i64::MIN, |p| p.conversation_id);
                self.flush(last).await?;
            }
        }
        self.group.push(m);
        Ok(())
    }

    fn close_group(&mut self) {
        self.pending.append(&mut self.group);
    }

    /// Compares and writes the pending conversations, and removes what earlier runs imported
    /// of conversations up to `up_to` that the original no longer has.
    async fn flush(&mut self, up_to: i64) -> anyhow::Result<()> {
        let from = self.covered.saturating_add(1);
        let earlier = self
            .target
            .imported(ImportKind::Message, (from, up_to))
            .await?;
        let batch = std::mem::take(&mut self.pending);
        let mut seen = HashSet::with_capacity(batch.len());
        let mut changed = Vec::new();
        for m in batch {
            if !self.live.contains(&m.conversation_id) {
                self.summary
                    .skip("messages", "its conversation is not imported");
                continue;
            }
            seen.insert(m.id);
            let print = fingerprint(&m);
            let before = earlier.get(&m.id);
            let Some(action) = action(before, print) else {
                self.summary.count("messages").unchanged += 1;
                continue;
            };
            self.summary.tally("messages", action);
            self.touched.insert(m.conversation_id);
            let had = before.and_then(|b| b.media.clone());
            changed.push((m, action, had, print));
        }
        // Photos a few at once: the media store decodes one per core.
        let dir = self.options.media_dir.as_deref();
        let target = self.target;
        let copies: Vec<Option<Copied>> = futures_util::stream::iter(&changed)
            .map(|(m, action, had, _)| async move {
                match photo_to_copy(m, *action, had.as_ref()) {
                    Some(name) => Some(copy_image(target, dir, name).await),
                    None => None,
                }
            })
            .buffered(PHOTOS_AT_ONCE)
            .collect()
            .await;
        let mut rows = Vec::with_capacity(changed.len());
        for ((m, action, had, print), copied) in changed.into_iter().zip(copies) {
            let stored = copied.and_then(|c| c.tally(self.summary));
            rows.push(self.row(m, action, had, print, stored));
        }
        let gone: Vec<i64> = earlier
            .values()
            .filter(|r| !seen.contains(&r.id))
            .map(|r| {
                self.touched.insert(r.parent);
                r.id
            })
            .collect();
        if let Some(store) = self.target.writes()
            && !rows.is_empty()
        {
            let freed = store.import_messages(rows).await?;
            drop_files(self.target, freed).await;
        }
        remove(
            self.target,
            ImportKind::Message,
            gone,
            "messages",
            self.summary,
        )
        .await?;
        self.covered = up_to;
        Ok(())
    }

    /// A message as Spotter stores it: read marks from `is_read` (its time, or the message's
    /// own when the original kept none), a tombstone for a deleted one, and its image: the one
    /// the last run copied, or `stored` (copied now; `None`: none, or it could not be).
    fn row(
        &self,
        m: OrigMessage,
        action: ImportAction,
        had: Option<String>,
        print: i64,
        stored: Option<StoredImage>,
    ) -> ImportMessage {
        let wanted = m.image.clone().filter(|_| !m.is_deleted);
        let (image, media) = if action == ImportAction::Update && wanted == had {
            (ImportImage::Keep, had)
        } else {
            match stored {
                Some(stored) => (
                    ImportImage::Set(Some(Image {
                        key: stored.key,
                        thumbnail: Some(stored.thumbnail),
                        width: Some(stored.width),
                        height: Some(stored.height),
                    })),
                    wanted,
                ),
                None => (ImportImage::Set(None), None),
            }
        };
        ImportMessage {
            action,
            id: MessageId(m.id),
            conversation_id: ConversationId(m.conversation_id),
            sender_id: m.sender_id.filter(|s| self.known.contains(s)).map(UserId),
            content: if m.is_deleted {
                String::new()
            } else {
                m.content
            },
            image,
            media,
            created_at: m.created_at,
            read_at: if m.is_read {
                Some(m.read_at.unwrap_or(m.created_at))
            } else {
                None
            },
            edited_at: m.edited_at,
            deleted_at: m.is_deleted.then_some(self.deleted_at),
            fingerprint: print,
        }
    }
}

/// What became of one image file of the original.
enum Copied {
    /// Stored in Spotter's media store.
    Stored(StoredImage),
    /// There (a dry run only looks).
    Found,
    /// Not in `--media-dir` (or no `--media-dir`).
    Missing,
    /// Not a JPEG, PNG or WebP that decodes.
    Invalid,
}

impl Copied {
    /// Counts it, and gives the stored image if there is one.
    fn tally(self, summary: &mut Summary) -> Option<StoredImage> {
        let images = &mut summary.images;
        match self {
            Self::Stored(stored) => {
                images.copied += 1;
                Some(stored)
            }
            Self::Found => {
                images.copied += 1;
                None
            }
            Self::Missing => {
                images.missing += 1;
                None
            }
            Self::Invalid => {
                images.invalid += 1;
                None
            }
        }
    }
}

/// Copies one image from the original's media folder into Spotter's media store, cleaned like
/// an upload; a missing or unreadable file is a warning, and the row goes on without it.
async fn copy_image(target: &Target, media_dir: Option<&Path>, name: &str) -> Copied {
    let Some(dir) = media_dir else {
        return Copied::Missing;
    };
    // A name that would leave the media folder is treated as missing, and never read.
    let safe = !name.split('/').any(|s| s == ".." || s.is_empty()) && !name.starts_with('/');
    let path = dir.join(name);
    let read = if safe {
        tokio::fs::read(&path).await.ok()
    } else {
        None
    };
    let bytes = match read {
        Some(bytes) => bytes,
        None => {
            tracing::warn!(file = %path.display(), "import: image file missing");
            return Copied::Missing;
        }
    };
    let Some(media) = &target.media else {
        return Copied::Found;
    };
    match media.put_imported(bytes.into()).await {
        Ok(stored) => Copied::Stored(stored),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "import: image not taken");
            Copied::Invalid
        }
    }
}
