//! The push outbox and delivery jobs on PostgreSQL. Rows are claimed with a lease
//! (`claimed_until`) and `FOR UPDATE SKIP LOCKED`, so several nodes share the work without
//! taking the same row; a worker that dies leaves its lease to run out, and the rows come back.

use sqlx::Row;

use super::PgStore;

use super::accounts::device_row;
use crate::clock::Micros;
use crate::store::{Job, JobOutcome, Outbox, Pending, QueueDepth, Result, Round};

impl Outbox for PgStore {
    async fn claim_outbox(
        &self,
        now: Micros,
        cutoff: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<Pending>> {
        let pool = &self.pool;
        let rows = sqlx::query(
            "UPDATE push_outbox SET claimed_until = $3 WHERE id IN (\
               SELECT id FROM push_outbox WHERE done_at IS NULL \
               AND (claimed_until IS NULL OR claimed_until < $1) \
               AND (recipient_id, conversation_id) IN (SELECT recipient_id, conversation_id \
                 FROM push_outbox WHERE done_at IS NULL AND created_at <= $2) \
               ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING id, message_id, conversation_id, recipient_id",
        )
        .bind(now)
        .bind(cutoff)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(Pending {
                    id: r.try_get("id")?,
                    message_id: r.try_get("message_id")?,
                    conversation_id: r.try_get("conversation_id")?,
                    recipient_id: r.try_get("recipient_id")?,
                })
            })
            .collect::<sqlx::Result<_>>()?)
    }

    async fn record_round(&self, round: Round, now: Micros) -> Result<()> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let jobs = &round.jobs;
        if !jobs.is_empty() {
            sqlx::query(
                "INSERT INTO push_jobs (device_id, recipient_id, conversation_id, payload, \
                 next_attempt_at, created_at) \
                 SELECT d, r, c, p, $5, $5 FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], \
                 $4::text[]) AS u(d, r, c, p)",
            )
            .bind(jobs.iter().map(|j| j.device.get()).collect::<Vec<_>>())
            .bind(jobs.iter().map(|j| j.recipient.get()).collect::<Vec<_>>())
            .bind(
                jobs.iter()
                    .map(|j| j.conversation.get())
                    .collect::<Vec<_>>(),
            )
            .bind(jobs.iter().map(|j| j.payload.as_str()).collect::<Vec<_>>())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for (how, ids) in &round.settled {
            sqlx::query(
                "UPDATE push_outbox SET done_at = $1, outcome = $2 \
                 WHERE done_at IS NULL AND id = ANY($3)",
            )
            .bind(now)
            .bind(how.as_str())
            .bind(ids)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn claim_jobs(&self, now: Micros, lease_until: Micros, limit: i64) -> Result<Vec<Job>> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        // Jobs of devices deactivated meanwhile are closed, not delivered.
        sqlx::query(
            "UPDATE push_jobs SET state = 'gone', finished_at = $1 WHERE state = 'pending' \
             AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
             AND device_id IN (SELECT id FROM devices WHERE deactivated_at IS NOT NULL)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(
            "WITH claimed AS (UPDATE push_jobs SET claimed_until = $2 WHERE id IN (\
               SELECT id FROM push_jobs WHERE state = 'pending' AND next_attempt_at <= $1 \
               AND (claimed_until IS NULL OR claimed_until < $1) \
               ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
               RETURNING id, device_id, conversation_id, payload, attempts) \
             SELECT j.id, j.conversation_id, j.payload, j.attempts, d.id AS device_id, d.user_id, \
               d.platform, d.token, d.p256dh, d.auth_secret \
             FROM claimed j JOIN devices d ON d.id = j.device_id ORDER BY j.id",
        )
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(Job {
                    id: r.try_get("id")?,
                    conversation_id: r.try_get("conversation_id")?,
                    payload: r.try_get("payload")?,
                    attempts: r.try_get("attempts")?,
                    device: device_row(r)?,
                })
            })
            .collect::<sqlx::Result<_>>()?)
    }

    async fn record_job(&self, job: &Job, outcome: &JobOutcome, now: Micros) -> Result<()> {
        let pool = &self.pool;
        let next = match outcome {
            JobOutcome::Retry { at, .. } => Some(*at),
            _ => None,
        };
        let finished = (!matches!(outcome, JobOutcome::Retry { .. })).then_some(now);
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE push_jobs SET state = $2, attempts = $3, last_error = $4, claimed_until = NULL, \
             next_attempt_at = COALESCE($5, next_attempt_at), finished_at = $6 WHERE id = $1",
        )
        .bind(job.id)
        .bind(outcome.state())
        .bind(job.attempts + 1)
        .bind(outcome.error())
        .bind(next)
        .bind(finished)
        .execute(&mut *tx)
        .await?;
        if matches!(outcome, JobOutcome::Gone(_)) {
            sqlx::query(
                "UPDATE devices SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL",
            )
            .bind(job.device.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Looks only at the oldest rows by id (finished rows are nearly in id order), so a call costs
    /// the same however large the table.
    async fn purge_outbox(&self, before: Micros) -> Result<u64> {
        let pool = &self.pool;
        Ok(sqlx::query(
            "DELETE FROM push_outbox WHERE id IN (SELECT id FROM \
               (SELECT id, done_at FROM push_outbox ORDER BY id LIMIT 5000) AS oldest \
             WHERE done_at IS NOT NULL AND done_at < $1)",
        )
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected())
    }

    async fn push_depth(&self) -> Result<QueueDepth> {
        let pool = &self.pool;
        let (outbox, jobs, dead): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM push_outbox WHERE done_at IS NULL), \
             (SELECT COUNT(*) FROM push_jobs WHERE state = 'pending'), \
             (SELECT COUNT(*) FROM push_jobs WHERE state = 'dead')",
        )
        .fetch_one(pool)
        .await?;
        Ok(QueueDepth { outbox, jobs, dead })
    }
}
