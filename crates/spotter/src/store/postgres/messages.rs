//! Messages on PostgreSQL. Within a conversation ids grow in commit order: they are drawn while
//! the conversation's row is locked (see `append`).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;

use crate::clock::Micros;
use crate::domain::model::{ConversationId, ConversationRef, Message, MessageId, Sender, UserId};
use crate::store::{DeliveryMark, Messages, Range, Result};

pub const SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, \
    m.client_message_id, m.created_at, m.delivered_at, m.read_at, u.first_name, u.last_name, \
    u.profile_image FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

pub fn row(r: &PgRow) -> sqlx::Result<Message> {
    let sender = match r.try_get::<Option<UserId>, _>("sender_id")? {
        Some(id) => Some(Sender {
            id,
            first_name: r.try_get("first_name")?,
            last_name: r.try_get("last_name")?,
            profile_image: r.try_get("profile_image")?,
        }),
        None => None,
    };
    Ok(Message {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        seq: r.try_get("seq")?,
        sender,
        content: r.try_get("content")?,
        client_message_id: r.try_get("client_message_id")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
        read_at: r.try_get("read_at")?,
    })
}

impl Messages for PgStore {
    async fn messages(&self, conversation: ConversationId, range: Range) -> Result<Vec<Message>> {
        let pool = &self.pool;
        let (filter, args) = match range {
            Range::Page { limit, offset } => (
                "m.conversation_id = $1 ORDER BY m.id DESC LIMIT $2 OFFSET $3",
                [limit, offset],
            ),
            Range::Before { before, limit } => (
                "m.conversation_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3",
                [before.map_or(i64::MAX, MessageId::get), limit],
            ),
            Range::After { after, limit } => (
                "m.conversation_id = $1 AND m.id > $2 ORDER BY m.id ASC LIMIT $3",
                [after.get(), limit],
            ),
            Range::AfterSeq { seq, limit } => (
                "m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3",
                [seq, limit],
            ),
            Range::UnreadBetween { lo, hi } => (
                "m.conversation_id = $1 AND m.id >= $2 AND m.id <= $3 AND m.read_at IS NULL \
                 ORDER BY m.id",
                [lo.get(), hi.get()],
            ),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE {filter}")))
            .bind(conversation)
            .bind(args[0])
            .bind(args[1])
            .fetch_all(pool)
            .await?;
        Ok(rows.iter().map(row).collect::<sqlx::Result<_>>()?)
    }

    async fn seq_of(&self, conversation: ConversationId, id: MessageId) -> Result<i64> {
        let pool = &self.pool;
        let seq: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM messages WHERE conversation_id = $1 AND id <= $2 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(conversation)
        .bind(id)
        .fetch_optional(pool)
        .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn mark_read(
        &self,
        conversation: ConversationRef,
        reader: UserId,
        now: Micros,
    ) -> Result<u64> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let marked = sqlx::query(
            "UPDATE messages SET read_at = $3, delivered_at = COALESCE(delivered_at, $3) \
             WHERE conversation_id = $1 AND read_at IS NULL AND (sender_id IS NULL OR sender_id <> $2)",
        )
        .bind(conversation.id)
        .bind(reader)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let clear = if conversation.trainer_id == reader {
            "UPDATE conversations SET trainer_unread = 0 WHERE id = $1"
        } else {
            "UPDATE conversations SET trainee_unread = 0 WHERE id = $1"
        };
        sqlx::query(clear)
            .bind(conversation.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(marked)
    }

    /// All marks in one statement (arrays unnested), one transaction.
    async fn mark_delivered(
        &self,
        marks: Vec<DeliveryMark>,
        now: Micros,
    ) -> Result<Vec<(ConversationId, Option<UserId>)>> {
        let pool = &self.pool;
        let conversations: Vec<i64> = marks.iter().map(|m| m.conversation.get()).collect();
        let recipients: Vec<i64> = marks.iter().map(|m| m.recipient.get()).collect();
        let up_to: Vec<i64> = marks.iter().map(|m| m.up_to.get()).collect();
        Ok(sqlx::query_as(
            "UPDATE messages AS m SET delivered_at = $1 \
             FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[]) AS v(c, r, up_to) \
             WHERE m.conversation_id = v.c AND m.conversation_id = ANY($2) \
             AND m.delivered_at IS NULL AND m.id <= v.up_to \
             AND (m.sender_id IS NULL OR m.sender_id <> v.r) \
             RETURNING m.conversation_id, m.sender_id",
        )
        .bind(now)
        .bind(conversations)
        .bind(recipients)
        .bind(up_to)
        .fetch_all(pool)
        .await?)
    }
}
