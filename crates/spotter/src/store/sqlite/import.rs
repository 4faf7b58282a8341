//! `spotter import original`'s writes on SQLite (the rules are src/import's): each call is one
//! job of the writer, so a run interleaves with a serving Spotter's sends, batch by batch.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::domain::model::{ConversationId, DeviceId, Image, UserId, preview};
use crate::store::{
    Import, ImportAction, ImportConversation, ImportDevice, ImportFinish, ImportImage, ImportKind,
    ImportMessage, ImportPreferences, ImportUser, ImportedRow, Result, StoreError,
};

/// Records what a row was imported as.
fn remember(
    c: &Connection,
    kind: ImportKind,
    id: i64,
    parent: i64,
    fingerprint: i64,
    media: Option<&str>,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO import_rows (kind, id, parent, fingerprint, media) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, \
         fingerprint = excluded.fingerprint, media = excluded.media",
    )?
    .execute(params![kind.as_str(), id, parent, fingerprint, media])?;
    Ok(())
}

/// A new row whose id Spotter already gave to a row of its own: an error naming it, never an
/// overwrite.
fn taken(c: &Connection, table: &str, id: i64) -> Result<()> {
    let found: Option<i64> = c
        .prepare_cached(&format!("SELECT id FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match found {
        Some(id) => Err(StoreError::Conflict(format!(
            "{table} id {id} exists in Spotter but did not come from the original \
             (raise --id-margin, or remove that row)"
        ))),
        None => Ok(()),
    }
}

/// A user's profile photo when it is one of the media store's (not a URL from elsewhere).
fn profile_of(c: &Connection, user: UserId) -> rusqlite::Result<Option<Image>> {
    Ok(
        c.prepare_cached("SELECT profile_image FROM users WHERE id = ?1")?
            .query_row([user], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten()
            .filter(|key| !key.contains("://"))
            .map(|key| Image::files(key, None)),
    )
}

/// The files of a row whose first two columns are an image key and its thumbnail's.
fn files(r: &Row<'_>) -> rusqlite::Result<Option<Image>> {
    let thumbnail = r.get(1)?;
    Ok(r.get::<_, Option<String>>(0)?
        .map(|key| Image::files(key, thumbnail)))
}

fn image_of(c: &Connection, id: i64) -> rusqlite::Result<Option<Image>> {
    Ok(
        c.prepare_cached("SELECT image, thumbnail FROM messages WHERE id = ?1")?
            .query_row([id], files)
            .optional()?
            .flatten(),
    )
}

impl Import for SqliteStore {
    async fn import_ready(&self) -> Result<bool> {
        self.pool.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'import_rows')",
                [],
                |r| r.get(0),
            )
        })
    }

    async fn imported(&self, kind: ImportKind, parents: (i64, i64)) -> Result<Vec<ImportedRow>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT id, parent, fingerprint, media FROM import_rows \
                 WHERE kind = ?1 AND parent BETWEEN ?2 AND ?3",
            )?
            .query_map(params![kind.as_str(), parents.0, parents.1], |r| {
                Ok(ImportedRow {
                    id: r.get(0)?,
                    parent: r.get(1)?,
                    fingerprint: r.get(2)?,
                    media: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    async fn import_users(&self, rows: Vec<ImportUser>) -> Result<Vec<Image>> {
        self.pool
            .write(move |c| {
                let mut freed = Vec::new();
                for u in &rows {
                    let photo = match &u.profile_image {
                        ImportImage::Set(Some(i)) => Some(i.key.clone()),
                        _ => None,
                    };
                    match u.action {
                        ImportAction::Insert => {
                            taken(c, "users", u.id.get())?;
                            let same_email: Option<i64> = c
                                .prepare_cached("SELECT id FROM users WHERE email = ?1")?
                                .query_row([&u.email], |r| r.get(0))
                                .optional()?;
                            if let Some(other) = same_email {
                                return Err(StoreError::Conflict(format!(
                                    "user {} has the email {} of Spotter's user {other}",
                                    u.id, u.email
                                )));
                            }
                            c.prepare_cached(
                                "INSERT INTO users (id, email, password_hash, first_name, \
                                 last_name, role, deactivated_at, created_at, profile_image) \
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            )?
                            .execute(params![
                                u.id,
                                u.email,
                                u.password_hash,
                                u.first_name,
                                u.last_name,
                                u.role,
                                u.deactivated_at,
                                u.created_at,
                                photo
                            ])?;
                        }
                        ImportAction::Update => {
                            c.prepare_cached(
                                "UPDATE users SET email = ?2, password_hash = ?3, first_name = ?4, \
                                 last_name = ?5, role = ?6, created_at = ?8, deactivated_at = \
                                 CASE WHEN ?7 IS NULL THEN NULL ELSE COALESCE(deactivated_at, ?7) END \
                                 WHERE id = ?1",
                            )?
                            .execute(params![
                                u.id,
                                u.email,
                                u.password_hash,
                                u.first_name,
                                u.last_name,
                                u.role,
                                u.deactivated_at,
                                u.created_at
                            ])?;
                            if let ImportImage::Set(_) = u.profile_image {
                                freed.extend(profile_of(c, u.id)?);
                                c.prepare_cached(
                                    "UPDATE users SET profile_image = ?2 WHERE id = ?1",
                                )?
                                .execute(params![u.id, photo])?;
                            }
                        }
                    }
                    remember(
                        c,
                        ImportKind::User,
                        u.id.get(),
                        0,
                        u.fingerprint,
                        u.media.as_deref(),
                    )?;
                }
                Ok(freed)
            })
            .await
    }

    async fn import_trainers(&self, rows: Vec<(UserId, Option<UserId>)>) -> Result<()> {
        self.pool
            .write(move |c| {
                let mut set =
                    c.prepare_cached("UPDATE users SET parent_trainer_id = ?2 WHERE id = ?1")?;
                for (user, trainer) in &rows {
                    set.execute(params![user, trainer])?;
                }
                Ok(())
            })
            .await
    }

    async fn import_conversations(&self, rows: Vec<ImportConversation>) -> Result<()> {
        self.pool
            .write(move |c| {
                for v in &rows {
                    match v.action {
                        ImportAction::Insert => {
                            taken(c, "conversations", v.id.get())?;
                            let pair: Option<i64> = c
                                .prepare_cached(
                                    "SELECT id FROM conversations WHERE trainer_id = ?1 \
                                     AND trainee_id = ?2",
                                )?
                                .query_row(params![v.trainer_id, v.trainee_id], |r| r.get(0))
                                .optional()?;
                            if let Some(other) = pair {
                                return Err(StoreError::Conflict(format!(
                                    "conversation {} is between the same trainer and trainee as \
                                     Spotter's conversation {other}",
                                    v.id
                                )));
                            }
                            c.prepare_cached(
                                "INSERT INTO conversations (id, trainer_id, trainee_id, \
                                 archived_at, created_at, last_message_at, last_activity_at) \
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?6, ?5))",
                            )?
                            .execute(params![
                                v.id,
                                v.trainer_id,
                                v.trainee_id,
                                v.archived_at,
                                v.created_at,
                                v.last_message_at
                            ])?;
                        }
                        // Spotter's own later messages keep the newest time.
                        ImportAction::Update => {
                            c.prepare_cached(
                                "UPDATE conversations SET trainer_id = ?2, trainee_id = ?3, \
                                 archived_at = CASE WHEN ?4 IS NULL THEN NULL \
                                 ELSE COALESCE(archived_at, ?4) END, created_at = ?5, \
                                 last_message_at = MAX(COALESCE(last_message_at, ?6), \
                                 COALESCE(?6, last_message_at)) WHERE id = ?1",
                            )?
                            .execute(params![
                                v.id,
                                v.trainer_id,
                                v.trainee_id,
                                v.archived_at,
                                v.created_at,
                                v.last_message_at
                            ])?;
                        }
                    }
                    remember(
                        c,
                        ImportKind::Conversation,
                        v.id.get(),
                        0,
                        v.fingerprint,
                        None,
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn import_messages(&self, rows: Vec<ImportMessage>) -> Result<Vec<Image>> {
        self.pool
            .write(move |c| {
                let indexed: i64 = c
                    .prepare_cached("SELECT indexed_up_to FROM search_progress")?
                    .query_row([], |r| r.get(0))?;
                let mut last_seq: HashMap<ConversationId, i64> = HashMap::new();
                let mut freed = Vec::new();
                for m in &rows {
                    let (key, width, height, thumbnail) = match &m.image {
                        ImportImage::Set(Some(i)) => {
                            (Some(&i.key), i.width, i.height, i.thumbnail.as_ref())
                        }
                        _ => (None, None, None, None),
                    };
                    match m.action {
                        ImportAction::Insert => {
                            taken(c, "messages", m.id.get())?;
                            let seq = match last_seq.get_mut(&m.conversation_id) {
                                Some(seq) => seq,
                                None => {
                                    let now: i64 = c
                                        .prepare_cached(
                                            "SELECT COALESCE(MAX(seq), 0) FROM messages \
                                             WHERE conversation_id = ?1",
                                        )?
                                        .query_row([m.conversation_id], |r| r.get(0))?;
                                    last_seq.entry(m.conversation_id).or_insert(now)
                                }
                            };
                            *seq += 1;
                            c.prepare_cached(
                                "INSERT INTO messages (id, conversation_id, seq, sender_id, \
                                 content, created_at, delivered_at, read_at, image, image_width, \
                                 image_height, thumbnail, edited_at, deleted_at) \
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                            )?
                            .execute(params![
                                m.id,
                                m.conversation_id,
                                *seq,
                                m.sender_id,
                                m.content,
                                m.created_at,
                                m.read_at,
                                key,
                                width,
                                height,
                                thumbnail,
                                m.edited_at,
                                m.deleted_at
                            ])?;
                            // The writer indexes what lies above its mark; below it, here.
                            if m.id.get() <= indexed {
                                c.prepare_cached(
                                    "INSERT INTO messages_search (rowid, content) VALUES (?1, ?2)",
                                )?
                                .execute(params![m.id, m.content])?;
                            }
                        }
                        ImportAction::Update => {
                            if let ImportImage::Set(_) = m.image {
                                freed.extend(image_of(c, m.id.get())?);
                                c.prepare_cached(
                                    "UPDATE messages SET image = ?2, image_width = ?3, \
                                     image_height = ?4, thumbnail = ?5 WHERE id = ?1",
                                )?
                                .execute(params![m.id, key, width, height, thumbnail])?;
                            }
                            // A read mark is never taken back: Spotter's stays if the original
                            // has none.
                            c.prepare_cached(
                                "UPDATE messages SET sender_id = ?2, content = ?3, \
                                 read_at = COALESCE(?4, read_at), \
                                 delivered_at = COALESCE(delivered_at, ?4), edited_at = ?5, \
                                 deleted_at = ?6 WHERE id = ?1",
                            )?
                            .execute(params![
                                m.id,
                                m.sender_id,
                                m.content,
                                m.read_at,
                                m.edited_at,
                                m.deleted_at
                            ])?;
                        }
                    }
                    remember(
                        c,
                        ImportKind::Message,
                        m.id.get(),
                        m.conversation_id.get(),
                        m.fingerprint,
                        m.media.as_deref(),
                    )?;
                }
                // The page count follows the positions handed out (sends read it for theirs).
                let mut count =
                    c.prepare_cached("UPDATE conversations SET message_count = ?2 WHERE id = ?1")?;
                for (conversation, seq) in &last_seq {
                    count.execute(params![conversation, seq])?;
                }
                Ok(freed)
            })
            .await
    }

    async fn import_devices(&self, rows: Vec<ImportDevice>) -> Result<Vec<DeviceId>> {
        self.pool
            .write(move |c| {
                let mut skipped = Vec::new();
                for d in &rows {
                    let changed = match d.action {
                        ImportAction::Insert => c
                            .prepare_cached(
                                "INSERT INTO devices (id, user_id, platform, token, created_at, \
                                 deactivated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                                 ON CONFLICT DO NOTHING",
                            )?
                            .execute(params![
                                d.id,
                                d.user_id,
                                d.platform,
                                d.token,
                                d.created_at,
                                d.deactivated_at
                            ])?,
                        ImportAction::Update => c
                            .prepare_cached(
                                "UPDATE devices SET user_id = ?2, platform = ?3, token = ?4, \
                                 deactivated_at = ?5 WHERE id = ?1 AND NOT EXISTS \
                                 (SELECT 1 FROM devices WHERE token = ?4 AND id <> ?1)",
                            )?
                            .execute(params![
                                d.id,
                                d.user_id,
                                d.platform,
                                d.token,
                                d.deactivated_at
                            ])?,
                    };
                    if changed == 0 {
                        skipped.push(d.id);
                    } else {
                        remember(c, ImportKind::Device, d.id.get(), 0, d.fingerprint, None)?;
                    }
                }
                Ok(skipped)
            })
            .await
    }

    async fn import_preferences(
        &self,
        rows: Vec<ImportPreferences>,
        now: crate::clock::Micros,
    ) -> Result<()> {
        self.pool
            .write(move |c| {
                for p in &rows {
                    super::preferences::upsert(c, p.user_id, p.prefs, now)?;
                    remember(
                        c,
                        ImportKind::Preferences,
                        p.user_id.get(),
                        0,
                        p.fingerprint,
                        None,
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn import_remove(&self, kind: ImportKind, ids: Vec<i64>) -> Result<Vec<Image>> {
        self.pool
            .write(move |c| {
                let mut freed = Vec::new();
                let images = match kind {
                    ImportKind::Message => "SELECT image, thumbnail FROM messages WHERE id = ?1",
                    ImportKind::Conversation => {
                        "SELECT image, thumbnail FROM messages WHERE conversation_id = ?1"
                    }
                    ImportKind::User => {
                        "SELECT m.image, m.thumbnail FROM messages m \
                         JOIN conversations c ON c.id = m.conversation_id WHERE c.trainer_id = ?1 \
                         UNION ALL SELECT profile_image, NULL FROM users \
                         WHERE id = ?1 AND profile_image NOT LIKE '%://%'"
                    }
                    ImportKind::Device | ImportKind::Preferences => "SELECT NULL, NULL",
                };
                let delete = match kind {
                    ImportKind::User => "DELETE FROM users WHERE id = ?1",
                    ImportKind::Conversation => "DELETE FROM conversations WHERE id = ?1",
                    ImportKind::Message => "DELETE FROM messages WHERE id = ?1",
                    ImportKind::Device => "DELETE FROM devices WHERE id = ?1",
                    ImportKind::Preferences => {
                        "DELETE FROM notification_preferences WHERE user_id = ?1"
                    }
                };
                for id in &ids {
                    let found = c
                        .prepare_cached(images)?
                        .query_map([id], files)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    freed.extend(found.into_iter().flatten());
                    c.prepare_cached(delete)?.execute([id])?;
                    c.prepare_cached("DELETE FROM import_rows WHERE kind = ?1 AND id = ?2")?
                        .execute(params![kind.as_str(), id])?;
                    if kind == ImportKind::Conversation {
                        c.prepare_cached(
                            "DELETE FROM import_rows WHERE kind = 'message' AND parent = ?1",
                        )?
                        .execute([id])?;
                    }
                }
                Ok(freed)
            })
            .await
    }

    async fn import_finish(&self, finish: ImportFinish) -> Result<()> {
        // Counters and previews a few hundred conversations a job: sends wait no longer.
        for chunk in finish.touched.chunks(500) {
            let chunk = chunk.to_vec();
            self.pool.write(move |c| recount(c, &chunk)).await?;
        }
        self.pool
            .write(move |c| {
                for (table, next) in &finish.next_ids {
                    c.prepare_cached(
                        "INSERT INTO sqlite_sequence (name, seq) SELECT ?1, 0 \
                         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)",
                    )?
                    .execute([table])?;
                    c.prepare_cached(
                        "UPDATE sqlite_sequence SET seq = MAX(seq, ?2 - 1) WHERE name = ?1",
                    )?
                    .execute(params![table, next])?;
                }
                c.prepare_cached(
                    "INSERT INTO import_runs (source, started_at, finished_at, summary) \
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    finish.source,
                    finish.started_at,
                    finish.finished_at,
                    finish.summary
                ])?;
                Ok(())
            })
            .await
    }
}

/// A conversation's counters and preview, from its messages as they are now.
fn recount(c: &Connection, conversations: &[ConversationId]) -> Result<()> {
    for id in conversations {
        let newest: Option<(String, bool, bool)> = c
            .prepare_cached(
                "SELECT content, image IS NOT NULL, deleted_at IS NOT NULL FROM messages \
                 WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let preview = newest.map(|(text, image, deleted)| preview(&text, image, deleted));
        c.prepare_cached(
            "UPDATE conversations SET \
             message_count = (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = ?1), \
             trainer_unread = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = ?1 \
               AND m.read_at IS NULL AND (m.sender_id IS NULL OR m.sender_id <> conversations.trainer_id)), \
             trainee_unread = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = ?1 \
               AND m.read_at IS NULL AND m.sender_id = conversations.trainer_id), \
             awaiting_reply_since = (SELECT m.created_at FROM messages m \
               WHERE m.conversation_id = ?1 \
               AND (m.sender_id IS NULL OR m.sender_id <> conversations.trainer_id) \
               AND m.seq > COALESCE((SELECT MAX(t.seq) FROM messages t WHERE t.conversation_id = ?1 \
                 AND t.sender_id = conversations.trainer_id), 0) ORDER BY m.seq LIMIT 1), \
             last_activity_at = COALESCE(last_message_at, created_at), \
             last_message_preview = ?2 WHERE id = ?1",
        )?
        .execute(params![id, preview])?;
    }
    Ok(())
}
