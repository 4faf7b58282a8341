//! Scheduled messages and broadcasts on SQLite. Every claim, change and record runs on the one
//! writer, so "is it still pending, and does no lease hold it?" and the write that follows are
//! one atomic step; leases (`claimed_until`) matter only across a crash.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::{
    Broadcast, BroadcastFailure, BroadcastId, ConversationId, ConversationRef, Scheduled,
    ScheduledId, User, UserId,
};
use crate::store::{
    BroadcastTarget, Changed, NewBroadcast, NewScheduled, Reached, Result, ScheduledChange,
    Scheduling,
};

const SCHEDULED: &str = "id, conversation_id, author_id, content, send_at, state, \
    failure_reason, message_id, created_at, updated_at";

fn scheduled(r: &Row<'_>) -> rusqlite::Result<Scheduled> {
    Ok(Scheduled {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        author_id: r.get(2)?,
        content: r.get(3)?,
        send_at: r.get(4)?,
        state: r.get(5)?,
        failure_reason: r.get(6)?,
        message_id: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

const BROADCAST: &str = "id, trainer_id, content, client_broadcast_id, state, total, sent, \
    failed, send_at, created_at, finished_at";

fn broadcast(r: &Row<'_>) -> rusqlite::Result<Broadcast> {
    Ok(Broadcast {
        id: r.get(0)?,
        trainer_id: r.get(1)?,
        content: r.get(2)?,
        client_broadcast_id: r.get(3)?,
        state: r.get(4)?,
        total: r.get(5)?,
        sent: r.get(6)?,
        failed: r.get(7)?,
        send_at: r.get(8)?,
        created_at: r.get(9)?,
        finished_at: r.get(10)?,
    })
}

/// Whether a scheduled message of the author's, in that conversation, exists at all: what a
/// change that matched no pending row answers.
fn scheduled_exists(
    c: &Connection,
    author: UserId,
    conversation: ConversationId,
    id: ScheduledId,
) -> rusqlite::Result<bool> {
    c.prepare_cached(
        "SELECT 1 FROM scheduled_messages WHERE id = ?1 AND author_id = ?2 \
         AND conversation_id = ?3",
    )?
    .exists(params![id, author, conversation])
}

fn changed<T>(
    done: Option<T>,
    exists: impl FnOnce() -> rusqlite::Result<bool>,
) -> Result<Changed<T>> {
    Ok(match done {
        Some(t) => Changed::Done(t),
        None if exists()? => Changed::NotPending,
        None => Changed::NotFound,
    })
}

impl Scheduling for SqliteStore {
    async fn insert_scheduled(
        &self,
        new: NewScheduled,
        cap: i64,
        now: Micros,
    ) -> Result<Option<Scheduled>> {
        self.pool
            .write(move |c| {
                let pending: i64 = c
                    .prepare_cached(
                        "SELECT COUNT(*) FROM scheduled_messages \
                         WHERE author_id = ?1 AND state = 'pending'",
                    )?
                    .query_row([new.author], |r| r.get(0))?;
                if pending >= cap {
                    return Ok(None);
                }
                Ok(Some(
                    c.prepare_cached(&format!(
                        "INSERT INTO scheduled_messages (conversation_id, author_id, content, \
                         send_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
                         RETURNING {SCHEDULED}"
                    ))?
                    .query_row(
                        params![
                            new.conversation,
                            new.author,
                            new.content.as_str(),
                            new.send_at,
                            now
                        ],
                        scheduled,
                    )?,
                ))
            })
            .await
    }

    async fn pending_scheduled(
        &self,
        author: UserId,
        conversation: ConversationId,
    ) -> Result<Vec<Scheduled>> {
        self.pool.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {SCHEDULED} FROM scheduled_messages WHERE author_id = ?1 \
                 AND conversation_id = ?2 AND state = 'pending' ORDER BY send_at, id"
            ))?
            .query_map(params![author, conversation], scheduled)?
            .collect()
        })
    }

    async fn change_scheduled(
        &self,
        change: ScheduledChange,
        now: Micros,
    ) -> Result<Changed<Scheduled>> {
        self.pool
            .write(move |c| {
                let done = c
                    .prepare_cached(&format!(
                        "UPDATE scheduled_messages SET content = COALESCE(?4, content), \
                         send_at = COALESCE(?5, send_at), updated_at = ?6 \
                         WHERE id = ?1 AND author_id = ?2 AND conversation_id = ?3 \
                         AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < ?6) \
                         RETURNING {SCHEDULED}"
                    ))?
                    .query_row(
                        params![
                            change.id,
                            change.author,
                            change.conversation,
                            change.content.as_ref().map(|b| b.as_str()),
                            change.send_at,
                            now
                        ],
                        scheduled,
                    )
                    .optional()?;
                changed(done, || {
                    scheduled_exists(c, change.author, change.conversation, change.id)
                })
            })
            .await
    }

    async fn cancel_scheduled(
        &self,
        author: UserId,
        conversation: ConversationId,
        id: ScheduledId,
        now: Micros,
    ) -> Result<Changed<Scheduled>> {
        self.pool
            .write(move |c| {
                let done = c
                    .prepare_cached(&format!(
                        "UPDATE scheduled_messages SET state = 'cancelled', updated_at = ?4 \
                         WHERE id = ?1 AND author_id = ?2 AND conversation_id = ?3 \
                         AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < ?4) \
                         RETURNING {SCHEDULED}"
                    ))?
                    .query_row(params![id, author, conversation, now], scheduled)
                    .optional()?;
                changed(done, || scheduled_exists(c, author, conversation, id))
            })
            .await
    }

    async fn claim_scheduled(
        &self,
        now: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<Scheduled>> {
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(&format!(
                    "UPDATE scheduled_messages SET claimed_until = ?2 WHERE id IN (\
                       SELECT id FROM scheduled_messages WHERE state = 'pending' \
                       AND send_at <= ?1 AND (claimed_until IS NULL OR claimed_until < ?1) \
                       ORDER BY send_at, id LIMIT ?3) \
                     RETURNING {SCHEDULED}"
                ))?
                .query_map(params![now, lease_until, limit], scheduled)?
                .collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn finish_scheduled(
        &self,
        id: ScheduledId,
        reached: Reached,
        now: Micros,
    ) -> Result<Option<Scheduled>> {
        self.pool
            .write(move |c| {
                let (state, message, reason) = match &reached {
                    Reached::Sent(m) => ("sent", Some(*m), None),
                    Reached::Failed(why) => ("failed", None, Some(why.as_str())),
                };
                Ok(c.prepare_cached(&format!(
                    "UPDATE scheduled_messages SET state = ?2, message_id = ?3, \
                     failure_reason = ?4, claimed_until = NULL, updated_at = ?5 \
                     WHERE id = ?1 AND state = 'pending' RETURNING {SCHEDULED}"
                ))?
                .query_row(params![id, state, message, reason, now], scheduled)
                .optional()?)
            })
            .await
    }

    async fn next_scheduled(&self) -> Result<Option<Micros>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT MIN(MAX(send_at, COALESCE(claimed_until + 1, 0))) \
                 FROM scheduled_messages WHERE state = 'pending'",
            )?
            .query_row([], |r| r.get(0))
        })
    }

    async fn next_broadcast(&self) -> Result<Option<Micros>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT MIN(MAX(due_at, COALESCE(claimed_until + 1, 0))) FROM broadcasts \
                 WHERE state IN ('scheduled', 'sending')",
            )?
            .query_row([], |r| r.get(0))
        })
    }

    async fn insert_broadcast(&self, new: NewBroadcast, now: Micros) -> Result<(Broadcast, bool)> {
        self.pool
            .write(move |c| {
                if let Some(key) = &new.client_broadcast_id {
                    let first = c
                        .prepare_cached(&format!(
                            "SELECT {BROADCAST} FROM broadcasts \
                             WHERE trainer_id = ?1 AND client_broadcast_id = ?2"
                        ))?
                        .query_row(params![new.trainer, key], broadcast)
                        .optional()?;
                    if let Some(first) = first {
                        return Ok((first, false));
                    }
                }
                let state = if new.send_at.is_some() {
                    "scheduled"
                } else {
                    "sending"
                };
                let created = c
                    .prepare_cached(&format!(
                        "INSERT INTO broadcasts (trainer_id, content, client_broadcast_id, \
                         state, total, send_at, due_at, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, COALESCE(?6, ?7), ?7) \
                         RETURNING {BROADCAST}"
                    ))?
                    .query_row(
                        params![
                            new.trainer,
                            new.content,
                            new.client_broadcast_id,
                            state,
                            new.recipients.len() as i64,
                            new.send_at,
                            now
                        ],
                        broadcast,
                    )?;
                let mut add = c.prepare_cached(
                    "INSERT INTO broadcast_recipients (broadcast_id, trainee_id) VALUES (?1, ?2)",
                )?;
                for trainee in &new.recipients {
                    add.execute(params![created.id, trainee])?;
                }
                Ok((created, true))
            })
            .await
    }

    async fn broadcasts(
        &self,
        trainer: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Broadcast>, i64)> {
        self.pool.read(|c| {
            let count = c
                .prepare_cached("SELECT COUNT(*) FROM broadcasts WHERE trainer_id = ?1")?
                .query_row([trainer], |r| r.get(0))?;
            let page = c
                .prepare_cached(&format!(
                    "SELECT {BROADCAST} FROM broadcasts WHERE trainer_id = ?1 \
                     ORDER BY id DESC LIMIT ?2 OFFSET ?3"
                ))?
                .query_map(params![trainer, limit, offset], broadcast)?
                .collect::<rusqlite::Result<_>>()?;
            Ok((page, count))
        })
    }

    async fn broadcast(
        &self,
        trainer: UserId,
        id: BroadcastId,
    ) -> Result<Option<(Broadcast, Vec<BroadcastFailure>)>> {
        self.pool.read(|c| {
            let Some(found) = c
                .prepare_cached(&format!(
                    "SELECT {BROADCAST} FROM broadcasts WHERE id = ?1 AND trainer_id = ?2"
                ))?
                .query_row(params![id, trainer], broadcast)
                .optional()?
            else {
                return Ok(None);
            };
            let failures = c
                .prepare_cached(
                    "SELECT r.trainee_id, TRIM(COALESCE(u.first_name, '') || ' ' || \
                     COALESCE(u.last_name, '')), r.failure_reason \
                     FROM broadcast_recipients r LEFT JOIN users u ON u.id = r.trainee_id \
                     WHERE r.broadcast_id = ?1 AND r.state = 'failed' ORDER BY r.trainee_id",
                )?
                .query_map([id], |r| {
                    Ok(BroadcastFailure {
                        trainee_id: r.get(0)?,
                        trainee_name: r.get(1)?,
                        reason: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some((found, failures)))
        })
    }

    async fn cancel_broadcast(
        &self,
        trainer: UserId,
        id: BroadcastId,
        now: Micros,
    ) -> Result<Changed<Broadcast>> {
        self.pool
            .write(move |c| {
                let done = c
                    .prepare_cached(&format!(
                        "UPDATE broadcasts SET state = 'cancelled', finished_at = ?3 \
                         WHERE id = ?1 AND trainer_id = ?2 AND state = 'scheduled' \
                         AND (claimed_until IS NULL OR claimed_until < ?3) RETURNING {BROADCAST}"
                    ))?
                    .query_row(params![id, trainer, now], broadcast)
                    .optional()?;
                changed(done, || {
                    c.prepare_cached("SELECT 1 FROM broadcasts WHERE id = ?1 AND trainer_id = ?2")?
                        .exists(params![id, trainer])
                })
            })
            .await
    }

    async fn claim_broadcast(&self, now: Micros, lease_until: Micros) -> Result<Option<Broadcast>> {
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(&format!(
                    "UPDATE broadcasts SET state = 'sending', claimed_until = ?2 WHERE id = (\
                       SELECT id FROM broadcasts WHERE state IN ('scheduled', 'sending') \
                       AND due_at <= ?1 AND (claimed_until IS NULL OR claimed_until < ?1) \
                       ORDER BY due_at, id LIMIT 1) \
                     RETURNING {BROADCAST}"
                ))?
                .query_row(params![now, lease_until], broadcast)
                .optional()?)
            })
            .await
    }

    async fn broadcast_targets(
        &self,
        broadcast: BroadcastId,
        trainer: UserId,
        limit: i64,
    ) -> Result<Vec<BroadcastTarget>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT r.trainee_id, u.id, u.email, u.first_name, u.last_name, u.role, \
                 u.parent_trainer_id, u.profile_image, u.deactivated_at, u.created_at, \
                 k.id, k.trainer_id, k.trainee_id, k.archived_at \
                 FROM broadcast_recipients r LEFT JOIN users u ON u.id = r.trainee_id \
                 LEFT JOIN conversations k ON k.trainer_id = ?2 AND k.trainee_id = r.trainee_id \
                 WHERE r.broadcast_id = ?1 AND r.state = 'pending' \
                 ORDER BY r.trainee_id LIMIT ?3",
            )?
            .query_map(params![broadcast, trainer, limit], |r| {
                let trainee = match r.get::<_, Option<UserId>>(1)? {
                    None => None,
                    Some(id) => Some(User {
                        id,
                        email: r.get(2)?,
                        first_name: r.get(3)?,
                        last_name: r.get(4)?,
                        role: r.get(5)?,
                        parent_trainer_id: r.get(6)?,
                        profile_image: r.get(7)?,
                        is_active: r.get::<_, Option<Micros>>(8)?.is_none(),
                        created_at: r.get(9)?,
                    }),
                };
                let conversation = match r.get::<_, Option<ConversationId>>(10)? {
                    None => None,
                    Some(id) => Some(ConversationRef {
                        id,
                        trainer_id: r.get(11)?,
                        trainee_id: r.get(12)?,
                        archived_at: r.get(13)?,
                    }),
                };
                Ok(BroadcastTarget {
                    trainee_id: r.get(0)?,
                    trainee,
                    conversation,
                })
            })?
            .collect()
        })
    }

    async fn record_broadcast(
        &self,
        id: BroadcastId,
        reached: Vec<(UserId, Reached)>,
        lease_until: Micros,
        now: Micros,
    ) -> Result<Option<Broadcast>> {
        self.pool
            .write(move |c| {
                let mut mark = c.prepare_cached(
                    "UPDATE broadcast_recipients SET state = ?3, message_id = ?4, \
                     failure_reason = ?5 WHERE broadcast_id = ?1 AND trainee_id = ?2 \
                     AND state = 'pending'",
                )?;
                let (mut sent, mut failed) = (0_i64, 0_i64);
                for (trainee, r) in &reached {
                    let n = match r {
                        Reached::Sent(m) => {
                            let n = mark.execute(params![id, trainee, "sent", m, None::<&str>])?;
                            sent += n as i64;
                            n
                        }
                        Reached::Failed(why) => {
                            let n = mark.execute(params![
                                id,
                                trainee,
                                "failed",
                                None::<i64>,
                                why
                            ])?;
                            failed += n as i64;
                            n
                        }
                    };
                    debug_assert!(n <= 1);
                }
                Ok(c.prepare_cached(&format!(
                    "UPDATE broadcasts SET sent = sent + ?2, failed = failed + ?3, \
                     claimed_until = ?4, \
                     state = CASE WHEN sent + ?2 + failed + ?3 >= total THEN 'done' ELSE state END, \
                     finished_at = CASE WHEN sent + ?2 + failed + ?3 >= total THEN ?5 \
                       ELSE finished_at END \
                     WHERE id = ?1 AND state = 'sending' RETURNING {BROADCAST}"
                ))?
                .query_row(params![id, sent, failed, lease_until, now], broadcast)
                .optional()?)
            })
            .await
    }
}
