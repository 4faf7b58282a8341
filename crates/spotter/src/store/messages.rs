//! Messages: append-only rows, read by conversation in id order. Within a conversation ids
//! increase in commit order (see `conversations::bump_for_send`), which is what makes
//! "everything after id N" a complete answer for resume.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

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

fn all(rows: Vec<AnyRow>) -> Result<Vec<Message>, sqlx::Error> {
    rows.iter().map(from_row).collect()
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

/// Rows taken per multi-row statement at most (6 values each, far below SQLite's limit).
const ROWS_PER_STATEMENT: usize = 128;

/// Inserts several messages in as few statements as possible; returns each one's
/// `(conversation_id, seq, id)`. SQLite only: its group commit, which has ruled out duplicates
/// first.
pub async fn insert_many(
    conn: &mut AnyConnection,
    rows: &[NewMessage<'_>],
) -> Result<Vec<(ConversationId, i64, MessageId)>, sqlx::Error> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in super::pow2_chunks(rows, ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO messages (conversation_id, seq, sender_id, content, client_message_id, created_at) \
             VALUES {} RETURNING id, conversation_id, seq",
            super::sqlite_values(chunk.len(), 6)
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

/// Which of these `(conversation, sender, client_message_id)` keys are already stored (SQLite
/// only).
pub async fn existing_client_ids(
    conn: &mut AnyConnection,
    keys: &[(ConversationId, UserId, &str)],
) -> Result<Vec<(ConversationId, UserId, String)>, sqlx::Error> {
    let mut found = Vec::new();
    for chunk in super::pow2_chunks(keys, ROWS_PER_STATEMENT) {
        let sql = format!(
            // A join from the keys (CROSS JOIN keeps them outer), so that each is one index
            // search: SQLite scans the whole index for a row-value `IN (VALUES …)`.
            "SELECT m.conversation_id, m.sender_id, m.client_message_id \
             FROM (VALUES {}) AS k CROSS JOIN messages m ON m.conversation_id = k.column1 \
             AND m.sender_id = k.column2 AND m.client_message_id = k.column3",
            super::sqlite_values(chunk.len(), 3)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (c, u, k) in chunk {
            q = q.bind(*c).bind(*u).bind(*k);
        }
        for r in q.fetch_all(&mut *conn).await? {
            found.push((
                r.try_get("conversation_id")?,
                r.try_get("sender_id")?,
                r.try_get("client_message_id")?,
            ));
        }
    }
    Ok(found)
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
    pool: &AnyPool,
    conversation: ConversationId,
    limit: i64,
    offset: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 ORDER BY m.id DESC LIMIT $2 OFFSET $3");
    all(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?)
}

/// Newest first, strictly older than `before` (or the newest, when `None`).
pub async fn before(
    pool: &AnyPool,
    conversation: ConversationId,
    before: Option<MessageId>,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3");
    all(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// Oldest first, strictly newer than `after`: what resume replays.
pub async fn after(
    pool: &AnyPool,
    conversation: ConversationId,
    after: MessageId,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 AND m.id > $2 ORDER BY m.id ASC LIMIT $3");
    all(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
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

/// Marks the recipient's undelivered messages up to `up_to` delivered; returns how many.
pub async fn mark_delivered(
    conn: &mut AnyConnection,
    conversation: ConversationId,
    recipient: UserId,
    up_to: MessageId,
    now: Micros,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE messages SET delivered_at = $4 WHERE conversation_id = $1 AND delivered_at IS NULL \
         AND id <= $3 AND (sender_id IS NULL OR sender_id <> $2)",
    )
    .bind(conversation)
    .bind(recipient)
    .bind(up_to)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// [`mark_delivered`] for many `(conversation, recipient, up_to)` at once, in a statement per
/// 128 (SQLite only: it names VALUES columns `column1…`, and its parameters need no casts).
/// Returns `(conversation, sender)` of each message marked, to tell whose receipts changed.
pub async fn mark_delivered_many(
    conn: &mut AnyConnection,
    marks: &[(ConversationId, UserId, MessageId)],
    now: Micros,
) -> Result<Vec<(ConversationId, Option<UserId>)>, sqlx::Error> {
    let mut marked = Vec::new();
    for chunk in super::pow2_chunks(marks, ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE messages SET delivered_at = ? FROM (VALUES {}) AS v \
             WHERE messages.conversation_id = v.column1 AND messages.delivered_at IS NULL \
             AND messages.id <= v.column3 \
             AND (messages.sender_id IS NULL OR messages.sender_id <> v.column2) \
             RETURNING conversation_id, sender_id",
            super::sqlite_values(chunk.len(), 3)
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

/// Oldest first, after position `seq`: what a socket reads to fill a gap in live events.
pub async fn after_seq(
    pool: &AnyPool,
    conversation: ConversationId,
    seq: i64,
    limit: i64,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql =
        format!("{SELECT} WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3");
    all(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation)
        .bind(seq)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// The position of a message in its conversation (0 for none), where a resume's cursor starts.
pub async fn seq_of(
    pool: &AnyPool,
    conversation: ConversationId,
    id: MessageId,
) -> Result<i64, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT seq FROM messages WHERE conversation_id = $1 AND id <= $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(conversation)
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(|r| r.try_get("seq"))
    .transpose()?
    .unwrap_or(0))
}

/// The unread messages of a conversation with ids from `lo` to `hi`, oldest first.
pub async fn unread_between(
    pool: &AnyPool,
    conversation: ConversationId,
    lo: MessageId,
    hi: MessageId,
) -> Result<Vec<Message>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE m.conversation_id = $1 AND m.id >= $2 AND m.id <= $3 AND m.read_at IS NULL ORDER BY m.id"
    );
    all(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversation)
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await?)
}
