//! Messages on SQLite: append-only rows, read by conversation in id order. Within a conversation
//! ids grow in commit order (the one writer), which makes "everything after id N" a complete
//! answer for resume.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::{ConversationId, ConversationRef, Message, MessageId, Sender, UserId};
use crate::store::{DeliveryMark, Messages, Range, Result};

pub const SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, \
    m.client_message_id, m.created_at, m.delivered_at, m.read_at, u.first_name, u.last_name, \
    u.profile_image FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

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
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        seq: r.get(2)?,
        sender,
        content: r.get(4)?,
        client_message_id: r.get(5)?,
        created_at: r.get(6)?,
        delivered_at: r.get(7)?,
        read_at: r.get(8)?,
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
}
