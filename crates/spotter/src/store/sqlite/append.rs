//! Appending messages on SQLite: read what `domain::plan` needs, plan, write the plan. Runs on
//! the writer thread, inside its transaction, so nothing changes between the reads and the
//! writes.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::convert::to_store;
use super::messages;
use super::pool::run;
use crate::clock::Micros;
use crate::domain::model::{ConversationId, Message, MessageId};
use crate::domain::plan::{self, Append, Appended, Plan, Position};
use crate::store::{Appends, Result, StartSend, Started, StoreError};

impl Appends for SqliteStore {
    async fn append_batch(
        &self,
        sends: Arc<Vec<Append>>,
        now: Micros,
    ) -> Result<Vec<Result<Appended>>> {
        self.pool.write(move |c| batch(c, &sends, now)).await
    }

    async fn start(&self, s: Arc<StartSend>, now: Micros) -> Result<Started> {
        self.pool.write(move |c| start(c, &s, now)).await
    }
}

/// Stores a batch of sends. A send whose row the database refuses (its sender deleted
/// meanwhile, say) fails alone: the batch is planned again without it.
fn batch(c: &Connection, sends: &[Append], now: Micros) -> Result<Vec<Result<Appended>>> {
    let mut failed: Vec<Option<StoreError>> = sends.iter().map(|_| None).collect();
    loop {
        let live: Vec<usize> = (0..sends.len()).filter(|&i| failed[i].is_none()).collect();
        let planned: Vec<&Append> = live.iter().map(|&i| &sends[i]).collect();
        let plan = plan::plan(
            &planned,
            &positions(c, &planned)?,
            &stored(c, &planned)?,
            now,
        );
        run(c, "SAVEPOINT batch")?;
        match write(c, &plan) {
            Ok(ids) => {
                run(c, "RELEASE batch")?;
                let mut outcomes = plan.outcomes(&planned, &ids).into_iter();
                return Ok(failed
                    .into_iter()
                    .map(|f| match f {
                        Some(e) => Err(e),
                        None => outcomes
                            .next()
                            .ok_or_else(|| anyhow::anyhow!("a planned send has no outcome").into()),
                    })
                    .collect());
            }
            Err(refused) => {
                run(c, "ROLLBACK TO batch")?;
                run(c, "RELEASE batch")?;
                match refused {
                    Refused::Row(send, e) => failed[live[send]] = Some(e),
                    Refused::Batch(e) => return Err(e),
                }
            }
        }
    }
}

/// Creates (or finds) the pair's conversation, un-archives it, and appends the first message.
fn start(c: &Connection, s: &StartSend, now: Micros) -> Result<Started> {
    let (trainer, trainee) = (s.trainer.id, s.trainee);
    let created: Option<ConversationId> = c
        .prepare_cached(
            "INSERT INTO conversations (trainer_id, trainee_id, created_at, last_activity_at) \
             VALUES (?1, ?2, ?3, ?3) ON CONFLICT (trainer_id, trainee_id) DO NOTHING RETURNING id",
        )?
        .query_row(params![trainer, trainee, now], |r| r.get(0))
        .optional()?;
    let id = match created {
        Some(id) => id,
        None => c
            .prepare_cached(
                "SELECT id FROM conversations WHERE trainer_id = ?1 AND trainee_id = ?2",
            )?
            .query_row(params![trainer, trainee], |r| r.get(0))?,
    };
    c.prepare_cached(
        "UPDATE conversations SET archived_at = NULL WHERE id = ?1 AND archived_at IS NOT NULL",
    )?
    .execute([id])?;
    let send = s.to(id);
    let conversation = send.conversation;
    let appended = batch(c, std::slice::from_ref(&send), now)?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("a start has no outcome"))??;
    Ok(Started {
        conversation,
        appended,
    })
}

/// Where each conversation of the batch stands.
fn positions(c: &Connection, sends: &[&Append]) -> Result<HashMap<ConversationId, Position>> {
    let mut stmt = c.prepare_cached(
        "SELECT last_message_at, message_count, archived_at IS NOT NULL FROM conversations \
         WHERE id = ?1",
    )?;
    let mut out = HashMap::new();
    for a in sends {
        let id = a.conversation.id;
        if out.contains_key(&id) {
            continue;
        }
        let found = stmt
            .query_row([id], |r| {
                Ok(Position {
                    last_message_at: r.get(0)?,
                    message_count: r.get(1)?,
                    archived: r.get(2)?,
                })
            })
            .optional()?;
        if let Some(p) = found {
            out.insert(id, p);
        }
    }
    Ok(out)
}

/// The messages already stored under the batch's replay keys.
fn stored(c: &Connection, sends: &[&Append]) -> Result<Vec<Message>> {
    let keys = plan::replay_keys(sends);
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = c.prepare_cached(&format!(
        "{} WHERE m.conversation_id = ?1 AND m.sender_id = ?2 AND m.client_message_id = ?3",
        messages::SELECT
    ))?;
    let mut found = Vec::new();
    for (conversation, sender, key) in keys {
        if let Some(m) = stmt
            .query_row(params![conversation, sender, key], messages::row)
            .optional()?
        {
            found.push(m);
        }
    }
    Ok(found)
}

/// What the database refused: one send's row (the index of its send in the plan), or the batch.
enum Refused {
    Row(usize, StoreError),
    Batch(StoreError),
}

impl From<rusqlite::Error> for Refused {
    fn from(e: rusqlite::Error) -> Self {
        Self::Batch(to_store(e))
    }
}

/// Writes the plan: the message rows, their push outbox rows and the end of their uploads'
/// records, then each conversation's row.
fn write(c: &Connection, plan: &Plan<'_>) -> Result<Vec<MessageId>, Refused> {
    let mut insert = c.prepare_cached(
        "INSERT INTO messages (conversation_id, seq, sender_id, content, client_message_id, \
         created_at, image, image_width, image_height, thumbnail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    )?;
    let mut enqueue = c.prepare_cached(
        "INSERT INTO push_outbox (message_id, conversation_id, recipient_id, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ids = Vec::with_capacity(plan.rows.len());
    for row in &plan.rows {
        let inserted = insert.query_row(
            params![
                row.conversation_id,
                row.seq,
                row.sender,
                row.content,
                row.client_message_id,
                row.created_at,
                row.image.map(|i| i.key.as_str()),
                row.image.and_then(|i| i.width),
                row.image.and_then(|i| i.height),
                row.image.and_then(|i| i.thumbnail.as_deref()),
            ],
            |r| r.get::<_, MessageId>(0),
        );
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_constraint(&e) => return Err(Refused::Row(row.send, to_store(e))),
            Err(e) => return Err(e.into()),
        };
        if let Some(recipient) = row.recipient {
            enqueue.execute(params![id, row.conversation_id, recipient, row.created_at])?;
        }
        if let Some(image) = row.image {
            // The upload's record goes with the message that names it (prepared only for a
            // batch that carries an image: text sends run what they always ran).
            let mut forget = c.prepare_cached("DELETE FROM media_uploads WHERE key = ?1")?;
            for key in std::iter::once(&image.key).chain(&image.thumbnail) {
                forget.execute([key])?;
            }
        }
        ids.push(id);
    }
    let mut update = c.prepare_cached(
        "UPDATE conversations SET last_message_at = ?2, last_activity_at = ?2, \
         last_message_preview = ?3, message_count = ?4, \
         trainer_unread = trainer_unread + ?5, trainee_unread = trainee_unread + ?6, \
         awaiting_reply_since = CASE WHEN ?7 THEN ?8 \
           ELSE COALESCE(awaiting_reply_since, ?8) END \
         WHERE id = ?1",
    )?;
    for k in &plan.counters {
        let (reset, since) = k.awaiting.as_columns();
        update.execute(params![
            k.id,
            k.last_message_at,
            k.preview,
            k.message_count,
            k.trainer_unread_added,
            k.trainee_unread_added,
            reset,
            since
        ])?;
    }
    Ok(ids)
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
}
