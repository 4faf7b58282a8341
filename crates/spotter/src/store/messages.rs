//! Messages: append-only rows, read by conversation in id order. Within a conversation ids
//! increase in commit order (see `conversations::bump_for_send`), which is what makes
//! "everything after id N" a complete answer for resume.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Db;
use crate::clock::Micros;
use crate::domain::model::{ConversationId, Message, MessageId, Sender, UserId};

const SELECT: &str = "SELECT m.id, m.conversation_id, m.seq, m.sender_id, m.content, m.client_message_id, \
    m.created_at, m.delivered_at, m.read_at, u.first_name, u.last_name, u.profile_image \
    FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

fn from_row(row: &AnyRow) -> Result<Message, sqlx::Error> {
    let sender_id: Option<UserId> = row.try_get("sender_id")?;
    let sender = match sender_id {
        Some(id) => Some(Sender {
            id,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            profile_image: row.try_get("profile_image")?,
        }),
        None => None,
    };
    Ok(Message {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        sender,
        content: row.try_get("content")?,
        client_message_id: row.try_get("client_message_id")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
        read_at: row.try_get("read_at")?,
    })
}

/// [`from_row`] for SQLite's direct reads: the columns of `SELECT`, by position.
fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let sender_id: Option<UserId> = row.get(3)?;
    let sender = match sender_id {
        Some(id) => Some(Sender {
            id,
            first_name: row.get(9)?,
            last_name: row.get(10)?,
            profile_image: row.get(11)?,
        }),
        None => None,
    };
    Ok(Message {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        seq: row.get(2)?,
        sender,
        content: row.get(4)?,
        client_message_id: row.get(5)?,
        created_at: row.get(6)?,
        delivered_at: row.get(7)?,
        read_at: row.get(8)?,
    })
}

fn all(rows: Vec<AnyRow>) -> Result<Vec<Message>, sqlx::Error> {
    rows.iter().map(from_row).collect()
}

/// Runs a read of messages whose three parameters are integers (every history query is).
async fn read(db: &Db, sql: String, params: [i64; 3]) -> Result<Vec<Message>, sqlx::Error> {
    if let Some(reader) = db.direct() {
        return reader.all(&sql, params, from_sqlite);
    }
    let [a, b, c] = params;
    all(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(a)
        .bind(b)
        .bind(c)
        .fetch_all(db.pool())
        .await?)
}

/// A message about to be stored.
pub struct NewMessage<'a> {
    pub conversation_id: ConversationId,
    /// Its position, from `conversations::bump_for_send`.
    pub seq: i64,
    pub sender: UserId,
    pub content: &'a str,
    pub client_message_id: Option<&'a str>,
    pub created_at: Micros,
}

/// Inserts a message; `None` when the sender already used this `client_message_id` here.
pub async fn insert(
    conn: &mut AnyConnection,
    m: &NewMessage<'_>,
) -> Result<Option<MessageId>, sqlx::Error> {
    sqlx::query(
        "INSERT INTO messages (conversation_id, seq, sender_id, content, client_message_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (conversation_id, sender_id, client_message_id) DO NOTHING RETURNING id",
    )
    .bind(m.conversation_id)
    .bind(m.seq)
    .bind(m.sender)
    .bind(m.content)
    .bind(m.client_message_id)
    .bind(m.created_at)
    .fetch_optional(conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()
}

pub async fn get(conn: &mut AnyConnection, id: MessageId) -> Result<Option<Message>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE m.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The message a sender already sent with this idempotency key, if any.
pub async fn by_client_id<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    conversation: ConversationId,
    sender: UserId,
    client_message_id: &str,
) -> Result<Option<Message>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_message_id = $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation)
        .bind(sender)
        .bind(client_message_id)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Newest first, by offset (the original page-number paging).
pub async fn page(
    db: &Db,
    conversation: ConversationId,
    limit: i64,
    offset: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 ORDER BY m.id DESC LIMIT $2 OFFSET $3");
    read(db, sql, [conversation, limit, offset]).await
}

/// Newest first, strictly older than `before` (or the newest, when `None`).
pub async fn before(
    db: &Db,
    conversation: ConversationId,
    before: Option<MessageId>,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3");
    read(db, sql, [conversation, before.unwrap_or(i64::MAX), limit]).await
}

/// Oldest first, strictly newer than `after`: what resume replays.
pub async fn after(
    db: &Db,
    conversation: ConversationId,
    after: MessageId,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 AND m.id > $2 ORDER BY m.id ASC LIMIT $3");
    read(db, sql, [conversation, after, limit]).await
}

/// Marks every unread message from the other party read; returns how many.
pub async fn mark_read(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    reader: UserId,
    now: Micros,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE messages SET read_at = $3, delivered_at = COALESCE(delivered_at, $3) \
         WHERE conversation_id = $1 AND read_at IS NULL AND (sender_id IS NULL OR sender_id <> $2)",
    )
    .bind(conversation)
    .bind(reader)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Oldest first, after position `seq`: what a socket reads to fill a gap in live events.
pub async fn after_seq(
    db: &Db,
    conversation: ConversationId,
    seq: i64,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3");
    read(db, sql, [conversation, seq, limit]).await
}

/// The position of a message in its conversation (0 for none), where a resume's cursor starts.
pub async fn seq_of(
    db: &Db,
    conversation: ConversationId,
    id: MessageId,
) -> Result<i64, sqlx::Error> {
    const SQL: &str =
        "SELECT seq FROM messages WHERE conversation_id = $1 AND id <= $2 ORDER BY id DESC LIMIT 1";
    if let Some(reader) = db.direct() {
        return Ok(reader
            .one(SQL, [conversation, id], |r| r.get(0))?
            .unwrap_or(0));
    }
    Ok(sqlx::query(SQL)
        .bind(conversation)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .map(|r| r.try_get("seq"))
        .transpose()?
        .unwrap_or(0))
}

/// The unread messages of a conversation with ids from `lo` to `hi`, oldest first.
pub async fn unread_between(
    db: &Db,
    conversation: ConversationId,
    lo: MessageId,
    hi: MessageId,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE m.conversation_id = $1 AND m.id >= $2 AND m.id <= $3 AND m.read_at IS NULL ORDER BY m.id"
    );
    read(db, sql, [conversation, lo, hi]).await
}

/// SQLite's group commit (`domain::committer`): the same rows, written on the direct writer
/// connection inside its transaction.
pub mod direct {
    use rusqlite::{Connection, Result};

    use super::{ConversationId, Message, MessageId, Micros, NewMessage, SELECT, UserId};

    /// Stores a message the batch has checked is new; returns its id.
    pub fn insert(conn: &Connection, m: &NewMessage<'_>) -> Result<MessageId> {
        conn.prepare_cached(
            "INSERT INTO messages (conversation_id, seq, sender_id, content, client_message_id, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )?
        .query_row(
            (
                m.conversation_id,
                m.seq,
                m.sender,
                m.content,
                m.client_message_id,
                m.created_at,
            ),
            |r| r.get(0),
        )
    }

    /// [`super::by_client_id`]: the message a sender already sent with this key, if any.
    pub fn by_client_id(
        conn: &Connection,
        conversation: ConversationId,
        sender: UserId,
        client_message_id: &str,
    ) -> Result<Option<Message>> {
        let sql = format!(
            "{SELECT} WHERE m.conversation_id = ?1 AND m.sender_id = ?2 AND m.client_message_id = ?3"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query((conversation, sender, client_message_id))?;
        rows.next()?.map(super::from_sqlite).transpose()
    }

    /// Marks the recipient's undelivered messages up to `up_to` delivered, adding
    /// `(conversation, sender)` of each message marked to `marked` (whose receipts changed).
    pub fn mark_delivered(
        conn: &Connection,
        conversation: ConversationId,
        recipient: UserId,
        up_to: MessageId,
        now: Micros,
        marked: &mut Vec<(ConversationId, Option<UserId>)>,
    ) -> Result<()> {
        let mut stmt = conn.prepare_cached(
            "UPDATE messages SET delivered_at = ?4 WHERE conversation_id = ?1 \
             AND delivered_at IS NULL AND id <= ?3 AND (sender_id IS NULL OR sender_id <> ?2) \
             RETURNING conversation_id, sender_id",
        )?;
        let rows = stmt.query_map((conversation, recipient, up_to, now), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        for row in rows {
            marked.push(row?);
        }
        Ok(())
    }
}

/// PostgreSQL's group commit (`domain::committer`), inside its transaction.
pub mod pg {
    use sqlx::{AnyConnection, Row};

    use super::{ConversationId, Message, MessageId, NewMessage, SELECT, UserId};

    /// The messages already stored under these `(conversation, sender, client_message_id)`
    /// keys.
    pub async fn by_client_ids(
        conn: &mut AnyConnection,
        keys: &[(ConversationId, UserId, &str)],
    ) -> Result<Vec<Message>, sqlx::Error> {
        let mut found = Vec::new();
        for chunk in crate::store::pow2_chunks(keys, 128) {
            let sql = format!(
                "{SELECT} WHERE (m.conversation_id, m.sender_id, m.client_message_id) IN \
                 (VALUES {})",
                crate::store::pg_values(chunk.len(), 3, 1)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (c, u, k) in chunk {
                q = q.bind(*c).bind(*u).bind(*k);
            }
            for r in q.fetch_all(&mut *conn).await? {
                found.push(super::from_row(&r)?);
            }
        }
        Ok(found)
    }

    /// Marks each recipient's undelivered messages up to `up_to` delivered, for many
    /// `(conversation, recipient, up_to)` at once, 128 a statement; returns
    /// `(conversation, sender)` of each message marked.
    pub async fn mark_delivered_many(
        conn: &mut AnyConnection,
        marks: &[(ConversationId, UserId, MessageId)],
        now: crate::clock::Micros,
    ) -> Result<Vec<(ConversationId, Option<UserId>)>, sqlx::Error> {
        let mut marked = Vec::new();
        for chunk in crate::store::pow2_chunks(marks, 128) {
            let sql = format!(
                "UPDATE messages AS m SET delivered_at = $1 FROM (VALUES {}) AS v(c, r, up_to) \
                 WHERE m.conversation_id = v.c AND m.delivered_at IS NULL AND m.id <= v.up_to \
                 AND (m.sender_id IS NULL OR m.sender_id <> v.r) \
                 RETURNING m.conversation_id, m.sender_id",
                crate::store::pg_values(chunk.len(), 3, 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
            for (c, r, up_to) in chunk {
                q = q.bind(*c).bind(*r).bind(*up_to);
            }
            for row in q.fetch_all(&mut *conn).await? {
                marked.push((row.try_get("conversation_id")?, row.try_get("sender_id")?));
            }
        }
        Ok(marked)
    }

    /// Inserts the batch's new messages, 128 rows a statement, in order (so ids grow with
    /// `seq` in each conversation); returns each one's `(conversation_id, seq, id)`.
    pub async fn insert_many(
        conn: &mut AnyConnection,
        rows: &[NewMessage<'_>],
    ) -> Result<Vec<(ConversationId, i64, MessageId)>, sqlx::Error> {
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in crate::store::pow2_chunks(rows, 128) {
            let sql = format!(
                "INSERT INTO messages (conversation_id, seq, sender_id, content, client_message_id, \
                 created_at) VALUES {} RETURNING id, conversation_id, seq",
                crate::store::pg_values(chunk.len(), 6, 1)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for m in chunk {
                q = q
                    .bind(m.conversation_id)
                    .bind(m.seq)
                    .bind(m.sender)
                    .bind(m.content)
                    .bind(m.client_message_id)
                    .bind(m.created_at);
            }
            for r in q.fetch_all(&mut *conn).await? {
                ids.push((
                    r.try_get("conversation_id")?,
                    r.try_get("seq")?,
                    r.try_get("id")?,
                ));
            }
        }
        Ok(ids)
    }
}
