//! Appending messages on PostgreSQL: lock, read what `domain::plan` needs, plan, write.
//!
//! A batch first locks its conversations' rows, in id order (`FOR UPDATE`): two batches, on
//! this node or another, that meet in a conversation then commit one after the other, and
//! since ids are drawn under the lock they commit in id order within a conversation; locking in
//! one order means they cannot deadlock. The lock also makes a retry stored by another batch
//! visible to this one's idempotency read. Then every write is one statement over arrays.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use sqlx::{PgConnection, PgPool, Row};

use super::{PgStore, messages};
use crate::clock::Micros;
use crate::domain::model::{ConversationId, Message, MessageId};
use crate::domain::plan::{self, Append, Appended, Plan, Position};
use crate::store::{Appends, Result, StartSend, Started, StoreError};

impl Appends for PgStore {
    async fn append_batch(
        &self,
        sends: Arc<Vec<Append>>,
        now: Micros,
    ) -> Result<Vec<Result<Appended>>> {
        batch(&self.pool, &sends, now).await
    }

    async fn start(&self, s: Arc<StartSend>, now: Micros) -> Result<Started> {
        start(&self.pool, &s, now).await
    }
}

/// Stores a batch in one transaction. Should the database refuse it for a reason of the data
/// (a sender deleted meanwhile, say), each send is stored alone, so that one bad send fails
/// alone.
async fn batch(pool: &PgPool, sends: &[Append], now: Micros) -> Result<Vec<Result<Appended>>> {
    let all: Vec<&Append> = sends.iter().collect();
    match in_transaction(pool, &all, now).await {
        Ok(done) => Ok(done.into_iter().map(Ok).collect()),
        Err(sqlx::Error::Database(e)) if sends.len() > 1 => {
            tracing::debug!(error = %e, sends = sends.len(), "batch refused; one by one");
            let mut results = Vec::with_capacity(sends.len());
            for a in &all {
                let alone = in_transaction(pool, std::slice::from_ref(a), now).await;
                results.push(match alone {
                    Ok(mut done) => done
                        .pop()
                        .ok_or_else(|| anyhow::anyhow!("a send has no outcome").into()),
                    Err(e) => Err(StoreError::from(e)),
                });
            }
            Ok(results)
        }
        Err(e) => Err(e.into()),
    }
}

async fn in_transaction(
    pool: &PgPool,
    sends: &[&Append],
    now: Micros,
) -> sqlx::Result<Vec<Appended>> {
    let mut tx = pool.begin().await?;
    let done = append(&mut tx, sends, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// Creates (or finds) the pair's conversation, un-archives it, and appends the first message,
/// in one transaction.
async fn start(pool: &PgPool, s: &StartSend, now: Micros) -> Result<Started> {
    let (trainer, trainee) = (s.trainer.id, s.trainee);
    let mut tx = pool.begin().await?;
    let created: Option<ConversationId> = sqlx::query_scalar(
        "INSERT INTO conversations (trainer_id, trainee_id, created_at, last_activity_at) \
         VALUES ($1, $2, $3, $3) ON CONFLICT (trainer_id, trainee_id) DO NOTHING RETURNING id",
    )
    .bind(trainer)
    .bind(trainee)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let id = match created {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "SELECT id FROM conversations WHERE trainer_id = $1 AND trainee_id = $2",
            )
            .bind(trainer)
            .bind(trainee)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    sqlx::query(
        "UPDATE conversations SET archived_at = NULL WHERE id = $1 AND archived_at IS NOT NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let send = s.to(id);
    let conversation = send.conversation;
    let appended = append(&mut tx, &[&send], now)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a start has no outcome"))?;
    tx.commit().await?;
    Ok(Started {
        conversation,
        appended,
    })
}

/// The batch inside the caller's transaction: lock, read, plan, write.
async fn append(
    conn: &mut PgConnection,
    sends: &[&Append],
    now: Micros,
) -> sqlx::Result<Vec<Appended>> {
    let positions = lock(conn, sends).await?;
    let stored = stored(conn, sends).await?;
    let plan = plan::plan(sends, &positions, &stored, now);
    let ids = write(conn, &plan).await?;
    Ok(plan.outcomes(sends, &ids))
}

/// Locks the batch's conversations in id order and reads where each stands.
async fn lock(
    conn: &mut PgConnection,
    sends: &[&Append],
) -> sqlx::Result<HashMap<ConversationId, Position>> {
    let ids: Vec<i64> = sends
        .iter()
        .map(|a| a.conversation.id.get())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows: Vec<(ConversationId, Option<Micros>, i64, bool)> = sqlx::query_as(
        "SELECT id, last_message_at, message_count, archived_at IS NOT NULL FROM conversations \
         WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, last_message_at, message_count, archived)| {
            (
                id,
                Position {
                    last_message_at,
                    message_count,
                    archived,
                },
            )
        })
        .collect())
}

/// The messages already stored under the batch's replay keys.
async fn stored(conn: &mut PgConnection, sends: &[&Append]) -> sqlx::Result<Vec<Message>> {
    let keys = plan::replay_keys(sends);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let conversations: Vec<i64> = keys.iter().map(|k| k.0.get()).collect();
    let senders: Vec<i64> = keys.iter().map(|k| k.1.get()).collect();
    let cmids: Vec<&str> = keys.iter().map(|k| k.2).collect();
    // One index probe per key: the unique (conversation, sender, key) index, fenced with
    // LIMIT so that no plan can turn it into a scan of the conversation's messages (which grow
    // with every message). No join: the author of a retry is the sender of the send itself.
    let sql = format!(
        "SELECT found.* FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) AS k(c, s, key) \
         CROSS JOIN LATERAL (SELECT {} FROM messages m \
           WHERE m.conversation_id = k.c AND m.sender_id = k.s AND m.client_message_id = k.key \
           LIMIT 1) AS found",
        messages::COLUMNS
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(conversations)
        .bind(senders)
        .bind(cmids)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let sender_id: Option<crate::domain::model::UserId> = r.try_get("sender_id")?;
            let sender = sends
                .iter()
                .find(|a| Some(a.sender.id) == sender_id)
                .map(|a| a.sender.clone());
            messages::own(r, sender)
        })
        .collect()
}

/// The new messages, in order.
macro_rules! insert_messages {
    () => {
        "INSERT INTO messages (conversation_id, seq, sender_id, content, client_message_id, \
         created_at, image, image_width, image_height, thumbnail) \
         SELECT c, s, sender, content, cmid, at, image, w, h, thumb FROM UNNEST($1::bigint[], \
         $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], \
         $8::int[], $9::int[], $10::text[]) WITH ORDINALITY \
         AS u(c, s, sender, content, cmid, at, image, w, h, thumb, n) ORDER BY n \
         RETURNING id, conversation_id, seq"
    };
}
const INSERT_MESSAGES: &str = insert_messages!();
/// The same, also deleting the uploads' records of the batch's images (`$11`): a data-changing
/// `WITH` runs to completion whether or not the statement reads it.
const INSERT_MESSAGES_WITH_IMAGES: &str = concat!(
    "WITH forgotten AS (DELETE FROM media_uploads WHERE key = ANY($11::text[])) ",
    insert_messages!()
);

/// Writes the plan: messages (in order, so ids grow with `seq`), outbox rows, the end of their
/// uploads' records, counters.
async fn write(conn: &mut PgConnection, plan: &Plan<'_>) -> sqlx::Result<Vec<MessageId>> {
    if plan.rows.is_empty() {
        return Ok(Vec::new());
    }
    let rows = &plan.rows;
    // A batch with images also ends their uploads' records, in the same statement (no round
    // trip more); a batch of text runs the statement it always ran.
    let uploads: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.image)
        .flat_map(|i| std::iter::once(i.key.as_str()).chain(i.thumbnail.as_deref()))
        .collect();
    let insert = if uploads.is_empty() {
        INSERT_MESSAGES
    } else {
        INSERT_MESSAGES_WITH_IMAGES
    };
    let mut insert = sqlx::query_as(insert)
        .bind(
            rows.iter()
                .map(|r| r.conversation_id.get())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.seq).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.sender.get()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.client_message_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.image.map(|i| i.key.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| image_size(r.image, |i| i.width))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| image_size(r.image, |i| i.height))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.image.and_then(|i| i.thumbnail.as_deref()))
                .collect::<Vec<_>>(),
        );
    if !uploads.is_empty() {
        insert = insert.bind(uploads);
    }
    let inserted: Vec<(MessageId, ConversationId, i64)> = insert.fetch_all(&mut *conn).await?;
    let by_position: HashMap<(ConversationId, i64), MessageId> = inserted
        .into_iter()
        .map(|(id, c, seq)| ((c, seq), id))
        .collect();
    let ids = rows
        .iter()
        .map(|r| {
            by_position
                .get(&(r.conversation_id, r.seq))
                .copied()
                .ok_or_else(|| sqlx::Error::Protocol("an inserted message was not returned".into()))
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    let pushed: Vec<(usize, i64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.recipient.map(|to| (i, to.get())))
        .collect();
    if !pushed.is_empty() {
        push_rows(conn, &pushed, &ids, rows).await?;
    }
    let k = &plan.counters;
    // `c.id = ANY($1)`: an index path whatever the planner expects from the arrays (a generic
    // plan would otherwise hash-join a scan of every conversation).
    sqlx::query(
        "UPDATE conversations AS c SET last_message_at = v.at, last_activity_at = v.at, \
         last_message_preview = v.preview, message_count = v.n, \
         trainer_unread = c.trainer_unread + v.tr, trainee_unread = c.trainee_unread + v.te, \
         awaiting_reply_since = CASE WHEN v.reset THEN v.since \
           ELSE COALESCE(c.awaiting_reply_since, v.since) END \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], \
         $6::bigint[], $7::boolean[], $8::bigint[]) AS v(id, at, preview, n, tr, te, reset, since) \
         WHERE c.id = v.id AND c.id = ANY($1)",
    )
    .bind(k.iter().map(|c| c.id.get()).collect::<Vec<_>>())
    .bind(k.iter().map(|c| c.last_message_at).collect::<Vec<_>>())
    .bind(k.iter().map(|c| c.preview.as_str()).collect::<Vec<_>>())
    .bind(k.iter().map(|c| c.message_count).collect::<Vec<_>>())
    .bind(k.iter().map(|c| c.trainer_unread_added).collect::<Vec<_>>())
    .bind(k.iter().map(|c| c.trainee_unread_added).collect::<Vec<_>>())
    .bind(
        k.iter()
            .map(|c| c.awaiting.as_columns().0)
            .collect::<Vec<_>>(),
    )
    .bind(
        k.iter()
            .map(|c| c.awaiting.as_columns().1)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}

/// The push outbox rows of the new messages that have a recipient (`(row, recipient)`).
async fn push_rows(
    conn: &mut PgConnection,
    pushed: &[(usize, i64)],
    ids: &[MessageId],
    rows: &[plan::NewRow<'_>],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO push_outbox (message_id, conversation_id, recipient_id, created_at) \
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])",
    )
    .bind(
        pushed
            .iter()
            .map(|(i, _)| ids[*i].get())
            .collect::<Vec<_>>(),
    )
    .bind(
        pushed
            .iter()
            .map(|(i, _)| rows[*i].conversation_id.get())
            .collect::<Vec<_>>(),
    )
    .bind(pushed.iter().map(|(_, to)| *to).collect::<Vec<_>>())
    .bind(
        pushed
            .iter()
            .map(|(i, _)| rows[*i].created_at)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An image's width or height as the `INTEGER` column holds it.
fn image_size(
    image: Option<&crate::domain::model::Image>,
    side: impl Fn(&crate::domain::model::Image) -> Option<u32>,
) -> Option<i32> {
    image.and_then(side).and_then(|v| i32::try_from(v).ok())
}
