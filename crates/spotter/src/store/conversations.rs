//! Conversations: one per (trainer, trainee) pair, with the counters a list row needs kept on
//! the row itself, so the list and the unread badge never scan messages.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use crate::clock::Micros;
use crate::domain::model::{Conversation, ConversationId, ConversationRef, UserId, UserSummary};

const SELECT: &str = "SELECT c.id, c.trainer_id, c.trainee_id, c.archived_at, c.created_at, \
    c.last_message_at, c.last_message_preview, c.message_count, c.trainer_unread, c.trainee_unread, \
    t.first_name AS t_first, t.last_name AS t_last, t.email AS t_email, t.profile_image AS t_img, \
    e.first_name AS e_first, e.last_name AS e_last, e.email AS e_email, e.profile_image AS e_img \
    FROM conversations c JOIN users t ON t.id = c.trainer_id LEFT JOIN users e ON e.id = c.trainee_id";

fn from_row(row: &AnyRow) -> Result<Conversation, sqlx::Error> {
    let trainee_id: Option<UserId> = row.try_get("trainee_id")?;
    let trainee = match trainee_id {
        Some(id) => Some(UserSummary {
            id,
            first_name: row.try_get("e_first")?,
            last_name: row.try_get("e_last")?,
            email: row.try_get("e_email")?,
            profile_image: row.try_get("e_img")?,
        }),
        None => None,
    };
    Ok(Conversation {
        id: row.try_get("id")?,
        trainer: UserSummary {
            id: row.try_get("trainer_id")?,
            first_name: row.try_get("t_first")?,
            last_name: row.try_get("t_last")?,
            email: row.try_get("t_email")?,
            profile_image: row.try_get("t_img")?,
        },
        trainee,
        archived_at: row.try_get("archived_at")?,
        created_at: row.try_get("created_at")?,
        last_message_at: row.try_get("last_message_at")?,
        last_message_preview: row.try_get("last_message_preview")?,
        message_count: row.try_get("message_count")?,
        trainer_unread: row.try_get("trainer_unread")?,
        trainee_unread: row.try_get("trainee_unread")?,
    })
}

pub async fn get_ref(
    pool: &AnyPool,
    id: ConversationId,
) -> Result<Option<ConversationRef>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, trainer_id, trainee_id, archived_at FROM conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(ConversationRef {
            id: r.try_get("id")?,
            trainer_id: r.try_get("trainer_id")?,
            trainee_id: r.try_get("trainee_id")?,
            archived_at: r.try_get("archived_at")?,
        })
    })
    .transpose()
}

pub async fn get(
    conn: &mut AnyConnection,
    id: ConversationId,
) -> Result<Option<Conversation>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Creates the pair's conversation, or finds the one that exists; safe under concurrent calls
/// (the unique pair decides, not a check-then-insert).
pub async fn upsert_pair(
    conn: &mut AnyConnection,
    trainer: UserId,
    trainee: UserId,
    now: Micros,
) -> Result<ConversationId, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO conversations (trainer_id, trainee_id, created_at, last_activity_at) \
         VALUES ($1, $2, $3, $3) ON CONFLICT (trainer_id, trainee_id) DO NOTHING RETURNING id",
    )
    .bind(trainer)
    .bind(trainee)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return row.try_get("id");
    }
    sqlx::query("SELECT id FROM conversations WHERE trainer_id = $1 AND trainee_id = $2")
        .bind(trainer)
        .bind(trainee)
        .fetch_one(conn)
        .await?
        .try_get("id")
}

pub async fn unarchive(conn: &mut AnyConnection, id: ConversationId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE conversations SET archived_at = NULL WHERE id = $1 AND archived_at IS NOT NULL",
    )
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Archives the pair's conversation, if there is one; returns its id.
pub async fn archive_pair(
    conn: &mut AnyConnection,
    trainer: UserId,
    trainee: UserId,
    now: Micros,
) -> Result<Option<ConversationId>, sqlx::Error> {
    sqlx::query(
        "UPDATE conversations SET archived_at = $3 \
         WHERE trainer_id = $1 AND trainee_id = $2 AND archived_at IS NULL RETURNING id",
    )
    .bind(trainer)
    .bind(trainee)
    .bind(now)
    .fetch_optional(conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()
}

/// One page of a user's conversations, newest activity first, and how many there are.
/// `archived` lists the archived ones, which only their trainer may see.
pub async fn list_for(
    pool: &AnyPool,
    user: UserId,
    archived: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Conversation>, i64), sqlx::Error> {
    let filter = if archived {
        "c.trainer_id = $1 AND c.archived_at IS NOT NULL"
    } else {
        "(c.trainer_id = $1 OR c.trainee_id = $1) AND c.archived_at IS NULL"
    };
    let count: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM conversations c WHERE {filter}"
    )))
    .bind(user)
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {filter} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(user)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, count))
}

/// Messages from others that `user` has not read, over their non-archived conversations.
pub async fn unread_total(pool: &AnyPool, user: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN trainer_id = $1 THEN trainer_unread ELSE trainee_unread END), 0) \
         AS BIGINT) AS n FROM conversations WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL",
    )
    .bind(user)
    .fetch_one(pool)
    .await?
    .try_get("n")
}

/// Records a new message on its conversation and returns the message's timestamp and position
/// (`seq`); `None` if the conversation is archived. On PostgreSQL this takes the row lock that orders the
/// conversation's messages: ids are drawn after it, so they commit in id order.
pub async fn bump_for_send(
    conn: &mut AnyConnection,
    id: ConversationId,
    sender_is_trainer: bool,
    now: Micros,
    preview: &str,
) -> Result<Option<(Micros, i64)>, sqlx::Error> {
    // created_at never goes backwards within a conversation, even if clocks of two nodes differ.
    sqlx::query(
        "UPDATE conversations SET \
           last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < $2 THEN $2 \
                                  ELSE last_message_at + 1 END, \
           last_activity_at = CASE WHEN last_message_at IS NULL OR last_message_at < $2 THEN $2 \
                                   ELSE last_message_at + 1 END, \
           last_message_preview = $3, \
           message_count = message_count + 1, \
           trainer_unread = trainer_unread + $4, \
           trainee_unread = trainee_unread + $5 \
         WHERE id = $1 AND archived_at IS NULL RETURNING last_message_at, message_count",
    )
    .bind(id)
    .bind(now)
    .bind(preview)
    .bind(i64::from(!sender_is_trainer))
    .bind(i64::from(sender_is_trainer))
    .fetch_optional(conn)
    .await?
    .map(|r| Ok((r.try_get("last_message_at")?, r.try_get("message_count")?)))
    .transpose()
}

/// Where a conversation stands before a batch of sends (SQLite's group commit, read under the
/// writer lock, so nothing changes it before the batch is written).
#[derive(Debug, Clone, Copy)]
pub struct SendState {
    pub last_message_at: Option<Micros>,
    pub message_count: i64,
    pub archived: bool,
}

pub async fn send_states(
    conn: &mut AnyConnection,
    ids: &[ConversationId],
) -> Result<std::collections::HashMap<ConversationId, SendState>, sqlx::Error> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in super::pow2_chunks(ids, 256) {
        // SQLite only, like the rest of the group commit: anonymous parameters.
        let list = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT id, last_message_at, message_count, archived_at FROM conversations WHERE id IN ({list})"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let archived_at: Option<Micros> = r.try_get("archived_at")?;
            out.insert(
                r.try_get("id")?,
                SendState {
                    last_message_at: r.try_get("last_message_at")?,
                    message_count: r.try_get("message_count")?,
                    archived: archived_at.is_some(),
                },
            );
        }
    }
    Ok(out)
}

/// A conversation row after a batch of sends: its newest message and counters.
#[derive(Debug, Clone)]
pub struct AfterSends {
    pub id: ConversationId,
    pub last_message_at: Micros,
    pub preview: String,
    pub message_count: i64,
    pub trainer_unread_added: i64,
    pub trainee_unread_added: i64,
}

/// Writes what a batch of sends did to each conversation, in as few statements as possible
/// (SQLite only: its group commit).
pub async fn apply_sends(conn: &mut AnyConnection, rows: &[AfterSends]) -> Result<(), sqlx::Error> {
    for chunk in super::pow2_chunks(rows, 128) {
        let sql = format!(
            "UPDATE conversations SET last_message_at = v.column2, last_activity_at = v.column2, \
               last_message_preview = v.column3, message_count = v.column4, \
               trainer_unread = trainer_unread + v.column5, trainee_unread = trainee_unread + v.column6 \
             FROM (VALUES {}) AS v WHERE conversations.id = v.column1",
            super::sqlite_values(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(c.id)
                .bind(c.last_message_at)
                .bind(c.preview.as_str())
                .bind(c.message_count)
                .bind(c.trainer_unread_added)
                .bind(c.trainee_unread_added);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Clears `reader`'s unread counter on the conversation.
pub async fn clear_unread(
    conn: &mut AnyConnection,
    id: ConversationId,
    reader_is_trainer: bool,
) -> Result<(), sqlx::Error> {
    let sql = if reader_is_trainer {
        "UPDATE conversations SET trainer_unread = 0 WHERE id = $1"
    } else {
        "UPDATE conversations SET trainee_unread = 0 WHERE id = $1"
    };
    sqlx::query(sql).bind(id).execute(conn).await.map(|_| ())
}

/// How many messages each of the user's live conversations has: where a per-user socket's
/// cursors start.
pub async fn message_counts_for(
    pool: &AnyPool,
    user: UserId,
) -> Result<Vec<(ConversationId, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT id, message_count FROM conversations \
         WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL",
    )
    .bind(user)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("message_count")?)))
    .collect()
}

pub async fn message_count(pool: &AnyPool, id: ConversationId) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query("SELECT message_count FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get("message_count"))
            .transpose()?
            .unwrap_or(0),
    )
}
