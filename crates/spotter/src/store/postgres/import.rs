//! `spotter import original`'s writes on PostgreSQL (the rules are src/import's): each call one
//! transaction. New messages go in with one statement a batch, under their conversations'
//! row locks taken in id order, as sends take them: a run interleaves with a serving Spotter.

use std::collections::BTreeMap;

use sqlx::{PgConnection, Row};

use super::PgStore;
use crate::clock::Micros;
use crate::domain::model::{ConversationId, DeviceId, Image, UserId, preview};
use crate::store::{
    Import, ImportAction, ImportConversation, ImportDevice, ImportFinish, ImportImage, ImportKind,
    ImportMessage, ImportPreferences, ImportUser, ImportedRow, Result, StoreError,
};

/// Records what rows were imported as, in one statement.
async fn remember(
    conn: &mut PgConnection,
    kind: ImportKind,
    rows: &[(i64, i64, i64, Option<&str>)],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO import_rows (kind, id, parent, fingerprint, media) \
         SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) \
         ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, \
         fingerprint = excluded.fingerprint, media = excluded.media",
    )
    .bind(kind.as_str())
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// New rows whose ids Spotter already gave to rows of its own: an error naming them, never an
/// overwrite.
async fn taken(conn: &mut PgConnection, table: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!("SELECT id FROM {table} WHERE id = ANY($1) ORDER BY id LIMIT 10");
    let found: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(ids)
        .fetch_all(conn)
        .await?;
    if found.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "{table} ids {found:?} exist in Spotter but did not come from the original \
         (raise --id-margin, or remove those rows)"
    )))
}

/// The files of a row whose first two columns are an image key and its thumbnail's.
fn image_row(r: &sqlx::postgres::PgRow) -> sqlx::Result<Option<Image>> {
    let thumbnail = r.try_get(1)?;
    Ok(r.try_get::<Option<String>, _>(0)?
        .map(|key| Image::files(key, thumbnail)))
}

impl Import for PgStore {
    async fn import_ready(&self) -> Result<bool> {
        Ok(
            sqlx::query_scalar("SELECT to_regclass('import_rows') IS NOT NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn imported(&self, kind: ImportKind, parents: (i64, i64)) -> Result<Vec<ImportedRow>> {
        let rows = sqlx::query(
            "SELECT id, parent, fingerprint, media FROM import_rows \
             WHERE kind = $1 AND parent BETWEEN $2 AND $3",
        )
        .bind(kind.as_str())
        .bind(parents.0)
        .bind(parents.1)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ImportedRow {
                    id: r.try_get(0)?,
                    parent: r.try_get(1)?,
                    fingerprint: r.try_get(2)?,
                    media: r.try_get(3)?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }

    async fn import_users(&self, rows: Vec<ImportUser>) -> Result<Vec<Image>> {
        let mut tx = self.pool.begin().await?;
        let new: Vec<i64> = rows
            .iter()
            .filter(|u| u.action == ImportAction::Insert)
            .map(|u| u.id.get())
            .collect();
        taken(&mut tx, "users", &new).await?;
        let mut freed = Vec::new();
        for u in &rows {
            let photo = match &u.profile_image {
                ImportImage::Set(Some(i)) => Some(i.key.as_str()),
                _ => None,
            };
            if u.action == ImportAction::Update
                && let ImportImage::Set(_) = u.profile_image
            {
                let old: Option<Option<String>> =
                    sqlx::query_scalar("SELECT profile_image FROM users WHERE id = $1")
                        .bind(u.id)
                        .fetch_optional(&mut *tx)
                        .await?;
                freed.extend(
                    old.flatten()
                        .filter(|k| !k.contains("://"))
                        .map(|key| Image::files(key, None)),
                );
                sqlx::query("UPDATE users SET profile_image = $2 WHERE id = $1")
                    .bind(u.id)
                    .bind(photo)
                    .execute(&mut *tx)
                    .await?;
            }
            let sql = match u.action {
                ImportAction::Insert => {
                    let same_email: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                            .bind(&u.email)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if let Some(other) = same_email {
                        return Err(StoreError::Conflict(format!(
                            "user {} has the email {} of Spotter's user {other}",
                            u.id, u.email
                        )));
                    }
                    "INSERT INTO users (id, email, password_hash, first_name, last_name, role, \
                     deactivated_at, created_at, profile_image) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                }
                ImportAction::Update => {
                    "UPDATE users SET email = $2, password_hash = $3, first_name = $4, \
                     last_name = $5, role = $6, created_at = $8, deactivated_at = \
                     CASE WHEN $7::bigint IS NULL THEN NULL ELSE COALESCE(deactivated_at, $7) END \
                     WHERE id = $1"
                }
            };
            let query = sqlx::query(sql)
                .bind(u.id)
                .bind(&u.email)
                .bind(&u.password_hash)
                .bind(&u.first_name)
                .bind(&u.last_name)
                .bind(u.role)
                .bind(u.deactivated_at)
                .bind(u.created_at);
            match u.action {
                ImportAction::Insert => query.bind(photo),
                ImportAction::Update => query,
            }
            .execute(&mut *tx)
            .await?;
        }
        let seen: Vec<_> = rows
            .iter()
            .map(|u| (u.id.get(), 0, u.fingerprint, u.media.as_deref()))
            .collect();
        remember(&mut tx, ImportKind::User, &seen).await?;
        tx.commit().await?;
        Ok(freed)
    }

    async fn import_trainers(&self, rows: Vec<(UserId, Option<UserId>)>) -> Result<()> {
        sqlx::query(
            "UPDATE users SET parent_trainer_id = u.trainer \
             FROM UNNEST($1::bigint[], $2::bigint[]) AS u(id, trainer) WHERE users.id = u.id",
        )
        .bind(rows.iter().map(|r| r.0.get()).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.1.map(|t| t.get()))
                .collect::<Vec<_>>(),
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn import_conversations(&self, rows: Vec<ImportConversation>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let new: Vec<i64> = rows
            .iter()
            .filter(|v| v.action == ImportAction::Insert)
            .map(|v| v.id.get())
            .collect();
        taken(&mut tx, "conversations", &new).await?;
        for v in &rows {
            let sql = match v.action {
                ImportAction::Insert => {
                    let pair: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM conversations WHERE trainer_id = $1 AND trainee_id = $2",
                    )
                    .bind(v.trainer_id)
                    .bind(v.trainee_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(other) = pair {
                        return Err(StoreError::Conflict(format!(
                            "conversation {} is between the same trainer and trainee as \
                             Spotter's conversation {other}",
                            v.id
                        )));
                    }
                    "INSERT INTO conversations (id, trainer_id, trainee_id, archived_at, \
                     created_at, last_message_at, last_activity_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, COALESCE($6, $5))"
                }
                // Spotter's own later messages keep the newest time.
                ImportAction::Update => {
                    "UPDATE conversations SET trainer_id = $2, trainee_id = $3, \
                     archived_at = CASE WHEN $4::bigint IS NULL THEN NULL \
                     ELSE COALESCE(archived_at, $4) END, created_at = $5, \
                     last_message_at = GREATEST(last_message_at, $6) WHERE id = $1"
                }
            };
            sqlx::query(sql)
                .bind(v.id)
                .bind(v.trainer_id)
                .bind(v.trainee_id)
                .bind(v.archived_at)
                .bind(v.created_at)
                .bind(v.last_message_at)
                .execute(&mut *tx)
                .await?;
        }
        let seen: Vec<_> = rows
            .iter()
            .map(|v| (v.id.get(), 0, v.fingerprint, None))
            .collect();
        remember(&mut tx, ImportKind::Conversation, &seen).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn import_messages(&self, rows: Vec<ImportMessage>) -> Result<Vec<Image>> {
        let mut tx = self.pool.begin().await?;
        let inserts: Vec<&ImportMessage> = rows
            .iter()
            .filter(|m| m.action == ImportAction::Insert)
            .collect();
        let new: Vec<i64> = inserts.iter().map(|m| m.id.get()).collect();
        taken(&mut tx, "messages", &new).await?;
        // Positions: after the conversation's last, under its row lock (taken in id order, as
        // sends take theirs, so the two never deadlock).
        let mut last_seq: BTreeMap<ConversationId, i64> =
            inserts.iter().map(|m| (m.conversation_id, 0)).collect();
        let locked: Vec<i64> = last_seq.keys().map(|c| c.get()).collect();
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, message_count FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        )
        .bind(&locked)
        .fetch_all(&mut *tx)
        .await?;
        for (id, count) in counts {
            last_seq.insert(ConversationId(id), count);
        }
        let mut seqs = Vec::with_capacity(inserts.len());
        for m in &inserts {
            let seq = last_seq.entry(m.conversation_id).or_insert(0);
            *seq += 1;
            seqs.push(*seq);
        }
        let image = |m: &ImportMessage| match &m.image {
            ImportImage::Set(Some(i)) => Some(i.clone()),
            _ => None,
        };
        if !inserts.is_empty() {
            let images: Vec<Option<Image>> = inserts.iter().map(|m| image(m)).collect();
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, content, created_at, \
                 delivered_at, read_at, image, image_width, image_height, thumbnail, edited_at, \
                 deleted_at) SELECT id, c, s, sender, content, at, read, read, image, w, h, thumb, \
                 edited, deleted FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], \
                 $4::bigint[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::int[], \
                 $10::int[], $11::text[], $12::bigint[], $13::bigint[]) \
                 AS u(id, c, s, sender, content, at, read, image, w, h, thumb, edited, deleted)",
            )
            .bind(&new)
            .bind(
                inserts
                    .iter()
                    .map(|m| m.conversation_id.get())
                    .collect::<Vec<_>>(),
            )
            .bind(&seqs)
            .bind(
                inserts
                    .iter()
                    .map(|m| m.sender_id.map(|s| s.get()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                inserts
                    .iter()
                    .map(|m| m.content.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(inserts.iter().map(|m| m.created_at).collect::<Vec<_>>())
            .bind(inserts.iter().map(|m| m.read_at).collect::<Vec<_>>())
            .bind(
                images
                    .iter()
                    .map(|i| i.as_ref().map(|i| i.key.as_str()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                images
                    .iter()
                    .map(|i| i.as_ref().and_then(|i| i.width).map(|w| w as i32))
                    .collect::<Vec<_>>(),
            )
            .bind(
                images
                    .iter()
                    .map(|i| i.as_ref().and_then(|i| i.height).map(|h| h as i32))
                    .collect::<Vec<_>>(),
            )
            .bind(
                images
                    .iter()
                    .map(|i| i.as_ref().and_then(|i| i.thumbnail.as_deref()))
                    .collect::<Vec<_>>(),
            )
            .bind(inserts.iter().map(|m| m.edited_at).collect::<Vec<_>>())
            .bind(inserts.iter().map(|m| m.deleted_at).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE conversations SET message_count = u.n \
                 FROM UNNEST($1::bigint[], $2::bigint[]) AS u(id, n) WHERE conversations.id = u.id",
            )
            .bind(last_seq.keys().map(|c| c.get()).collect::<Vec<_>>())
            .bind(last_seq.values().copied().collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        let mut freed = Vec::new();
        for m in rows.iter().filter(|m| m.action == ImportAction::Update) {
            if let ImportImage::Set(new_image) = &m.image {
                let old = sqlx::query("SELECT image, thumbnail FROM messages WHERE id = $1")
                    .bind(m.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(old) = old {
                    freed.extend(image_row(&old)?);
                }
                sqlx::query(
                    "UPDATE messages SET image = $2, image_width = $3, image_height = $4, \
                     thumbnail = $5 WHERE id = $1",
                )
                .bind(m.id)
                .bind(new_image.as_ref().map(|i| i.key.as_str()))
                .bind(new_image.as_ref().and_then(|i| i.width).map(|w| w as i32))
                .bind(new_image.as_ref().and_then(|i| i.height).map(|h| h as i32))
                .bind(new_image.as_ref().and_then(|i| i.thumbnail.as_deref()))
                .execute(&mut *tx)
                .await?;
            }
            // A read mark is never taken back: Spotter's stays if the original has none.
            sqlx::query(
                "UPDATE messages SET sender_id = $2, content = $3, \
                 read_at = COALESCE($4, read_at), delivered_at = COALESCE(delivered_at, $4), \
                 edited_at = $5, deleted_at = $6 WHERE id = $1",
            )
            .bind(m.id)
            .bind(m.sender_id)
            .bind(&m.content)
            .bind(m.read_at)
            .bind(m.edited_at)
            .bind(m.deleted_at)
            .execute(&mut *tx)
            .await?;
        }
        let seen: Vec<_> = rows
            .iter()
            .map(|m| {
                (
                    m.id.get(),
                    m.conversation_id.get(),
                    m.fingerprint,
                    m.media.as_deref(),
                )
            })
            .collect();
        remember(&mut tx, ImportKind::Message, &seen).await?;
        tx.commit().await?;
        Ok(freed)
    }

    async fn import_devices(&self, rows: Vec<ImportDevice>) -> Result<Vec<DeviceId>> {
        let mut tx = self.pool.begin().await?;
        let mut skipped = Vec::new();
        let mut seen = Vec::new();
        for d in &rows {
            let sql = match d.action {
                ImportAction::Insert => {
                    "INSERT INTO devices (id, user_id, platform, token, deactivated_at, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
                }
                ImportAction::Update => {
                    "UPDATE devices SET user_id = $2, platform = $3, token = $4, \
                     deactivated_at = $5, created_at = $6 WHERE id = $1 AND NOT EXISTS \
                     (SELECT 1 FROM devices WHERE token = $4 AND id <> $1)"
                }
            };
            let done = sqlx::query(sql)
                .bind(d.id)
                .bind(d.user_id)
                .bind(d.platform)
                .bind(&d.token)
                .bind(d.deactivated_at)
                .bind(d.created_at)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                skipped.push(d.id);
            } else {
                seen.push((d.id.get(), 0, d.fingerprint, None));
            }
        }
        remember(&mut tx, ImportKind::Device, &seen).await?;
        tx.commit().await?;
        Ok(skipped)
    }

    async fn import_preferences(&self, rows: Vec<ImportPreferences>, now: Micros) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for p in &rows {
            super::preferences::upsert(&mut tx, p.user_id, p.prefs, now).await?;
        }
        let seen: Vec<_> = rows
            .iter()
            .map(|p| (p.user_id.get(), 0, p.fingerprint, None))
            .collect();
        remember(&mut tx, ImportKind::Preferences, &seen).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn import_remove(&self, kind: ImportKind, ids: Vec<i64>) -> Result<Vec<Image>> {
        let images = match kind {
            ImportKind::Message => "SELECT image, thumbnail FROM messages WHERE id = ANY($1)",
            ImportKind::Conversation => {
                "SELECT image, thumbnail FROM messages WHERE conversation_id = ANY($1)"
            }
            ImportKind::User => {
                "SELECT m.image, m.thumbnail FROM messages m \
                 JOIN conversations c ON c.id = m.conversation_id WHERE c.trainer_id = ANY($1) \
                 UNION ALL SELECT profile_image, NULL FROM users \
                 WHERE id = ANY($1) AND profile_image NOT LIKE '%://%'"
            }
            ImportKind::Device | ImportKind::Preferences => {
                "SELECT NULL::text, NULL::text WHERE $1::bigint[] IS NULL"
            }
        };
        let delete = match kind {
            ImportKind::User => "DELETE FROM users WHERE id = ANY($1)",
            ImportKind::Conversation => "DELETE FROM conversations WHERE id = ANY($1)",
            ImportKind::Message => "DELETE FROM messages WHERE id = ANY($1)",
            ImportKind::Device => "DELETE FROM devices WHERE id = ANY($1)",
            ImportKind::Preferences => {
                "DELETE FROM notification_preferences WHERE user_id = ANY($1)"
            }
        };
        let mut tx = self.pool.begin().await?;
        let found = sqlx::query(images).bind(&ids).fetch_all(&mut *tx).await?;
        let freed = found
            .iter()
            .map(image_row)
            .collect::<sqlx::Result<Vec<_>>>()?;
        sqlx::query(delete).bind(&ids).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM import_rows WHERE kind = $1 AND id = ANY($2)")
            .bind(kind.as_str())
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        if kind == ImportKind::Conversation {
            sqlx::query("DELETE FROM import_rows WHERE kind = 'message' AND parent = ANY($1)")
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(freed.into_iter().flatten().collect())
    }

    async fn import_finish(&self, finish: ImportFinish) -> Result<()> {
        for chunk in finish.touched.chunks(500) {
            let mut tx = self.pool.begin().await?;
            recount(&mut tx, chunk).await?;
            tx.commit().await?;
        }
        let mut tx = self.pool.begin().await?;
        for (table, next) in &finish.next_ids {
            // Never back: Spotter may have handed out ids past the floor already.
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST($2 - 1, \
                 COALESCE(pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass), 1)))",
            )
            .bind(*table)
            .bind(*next)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO import_runs (source, started_at, finished_at, summary) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&finish.source)
        .bind(finish.started_at)
        .bind(finish.finished_at)
        .bind(&finish.summary)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Conversations' counters and previews, from their messages as they are now, under their row
/// locks (taken in id order).
async fn recount(conn: &mut PgConnection, conversations: &[ConversationId]) -> sqlx::Result<()> {
    let ids: Vec<i64> = conversations.iter().map(|c| c.get()).collect();
    sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    let newest = sqlx::query(
        "SELECT c.id, m.content, m.image IS NOT NULL, m.deleted_at IS NOT NULL \
         FROM UNNEST($1::bigint[]) AS c(id) CROSS JOIN LATERAL (SELECT content, image, \
         deleted_at FROM messages WHERE conversation_id = c.id ORDER BY seq DESC LIMIT 1) m",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut previews: BTreeMap<i64, String> = BTreeMap::new();
    for r in &newest {
        let text: String = r.try_get(1)?;
        previews.insert(r.try_get(0)?, preview(&text, r.try_get(2)?, r.try_get(3)?));
    }
    let preview_of: Vec<Option<&str>> = ids
        .iter()
        .map(|id| previews.get(id).map(String::as_str))
        .collect();
    sqlx::query(
        "UPDATE conversations c SET \
         message_count = (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = c.id), \
         trainer_unread = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id \
           AND m.read_at IS NULL AND (m.sender_id IS NULL OR m.sender_id <> c.trainer_id)), \
         trainee_unread = (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id \
           AND m.read_at IS NULL AND m.sender_id = c.trainer_id), \
         awaiting_reply_since = (SELECT m.created_at FROM messages m \
           WHERE m.conversation_id = c.id \
           AND (m.sender_id IS NULL OR m.sender_id <> c.trainer_id) \
           AND m.seq > COALESCE((SELECT MAX(t.seq) FROM messages t WHERE t.conversation_id = c.id \
             AND t.sender_id = c.trainer_id), 0) ORDER BY m.seq LIMIT 1), \
         last_activity_at = COALESCE(c.last_message_at, c.created_at), \
         last_message_preview = u.preview \
         FROM UNNEST($1::bigint[], $2::text[]) AS u(id, preview) WHERE c.id = u.id",
    )
    .bind(&ids)
    .bind(&preview_of)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
