//! Messages on SQLite: append-only rows, read by conversation in id order. Within a conversation
//! ids grow in commit order (the one writer), which makes "everything after id N" a complete
//! answer for resume.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::{
    ConversationId, ConversationRef, DELETED_PREVIEW, Image, Message, MessageId, Sender, UserId,
};
use crate::store::{Deletion, DeliveryMark, Edit, Messages, Range, Result};

pub const SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, \
    m.client_message_id, m.created_at, m.delivered_at, m.read_at, u.first_name, u.last_name, \
    u.profile_image, m.image, m.image_width, m.image_height, m.thumbnail, m.edited_at, \
    m.deleted_at FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

/// A message with its author (the columns of [`SELECT`], in order).
pub fn row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let sender = match r.get::<_, Option<UserId>>(3)? {
        Some(id) => Some(Sender {
            id,
            first_name: r.get(9)?,
            last_name: r.get(10)?,
            profile_image: r.get(11)?,
        }),
        None => None,
    };
    let image = match r.get::<_, Option<String>>(12)? {
        Some(key) => Some(Box::new(Image {
            key,
            width: r.get(13)?,
            height: r.get(14)?,
            thumbnail: r.get(15)?,
        })),
        None => None,
    };
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        seq: r.get(2)?,
        sender,
        content: r.get(4)?,
        image,
        client_message_id: r.get(5)?,
        created_at: r.get(6)?,
        delivered_at: r.get(7)?,
        read_at: r.get(8)?,
        edited_at: r.get(16)?,
        deleted_at: r.get(17)?,
    })
}

fn all(c: &Connection, sql: &str, args: [i64; 3]) -> rusqlite::Result<Vec<Message>> {
    c.prepare_cached(sql)?.query_map(args, row)?.collect()
}

impl Messages for SqliteStore {
    async fn messages(&self, conversation: ConversationId, range: Range) -> Result<Vec<Message>> {
        let c = conversation.get();
        self.pool.read(|conn| match range {
            Range::Page { limit, offset } => all(
                conn,
                &format!("{SELECT} WHERE m.conversation_id = ?1 ORDER BY m.id DESC LIMIT ?2 OFFSET ?3"),
                [c, limit, offset],
            ),
            Range::Before { before, limit } => all(
                conn,
                &format!(
                    "{SELECT} WHERE m.conversation_id = ?1 AND m.id < ?2 ORDER BY m.id DESC LIMIT ?3"
                ),
                [c, before.map_or(i64::MAX, MessageId::get), limit],
            ),
            Range::After { after, limit } => all(
                conn,
                &format!(
                    "{SELECT} WHERE m.conversation_id = ?1 AND m.id > ?2 ORDER BY m.id ASC LIMIT ?3"
                ),
                [c, after.get(), limit],
            ),
            Range::AfterSeq { seq, limit } => all(
                conn,
                &format!(
                    "{SELECT} WHERE m.conversation_id = ?1 AND m.seq > ?2 ORDER BY m.seq ASC LIMIT ?3"
                ),
                [c, seq, limit],
            ),
            Range::UnreadBetween { lo, hi } => all(
                conn,
                &format!(
                    "{SELECT} WHERE m.conversation_id = ?1 AND m.id >= ?2 AND m.id <= ?3 \
                     AND m.read_at IS NULL ORDER BY m.id"
                ),
                [c, lo.get(), hi.get()],
            ),
        })
    }

    async fn seq_of(&self, conversation: ConversationId, id: MessageId) -> Result<i64> {
        self.pool.read(|c| {
            Ok(c.prepare_cached(
                "SELECT seq FROM messages WHERE conversation_id = ?1 AND id <= ?2 \
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![conversation, id], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
        })
    }

    async fn mark_read(
        &self,
        conversation: ConversationRef,
        reader: UserId,
        now: Micros,
    ) -> Result<u64> {
        self.pool
            .write(move |c| {
                let marked = c
                .prepare_cached(
                    "UPDATE messages SET read_at = ?3, delivered_at = COALESCE(delivered_at, ?3) \
                     WHERE conversation_id = ?1 AND read_at IS NULL \
                     AND (sender_id IS NULL OR sender_id <> ?2)",
                )?
                .execute(params![conversation.id, reader, now])?;
                let clear = if conversation.trainer_id == reader {
                    "UPDATE conversations SET trainer_unread = 0 WHERE id = ?1"
                } else {
                    "UPDATE conversations SET trainee_unread = 0 WHERE id = ?1"
                };
                c.prepare_cached(clear)?.execute([conversation.id])?;
                Ok(marked as u64)
            })
            .await
    }

    async fn mark_delivered(
        &self,
        marks: Vec<DeliveryMark>,
        now: Micros,
    ) -> Result<Vec<(ConversationId, Option<UserId>)>> {
        self.pool
            .write_unsynced(move |c| {
                let mut stmt = c.prepare_cached(
                    "UPDATE messages SET delivered_at = ?4 WHERE conversation_id = ?1 \
                 AND delivered_at IS NULL AND id <= ?3 AND (sender_id IS NULL OR sender_id <> ?2) \
                 RETURNING conversation_id, sender_id",
                )?;
                let mut marked = Vec::new();
                for m in &marks {
                    let rows = stmt
                        .query_map(params![m.conversation, m.recipient, m.up_to, now], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?;
                    for r in rows {
                        marked.push(r?);
                    }
                }
                Ok(marked)
            })
            .await
    }

    async fn message(
        &self,
        conversation: ConversationId,
        id: MessageId,
    ) -> Result<Option<Message>> {
        self.pool.read(|c| {
            c.prepare_cached(&format!(
                "{SELECT} WHERE m.id = ?1 AND m.conversation_id = ?2"
            ))?
            .query_row(params![id, conversation], row)
            .optional()
        })
    }

    async fn edit_message(&self, edit: Edit, now: Micros) -> Result<bool> {
        self.pool
            .write(move |c| {
                let changed = c
                    .prepare_cached(
                        "UPDATE messages SET content = ?3, edited_at = ?4 \
                         WHERE id = ?1 AND conversation_id = ?2 AND deleted_at IS NULL",
                    )?
                    .execute(params![edit.message, edit.conversation, edit.content, now])?;
                if changed > 0 {
                    newest_preview(c, edit.conversation, edit.seq, &edit.preview)?;
                }
                Ok(changed > 0)
            })
            .await
    }

    async fn delete_message(&self, d: Deletion, now: Micros) -> Result<Option<Option<Image>>> {
        self.pool
            .write(move |c| {
                // The one writer: nothing changes between this read and the update.
                let found = c
                    .prepare_cached(
                        "SELECT image, image_width, image_height, thumbnail FROM messages \
                         WHERE id = ?1 AND conversation_id = ?2 AND deleted_at IS NULL",
                    )?
                    .query_row(params![d.message, d.conversation], |r| {
                        Ok(r.get::<_, Option<String>>(0)?.map(|key| Image {
                            key,
                            width: r.get(1).ok().flatten(),
                            height: r.get(2).ok().flatten(),
                            thumbnail: r.get(3).ok().flatten(),
                        }))
                    })
                    .optional()?;
                let Some(image) = found else {
                    return Ok(None);
                };
                c.prepare_cached(
                    "UPDATE messages SET content = '', image = NULL, image_width = NULL, \
                     image_height = NULL, thumbnail = NULL, deleted_at = ?2 WHERE id = ?1",
                )?
                .execute(params![d.message, now])?;
                newest_preview(c, d.conversation, d.seq, DELETED_PREVIEW)?;
                Ok(Some(image))
            })
            .await
    }
}

/// Sets the conversation's preview if the message at `seq` is its newest.
fn newest_preview(
    c: &Connection,
    conversation: ConversationId,
    seq: i64,
    preview: &str,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "UPDATE conversations SET last_message_preview = ?3 WHERE id = ?1 AND message_count = ?2",
    )?
    .execute(params![conversation, seq, preview])?;
    Ok(())
}
