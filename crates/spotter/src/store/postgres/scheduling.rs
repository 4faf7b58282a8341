//! Scheduled messages and broadcasts on PostgreSQL (see `store::sqlite::scheduling`: the same
//! shapes). Claims take `FOR UPDATE SKIP LOCKED`, so nodes claiming at once take different
//! rows; each change is one statement whose `WHERE` says "still pending, no lease holds it".

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
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

fn scheduled(r: &PgRow) -> sqlx::Result<Scheduled> {
    Ok(Scheduled {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        author_id: r.try_get("author_id")?,
        content: r.try_get("content")?,
        send_at: r.try_get("send_at")?,
        state: r.try_get("state")?,
        failure_reason: r.try_get("failure_reason")?,
        message_id: r.try_get("message_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const BROADCAST: &str = "id, trainer_id, content, client_broadcast_id, state, total, sent, \
    failed, send_at, created_at, finished_at";

fn broadcast(r: &PgRow) -> sqlx::Result<Broadcast> {
    Ok(Broadcast {
        id: r.try_get("id")?,
        trainer_id: r.try_get("trainer_id")?,
        content: r.try_get("content")?,
        client_broadcast_id: r.try_get("client_broadcast_id")?,
        state: r.try_get("state")?,
        total: r.try_get("total")?,
        sent: r.try_get("sent")?,
        failed: r.try_get("failed")?,
        send_at: r.try_get("send_at")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// Whether the author has that scheduled message in that conversation (`$1` id, `$2` author;
/// the conversation, an integer, written in).
fn scheduled_exists(conversation: ConversationId) -> String {
    format!(
        "SELECT 1 FROM scheduled_messages WHERE id = $1 AND author_id = $2 \
         AND conversation_id = {}",
        conversation.get()
    )
}

fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

impl PgStore {
    /// What a change that matched no pending row answers: is the row there at all?
    async fn not_pending_or_missing<T>(&self, exists: &str, a: i64, b: i64) -> Result<Changed<T>> {
        let found: Option<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(exists.to_owned()))
            .bind(a)
            .bind(b)
            .fetch_optional(&self.pool)
            .await?;
        Ok(if found.is_some() {
            Changed::NotPending
        } else {
            Changed::NotFound
        })
    }
}

impl Scheduling for PgStore {
    async fn insert_scheduled(
        &self,
        new: NewScheduled,
        cap: i64,
        now: Micros,
    ) -> Result<Option<Scheduled>> {
        let mut tx = self.pool.begin().await?;
        // One author's inserts take turns on their user row, so two at once cannot both pass
        // the cap (NO KEY: the foreign-key checks of their sends are not held up).
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(new.author)
            .execute(&mut *tx)
            .await?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM scheduled_messages WHERE author_id = $1 AND state = 'pending'",
        )
        .bind(new.author)
        .fetch_one(&mut *tx)
        .await?;
        if pending >= cap {
            return Ok(None);
        }
        let r = sqlx::query(sql(format!(
            "INSERT INTO scheduled_messages (conversation_id, author_id, content, send_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {SCHEDULED}"
        )))
        .bind(new.conversation)
        .bind(new.author)
        .bind(new.content.as_str())
        .bind(new.send_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let saved = scheduled(&r)?;
        tx.commit().await?;
        Ok(Some(saved))
    }

    async fn pending_scheduled(
        &self,
        author: UserId,
        conversation: ConversationId,
    ) -> Result<Vec<Scheduled>> {
        let rows = sqlx::query(sql(format!(
            "SELECT {SCHEDULED} FROM scheduled_messages WHERE author_id = $1 \
             AND conversation_id = $2 AND state = 'pending' ORDER BY send_at, id"
        )))
        .bind(author)
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(scheduled).collect::<sqlx::Result<_>>()?)
    }

    async fn change_scheduled(
        &self,
        change: ScheduledChange,
        now: Micros,
    ) -> Result<Changed<Scheduled>> {
        let r = sqlx::query(sql(format!(
            "UPDATE scheduled_messages SET content = COALESCE($4, content), \
             send_at = COALESCE($5, send_at), updated_at = $6 \
             WHERE id = $1 AND author_id = $2 AND conversation_id = $3 \
             AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < $6) \
             RETURNING {SCHEDULED}"
        )))
        .bind(change.id)
        .bind(change.author)
        .bind(change.conversation)
        .bind(change.content.as_ref().map(|b| b.as_str()))
        .bind(change.send_at)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match r {
            Some(r) => Ok(Changed::Done(scheduled(&r)?)),
            None => {
                self.not_pending_or_missing(
                    &scheduled_exists(change.conversation),
                    change.id.get(),
                    change.author.get(),
                )
                .await
            }
        }
    }

    async fn cancel_scheduled(
        &self,
        author: UserId,
        conversation: ConversationId,
        id: ScheduledId,
        now: Micros,
    ) -> Result<Changed<Scheduled>> {
        let r = sqlx::query(sql(format!(
            "UPDATE scheduled_messages SET state = 'cancelled', updated_at = $4 \
             WHERE id = $1 AND author_id = $2 AND conversation_id = $3 \
             AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < $4) \
             RETURNING {SCHEDULED}"
        )))
        .bind(id)
        .bind(author)
        .bind(conversation)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match r {
            Some(r) => Ok(Changed::Done(scheduled(&r)?)),
            None => {
                self.not_pending_or_missing(&scheduled_exists(conversation), id.get(), author.get())
                    .await
            }
        }
    }

    async fn claim_scheduled(
        &self,
        now: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<Scheduled>> {
        let rows = sqlx::query(sql(format!(
            "UPDATE scheduled_messages SET claimed_until = $2 WHERE id IN (\
               SELECT id FROM scheduled_messages WHERE state = 'pending' AND send_at <= $1 \
               AND (claimed_until IS NULL OR claimed_until < $1) \
               ORDER BY send_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING {SCHEDULED}"
        )))
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = rows
            .iter()
            .map(scheduled)
            .collect::<sqlx::Result<Vec<_>>>()?;
        claimed.sort_by_key(|s| (s.send_at, s.id));
        Ok(claimed)
    }

    async fn finish_scheduled(
        &self,
        id: ScheduledId,
        reached: Reached,
        now: Micros,
    ) -> Result<Option<Scheduled>> {
        let (state, message, reason) = match &reached {
            Reached::Sent(m) => ("sent", Some(*m), None),
            Reached::Failed(why) => ("failed", None, Some(why.as_str())),
        };
        let r = sqlx::query(sql(format!(
            "UPDATE scheduled_messages SET state = $2, message_id = $3, failure_reason = $4, \
             claimed_until = NULL, updated_at = $5 WHERE id = $1 AND state = 'pending' \
             RETURNING {SCHEDULED}"
        )))
        .bind(id)
        .bind(state)
        .bind(message)
        .bind(reason)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(scheduled).transpose()?)
    }

    async fn next_scheduled(&self) -> Result<Option<Micros>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(GREATEST(send_at, COALESCE(claimed_until + 1, 0))) \
             FROM scheduled_messages WHERE state = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn next_broadcast(&self) -> Result<Option<Micros>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(GREATEST(due_at, COALESCE(claimed_until + 1, 0))) FROM broadcasts \
             WHERE state IN ('scheduled', 'sending')",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn insert_broadcast(&self, new: NewBroadcast, now: Micros) -> Result<(Broadcast, bool)> {
        let mut tx = self.pool.begin().await?;
        let state = if new.send_at.is_some() {
            "scheduled"
        } else {
            "sending"
        };
        // A retry racing the first request meets it in the unique index and reads it back.
        let created = sqlx::query(sql(format!(
            "INSERT INTO broadcasts (trainer_id, content, client_broadcast_id, state, total, \
             send_at, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, COALESCE($6, $7), $7) \
             ON CONFLICT (trainer_id, client_broadcast_id) \
               WHERE client_broadcast_id IS NOT NULL DO NOTHING \
             RETURNING {BROADCAST}"
        )))
        .bind(new.trainer)
        .bind(&new.content)
        .bind(&new.client_broadcast_id)
        .bind(state)
        .bind(new.recipients.len() as i64)
        .bind(new.send_at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(created) = created else {
            let first = sqlx::query(sql(format!(
                "SELECT {BROADCAST} FROM broadcasts WHERE trainer_id = $1 \
                 AND client_broadcast_id = $2"
            )))
            .bind(new.trainer)
            .bind(&new.client_broadcast_id)
            .fetch_one(&mut *tx)
            .await?;
            return Ok((broadcast(&first)?, false));
        };
        let created = broadcast(&created)?;
        sqlx::query(
            "INSERT INTO broadcast_recipients (broadcast_id, trainee_id) \
             SELECT $1, t FROM UNNEST($2::bigint[]) AS t",
        )
        .bind(created.id)
        .bind(new.recipients.iter().map(|u| u.get()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((created, true))
    }

    async fn broadcasts(
        &self,
        trainer: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Broadcast>, i64)> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM broadcasts WHERE trainer_id = $1")
                .bind(trainer)
                .fetch_one(&self.pool)
                .await?;
        let rows = sqlx::query(sql(format!(
            "SELECT {BROADCAST} FROM broadcasts WHERE trainer_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(trainer)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.iter().map(broadcast).collect::<sqlx::Result<_>>()?,
            count,
        ))
    }

    async fn broadcast(
        &self,
        trainer: UserId,
        id: BroadcastId,
    ) -> Result<Option<(Broadcast, Vec<BroadcastFailure>)>> {
        let Some(found) = sqlx::query(sql(format!(
            "SELECT {BROADCAST} FROM broadcasts WHERE id = $1 AND trainer_id = $2"
        )))
        .bind(id)
        .bind(trainer)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT r.trainee_id, TRIM(COALESCE(u.first_name, '') || ' ' || \
             COALESCE(u.last_name, '')) AS name, COALESCE(r.failure_reason, '') AS reason \
             FROM broadcast_recipients r LEFT JOIN users u ON u.id = r.trainee_id \
             WHERE r.broadcast_id = $1 AND r.state = 'failed' ORDER BY r.trainee_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let failures = rows
            .iter()
            .map(|r| {
                Ok(BroadcastFailure {
                    trainee_id: r.try_get("trainee_id")?,
                    trainee_name: r.try_get("name")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect::<sqlx::Result<_>>()?;
        Ok(Some((broadcast(&found)?, failures)))
    }

    async fn cancel_broadcast(
        &self,
        trainer: UserId,
        id: BroadcastId,
        now: Micros,
    ) -> Result<Changed<Broadcast>> {
        let r = sqlx::query(sql(format!(
            "UPDATE broadcasts SET state = 'cancelled', finished_at = $3 \
             WHERE id = $1 AND trainer_id = $2 AND state = 'scheduled' \
             AND (claimed_until IS NULL OR claimed_until < $3) RETURNING {BROADCAST}"
        )))
        .bind(id)
        .bind(trainer)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match r {
            Some(r) => Ok(Changed::Done(broadcast(&r)?)),
            None => {
                self.not_pending_or_missing(
                    "SELECT 1 FROM broadcasts WHERE id = $1 AND trainer_id = $2",
                    id.get(),
                    trainer.get(),
                )
                .await
            }
        }
    }

    async fn claim_broadcast(&self, now: Micros, lease_until: Micros) -> Result<Option<Broadcast>> {
        let r = sqlx::query(sql(format!(
            "UPDATE broadcasts SET state = 'sending', claimed_until = $2 WHERE id = (\
               SELECT id FROM broadcasts WHERE state IN ('scheduled', 'sending') \
               AND due_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
               ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {BROADCAST}"
        )))
        .bind(now)
        .bind(lease_until)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(broadcast).transpose()?)
    }

    async fn broadcast_targets(
        &self,
        broadcast: BroadcastId,
        trainer: UserId,
        limit: i64,
    ) -> Result<Vec<BroadcastTarget>> {
        let rows = sqlx::query(
            "SELECT r.trainee_id AS target, u.id, u.email, u.first_name, u.last_name, u.role, \
             u.parent_trainer_id, u.profile_image, u.deactivated_at, u.created_at, \
             k.id AS k_id, k.trainer_id AS k_trainer, k.trainee_id AS k_trainee, \
             k.archived_at AS k_archived \
             FROM broadcast_recipients r LEFT JOIN users u ON u.id = r.trainee_id \
             LEFT JOIN conversations k ON k.trainer_id = $2 AND k.trainee_id = r.trainee_id \
             WHERE r.broadcast_id = $1 AND r.state = 'pending' \
             ORDER BY r.trainee_id LIMIT $3",
        )
        .bind(broadcast)
        .bind(trainer)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let target = |r: &PgRow| -> sqlx::Result<BroadcastTarget> {
            let trainee = match r.try_get::<Option<UserId>, _>("id")? {
                None => None,
                Some(id) => Some(User {
                    id,
                    email: r.try_get("email")?,
                    first_name: r.try_get("first_name")?,
                    last_name: r.try_get("last_name")?,
                    role: r.try_get("role")?,
                    parent_trainer_id: r.try_get("parent_trainer_id")?,
                    profile_image: r.try_get("profile_image")?,
                    is_active: r.try_get::<Option<Micros>, _>("deactivated_at")?.is_none(),
                    created_at: r.try_get("created_at")?,
                }),
            };
            let conversation = match r.try_get::<Option<ConversationId>, _>("k_id")? {
                None => None,
                Some(id) => Some(ConversationRef {
                    id,
                    trainer_id: r.try_get("k_trainer")?,
                    trainee_id: r.try_get("k_trainee")?,
                    archived_at: r.try_get("k_archived")?,
                }),
            };
            Ok(BroadcastTarget {
                trainee_id: r.try_get("target")?,
                trainee,
                conversation,
            })
        };
        Ok(rows.iter().map(target).collect::<sqlx::Result<_>>()?)
    }

    async fn record_broadcast(
        &self,
        id: BroadcastId,
        reached: Vec<(UserId, Reached)>,
        lease_until: Micros,
        now: Micros,
    ) -> Result<Option<Broadcast>> {
        let mut trainees = Vec::with_capacity(reached.len());
        let mut states = Vec::with_capacity(reached.len());
        let mut messages = Vec::with_capacity(reached.len());
        let mut reasons = Vec::with_capacity(reached.len());
        for (trainee, r) in reached {
            trainees.push(trainee.get());
            match r {
                Reached::Sent(m) => {
                    states.push("sent");
                    messages.push(Some(m.get()));
                    reasons.push(None);
                }
                Reached::Failed(why) => {
                    states.push("failed");
                    messages.push(None);
                    reasons.push(Some(why));
                }
            }
        }
        // Each recipient counts once: only a row still pending is marked (and counted), and
        // the broadcast's row lock orders two recorders of the same broadcast.
        let r = sqlx::query(sql(format!(
            "WITH r AS (SELECT * FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], \
               $5::text[]) AS r(trainee, state, message, reason)), \
             marked AS (UPDATE broadcast_recipients b SET state = r.state, \
               message_id = r.message, failure_reason = r.reason FROM r \
               WHERE b.broadcast_id = $1 AND b.trainee_id = r.trainee AND b.state = 'pending' \
               RETURNING b.state), \
             n AS (SELECT COUNT(*) FILTER (WHERE state = 'sent') AS sent, \
               COUNT(*) FILTER (WHERE state = 'failed') AS failed FROM marked) \
             UPDATE broadcasts SET sent = broadcasts.sent + n.sent, \
               failed = broadcasts.failed + n.failed, claimed_until = $6, \
               state = CASE WHEN broadcasts.sent + n.sent + broadcasts.failed + n.failed \
                 >= total THEN 'done' ELSE state END, \
               finished_at = CASE WHEN broadcasts.sent + n.sent + broadcasts.failed + n.failed \
                 >= total THEN $7 ELSE finished_at END \
             FROM n WHERE id = $1 AND broadcasts.state = 'sending' RETURNING {}",
            BROADCAST
                .split(", ")
                .map(|c| format!("broadcasts.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
        .bind(id)
        .bind(trainees)
        .bind(states)
        .bind(messages)
        .bind(reasons)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(broadcast).transpose()?)
    }
}
