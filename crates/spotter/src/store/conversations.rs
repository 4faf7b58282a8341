//! Conversations: one per (trainer, trainee) pair, with the counters a list row needs kept on
//! the row itself, so the list and the unread badge never scan messages.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Db;
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

/// [`from_row`] for SQLite's direct reads: the columns of `SELECT`, by position.
fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Conversation> {
    let trainee_id: Option<UserId> = row.get(2)?;
    let trainee = match trainee_id {
        Some(id) => Some(UserSummary {
            id,
            first_name: row.get(14)?,
            last_name: row.get(15)?,
            email: row.get(16)?,
            profile_image: row.get(17)?,
        }),
        None => None,
    };
    Ok(Conversation {
        id: row.get(0)?,
        trainer: UserSummary {
            id: row.get(1)?,
            first_name: row.get(10)?,
            last_name: row.get(11)?,
            email: row.get(12)?,
            profile_image: row.get(13)?,
        },
        trainee,
        archived_at: row.get(3)?,
        created_at: row.get(4)?,
        last_message_at: row.get(5)?,
        last_message_preview: row.get(6)?,
        message_count: row.get(7)?,
        trainer_unread: row.get(8)?,
        trainee_unread: row.get(9)?,
    })
}

const GET_REF: &str =
    "SELECT id, trainer_id, trainee_id, archived_at FROM conversations WHERE id = $1";

pub async fn get_ref(db: &Db, id: ConversationId) -> Result<Option<ConversationRef>, sqlx::Error> {
    if let Some(reader) = db.direct() {
        return reader.one(GET_REF, [id], |r| {
            Ok(ConversationRef {
                id: r.get(0)?,
                trainer_id: r.get(1)?,
                trainee_id: r.get(2)?,
                archived_at: r.get(3)?,
            })
        });
    }
    let row = sqlx::query(GET_REF)
        .bind(id)
        .fetch_optional(db.pool())
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
    db: &Db,
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
    // The page's ids first, each side read in order from its activity index (merged, for the
    // live list), then the joins for those rows only: `OR` + `ORDER BY` would read, join and
    // sort every conversation of the user to return 50.
    let ids = if archived {
        "SELECT id, last_activity_at FROM conversations WHERE trainer_id = $1 \
         AND archived_at IS NOT NULL"
    } else {
        "SELECT id, last_activity_at FROM conversations WHERE trainer_id = $1 \
         AND archived_at IS NULL \
         UNION ALL SELECT id, last_activity_at FROM conversations WHERE trainee_id = $1 \
         AND trainer_id <> $1 AND archived_at IS NULL"
    };
    let count_sql = format!("SELECT COUNT(*) AS n FROM conversations c WHERE {filter}");
    let page_sql = format!(
        "WITH page AS ({ids} ORDER BY last_activity_at DESC, id DESC LIMIT $2 OFFSET $3) \
         {SELECT} JOIN page p ON p.id = c.id ORDER BY p.last_activity_at DESC, p.id DESC"
    );
    if let Some(reader) = db.direct() {
        let count = reader.one(&count_sql, [user], |r| r.get(0))?.unwrap_or(0);
        let rows = reader.all(&page_sql, [user, limit, offset], from_sqlite)?;
        return Ok((rows, count));
    }
    let pool = db.pool();
    let count: i64 = sqlx::query(sqlx::AssertSqlSafe(count_sql))
        .bind(user)
        .fetch_one(pool)
        .await?
        .try_get("n")?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(page_sql))
        .bind(user)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, count))
}

/// Messages from others that `user` has not read, over their non-archived conversations.
pub async fn unread_total(db: &Db, user: UserId) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT CAST(COALESCE(SUM(CASE WHEN trainer_id = $1 THEN trainer_unread \
        ELSE trainee_unread END), 0) AS BIGINT) AS n FROM conversations \
        WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL";
    if let Some(reader) = db.direct() {
        return Ok(reader.one(SQL, [user], |r| r.get(0))?.unwrap_or(0));
    }
    sqlx::query(SQL)
        .bind(user)
        .fetch_one(db.pool())
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
    db: &Db,
    user: UserId,
) -> Result<Vec<(ConversationId, i64)>, sqlx::Error> {
    const SQL: &str = "SELECT id, message_count FROM conversations \
        WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL";
    if let Some(reader) = db.direct() {
        return reader.all(SQL, [user], |r| Ok((r.get(0)?, r.get(1)?)));
    }
    sqlx::query(SQL)
        .bind(user)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("message_count")?)))
        .collect()
}

pub async fn message_count(db: &Db, id: ConversationId) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT message_count FROM conversations WHERE id = $1";
    if let Some(reader) = db.direct() {
        return Ok(reader.one(SQL, [id], |r| r.get(0))?.unwrap_or(0));
    }
    Ok(sqlx::query(SQL)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .map(|r| r.try_get("message_count"))
        .transpose()?
        .unwrap_or(0))
}

/// SQLite's group commit (`domain::committer`), on the direct writer connection.
pub mod direct {
    use rusqlite::{Connection, OptionalExtension, Result};

    use super::{AfterSends, ConversationId, Micros, SendState};

    /// Where a conversation stands before a batch; `None` if there is no such conversation.
    pub fn send_state(conn: &Connection, id: ConversationId) -> Result<Option<SendState>> {
        conn.prepare_cached(
            "SELECT last_message_at, message_count, archived_at FROM conversations WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(SendState {
                last_message_at: r.get(0)?,
                message_count: r.get(1)?,
                archived: r.get::<_, Option<Micros>>(2)?.is_some(),
            })
        })
        .optional()
    }

    /// Writes what a batch of sends did to a conversation (as `bump_for_send` does per send).
    pub fn apply_sends(conn: &Connection, c: &AfterSends) -> Result<()> {
        conn.prepare_cached(
            "UPDATE conversations SET last_message_at = ?2, last_activity_at = ?2, \
             last_message_preview = ?3, message_count = ?4, \
             trainer_unread = trainer_unread + ?5, trainee_unread = trainee_unread + ?6 \
             WHERE id = ?1",
        )?
        .execute((
            c.id,
            c.last_message_at,
            c.preview.as_str(),
            c.message_count,
            c.trainer_unread_added,
            c.trainee_unread_added,
        ))?;
        Ok(())
    }
}

/// PostgreSQL's group commit (`domain::committer`), inside its transaction.
pub mod pg {
    use std::collections::HashMap;

    use sqlx::{AnyConnection, Row};

    use super::{AfterSends, ConversationId, Micros, SendState};

    /// Locks the conversations a batch writes to (in id order, so two batches cannot deadlock)
    /// and reads where each stands. The locks order the batch's message ids after every earlier
    /// commit's, and before every later one's, in each conversation (see `bump_for_send`).
    pub async fn lock_for_sends(
        conn: &mut AnyConnection,
        ids: &[ConversationId],
    ) -> Result<HashMap<ConversationId, SendState>, sqlx::Error> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in crate::store::pow2_chunks(ids, 256) {
            let sql = format!(
                "SELECT id, last_message_at, message_count, archived_at FROM conversations \
                 WHERE id IN {} ORDER BY id FOR UPDATE",
                crate::store::pg_values(1, chunk.len(), 1)
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

    /// Writes what a batch did to each conversation, 128 rows a statement.
    pub async fn apply_sends(
        conn: &mut AnyConnection,
        rows: &[AfterSends],
    ) -> Result<(), sqlx::Error> {
        for chunk in crate::store::pow2_chunks(rows, 128) {
            let sql = format!(
                "UPDATE conversations AS c SET last_message_at = v.at, last_activity_at = v.at, \
                   last_message_preview = v.preview, message_count = v.n, \
                   trainer_unread = c.trainer_unread + v.tr, trainee_unread = c.trainee_unread + v.te \
                 FROM (VALUES {}) AS v(id, at, preview, n, tr, te) WHERE c.id = v.id",
                crate::store::pg_values(chunk.len(), 6, 1)
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
}
