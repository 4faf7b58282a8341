//! The push outbox and delivery jobs on SQLite. Rows are claimed with a lease
//! (`claimed_until`) on the one writer, so a claim and its lease are one atomic step; a worker
//! that dies leaves its lease to run out, and the rows come back.

use rusqlite::params;

use super::SqliteStore;
use super::accounts::device_row;
use crate::clock::Micros;
use crate::store::{Job, JobOutcome, Outbox, Pending, QueueDepth, Result, Round};

impl Outbox for SqliteStore {
    async fn claim_outbox(
        &self,
        now: Micros,
        cutoff: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<Pending>> {
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(
                    "UPDATE push_outbox SET claimed_until = ?3 WHERE id IN (\
                   SELECT id FROM push_outbox WHERE done_at IS NULL \
                   AND (claimed_until IS NULL OR claimed_until < ?1) \
                   AND (recipient_id, conversation_id) IN (SELECT recipient_id, conversation_id \
                     FROM push_outbox WHERE done_at IS NULL AND created_at <= ?2) \
                   ORDER BY id LIMIT ?4) \
                 RETURNING id, message_id, conversation_id, recipient_id",
                )?
                .query_map(params![now, cutoff, lease_until, limit], |r| {
                    Ok(Pending {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        conversation_id: r.get(2)?,
                        recipient_id: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn record_round(&self, round: Round, now: Micros) -> Result<()> {
        self.pool.write(move |c| {
            let mut add = c.prepare_cached(
                "INSERT INTO push_jobs (device_id, recipient_id, conversation_id, payload, \
                 next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?;
            for j in &round.jobs {
                add.execute(params![
                    j.device,
                    j.recipient,
                    j.conversation,
                    j.payload,
                    now
                ])?;
            }
            let mut settle = c.prepare_cached(
                "UPDATE push_outbox SET done_at = ?1, outcome = ?2 WHERE done_at IS NULL AND id = ?3",
            )?;
            for (how, ids) in &round.settled {
                for id in ids {
                    settle.execute(params![now, how.as_str(), id])?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn claim_jobs(&self, now: Micros, lease_until: Micros, limit: i64) -> Result<Vec<Job>> {
        self.pool
            .write(move |c| {
                // Jobs of devices deactivated meanwhile are closed, not delivered.
                c.prepare_cached(
                    "UPDATE push_jobs SET state = 'gone', finished_at = ?1 WHERE state = 'pending' \
                 AND next_attempt_at <= ?1 AND (claimed_until IS NULL OR claimed_until < ?1) \
                 AND device_id IN (SELECT id FROM devices WHERE deactivated_at IS NOT NULL)",
                )?
                .execute([now])?;
                let ids: Vec<i64> = c
                    .prepare_cached(
                        "UPDATE push_jobs SET claimed_until = ?2 WHERE id IN (\
                       SELECT id FROM push_jobs WHERE state = 'pending' AND next_attempt_at <= ?1 \
                       AND (claimed_until IS NULL OR claimed_until < ?1) \
                       ORDER BY next_attempt_at LIMIT ?3) RETURNING id",
                    )?
                    .query_map(params![now, lease_until, limit], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut read = c.prepare_cached(
                    "SELECT j.id, j.conversation_id, j.payload, j.attempts, \
                   d.id, d.user_id, d.platform, d.token, d.p256dh, d.auth_secret \
                 FROM push_jobs j JOIN devices d ON d.id = j.device_id WHERE j.id = ?1",
                )?;
                let mut jobs = Vec::with_capacity(ids.len());
                for id in ids {
                    jobs.push(read.query_row([id], |r| {
                        Ok(Job {
                            id: r.get(0)?,
                            conversation_id: r.get(1)?,
                            payload: r.get(2)?,
                            attempts: r.get(3)?,
                            device: device_row(r, 4)?,
                        })
                    })?);
                }
                Ok(jobs)
            })
            .await
    }

    async fn record_job(&self, job: &Job, outcome: &JobOutcome, now: Micros) -> Result<()> {
        let (id, device, attempts) = (job.id, job.device.id, job.attempts + 1);
        let outcome = outcome.clone();
        self.pool.write(move |c| {
            let next = match &outcome {
                JobOutcome::Retry { at, .. } => Some(*at),
                _ => None,
            };
            let finished = (!matches!(outcome, JobOutcome::Retry { .. })).then_some(now);
            c.prepare_cached(
                "UPDATE push_jobs SET state = ?2, attempts = ?3, last_error = ?4, \
                 claimed_until = NULL, next_attempt_at = COALESCE(?5, next_attempt_at), \
                 finished_at = ?6 WHERE id = ?1",
            )?
            .execute(params![
                id,
                outcome.state(),
                attempts,
                outcome.error(),
                next,
                finished
            ])?;
            if matches!(outcome, JobOutcome::Gone(_)) {
                c.prepare_cached(
                    "UPDATE devices SET deactivated_at = ?2 WHERE id = ?1 AND deactivated_at IS NULL",
                )?
                .execute(params![device, now])?;
            }
            Ok(())
        })
        .await
    }

    /// Looks only at the oldest rows by id (finished rows are nearly in id order), so a call costs
    /// the same however large the table.
    async fn purge_outbox(&self, before: Micros) -> Result<u64> {
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(
                    "DELETE FROM push_outbox WHERE id IN (SELECT id FROM \
                   (SELECT id, done_at FROM push_outbox ORDER BY id LIMIT 5000) \
                 WHERE done_at IS NOT NULL AND done_at < ?1)",
                )?
                .execute([before])? as u64)
            })
            .await
    }

    async fn push_depth(&self) -> Result<QueueDepth> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT (SELECT COUNT(*) FROM push_outbox WHERE done_at IS NULL), \
                 (SELECT COUNT(*) FROM push_jobs WHERE state = 'pending'), \
                 (SELECT COUNT(*) FROM push_jobs WHERE state = 'dead')",
            )?
            .query_row([], |r| {
                Ok(QueueDepth {
                    outbox: r.get(0)?,
                    jobs: r.get(1)?,
                    dead: r.get(2)?,
                })
            })
        })
    }
}
