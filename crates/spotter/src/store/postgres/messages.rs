//! Messages on PostgreSQL. Within a conversation ids grow in commit order: they are drawn while
//! the conversation's row is locked (see `append`).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;

use crate::clock::Micros;
use crate::domain::model::{
    ConversationId, ConversationRef, DELETED_PREVIEW, Image, Message, MessageId, Sender, UserId,
};
use crate::store::{Deletion, DeliveryMark, Edit, Messages, Range, Result};

/// A message's own columns (`m`), as [`own`] reads them.
pub const COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.image, \
    m.image_width, m.image_height, m.thumbnail, m.client_message_id, m.created_at, \
    m.delivered_at, m.read_at, m.edited_at, m.deleted_at";

pub const SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.image, \
    m.image_width, m.image_height, m.thumbnail, m.client_message_id, m.created_at, \
    m.delivered_at, m.read_at, m.edited_at, m.deleted_at, u.first_name, u.last_name, \
    u.profile_image FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

/// A message with its author (the columns of [`SELECT`]).
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
    own(r, sender)
}

/// A message from its own columns ([`COLUMNS`]), its author given.
pub fn own(r: &PgRow, sender: Option<Sender>) -> sqlx::Result<Message> {
    let size = |column: &str| -> sqlx::Result<Option<u32>> {
        Ok(r.try_get::<Option<i32>, _>(column)?
            .and_then(|v| u32::try_from(v).ok()))
    };
    let image = match r.try_get::<Option<String>, _>("image")? {
        Some(key) => Some(Box::new(Image {
            key,
            thumbnail: r.try_get("thumbnail")?,
            width: size("image_width")?,
            height: size("image_height")?,
        })),
        None => None,
    };
    Ok(Message {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        seq: r.try_get("seq")?,
        sender,
        content: r.try_get("content")?,
        image,
        client_message_id: r.try_get("client_message_id")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
        read_at: r.try_get("read_at")?,
        edited_at: r.try_get("edited_at")?,
        deleted_at: r.try_get("deleted_at")?,
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

    async fn message(
        &self,
        conversation: ConversationId,
        id: MessageId,
    ) -> Result<Option<Message>> {
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE m.id = $1 AND m.conversation_id = $2"
        )))
        .bind(id)
        .bind(conversation)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.as_ref().map(row).transpose()?)
    }

    async fn edit_message(&self, edit: Edit, now: Micros) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE messages SET content = $3, edited_at = $4 \
             WHERE id = $1 AND conversation_id = $2 AND deleted_at IS NULL",
        )
        .bind(edit.message)
        .bind(edit.conversation)
        .bind(&edit.content)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if changed {
            newest_preview(&mut tx, edit.conversation, edit.seq, &edit.preview).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn delete_message(&self, d: Deletion, now: Micros) -> Result<Option<Option<Image>>> {
        let mut tx = self.pool.begin().await?;
        // The row is locked by the inner SELECT, so the image read is the one cleared.
        let found = sqlx::query(
            "UPDATE messages AS m SET content = '', image = NULL, image_width = NULL, \
             image_height = NULL, thumbnail = NULL, deleted_at = $3 \
             FROM (SELECT id, image, image_width, image_height, thumbnail FROM messages \
                   WHERE id = $1 AND conversation_id = $2 AND deleted_at IS NULL FOR UPDATE) AS old \
             WHERE m.id = old.id \
             RETURNING old.image, old.image_width, old.image_height, old.thumbnail",
        )
        .bind(d.message)
        .bind(d.conversation)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = found else {
            return Ok(None);
        };
        let size = |i: usize| -> sqlx::Result<Option<u32>> {
            Ok(old
                .try_get::<Option<i32>, _>(i)?
                .and_then(|v| u32::try_from(v).ok()))
        };
        let image = match old.try_get::<Option<String>, _>(0)? {
            Some(key) => Some(Image {
                key,
                width: size(1)?,
                height: size(2)?,
                thumbnail: old.try_get(3)?,
            }),
            None => None,
        };
        newest_preview(&mut tx, d.conversation, d.seq, DELETED_PREVIEW).await?;
        tx.commit().await?;
        Ok(Some(image))
    }
}

/// Sets the conversation's preview if the message at `seq` is its newest.
async fn newest_preview(
    tx: &mut sqlx::PgConnection,
    conversation: ConversationId,
    seq: i64,
    preview: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE conversations SET last_message_preview = $3 WHERE id = $1 AND message_count = $2",
    )
    .bind(conversation)
    .bind(seq)
    .bind(preview)
    .execute(tx)
    .await?;
    Ok(())
}
