//! The push outbox and delivery jobs. Rows are claimed with a lease (`claimed_until`): on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several nodes share the work without taking the
//! same row; on SQLite under the one writer. A worker that dies leaves its lease to run out, and
//! the rows come back.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Backend, Db};
use crate::clock::Micros;
use crate::domain::model::{ConversationId, Device, MessageId, UserId};

/// Enqueues a push for `recipient` about a new message, inside the send transaction.
pub async fn enqueue(
    conn: &mut AnyConnection,
    message: MessageId,
    conversation: ConversationId,
    recipient: UserId,
    now: Micros,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO push_outbox (message_id, conversation_id, recipient_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(message)
        .bind(conversation)
        .bind(recipient)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

#[derive(Debug, Clone, Copy)]
pub struct Pending {
    pub id: i64,
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub recipient_id: UserId,
}

/// Claims every unfinished row of each (recipient, conversation) that has a row older than
/// `cutoff`: a burst is taken whole, so it becomes one notification.
pub async fn claim_due(
    db: &Db,
    now: Micros,
    cutoff: Micros,
    lease_until: Micros,
    limit: i64,
) -> Result<Vec<Pending>, sqlx::Error> {
    const PICK: &str = "SELECT id FROM push_outbox WHERE done_at IS NULL \
        AND (claimed_until IS NULL OR claimed_until < $1) \
        AND (recipient_id, conversation_id) IN \
            (SELECT recipient_id, conversation_id FROM push_outbox WHERE done_at IS NULL AND created_at <= $2) \
        ORDER BY id LIMIT $4";
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE push_outbox SET claimed_until = $3 WHERE id IN ({PICK}{lock}) \
         RETURNING id, message_id, conversation_id, recipient_id"
    );
    if db.direct().is_some() {
        // SQLite: hundreds of rows a round, each a thread hop through sqlx, while holding the
        // writer lock that every send's group commit waits for.
        return db
            .write_direct(move |tx| {
                let mut stmt = tx.prepare_cached(&super::direct::numbered(&sql))?;
                let rows = stmt.query_map((now, cutoff, lease_until, limit), |r| {
                    Ok(Pending {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        conversation_id: r.get(2)?,
                        recipient_id: r.get(3)?,
                    })
                })?;
                rows.collect()
            })
            .await;
    }
    let mut w = db.begin_write().await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(cutoff)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&mut *w.tx)
        .await?;
    w.commit().await?;
    rows.iter()
        .map(|r| {
            Ok(Pending {
                id: r.try_get("id")?,
                message_id: r.try_get("message_id")?,
                conversation_id: r.try_get("conversation_id")?,
                recipient_id: r.try_get("recipient_id")?,
            })
        })
        .collect()
}

/// A push job to create: `(device, recipient, conversation, payload)`.
pub type NewJob = (i64, UserId, ConversationId, String);

/// What one planning round decided, in one transaction: the jobs to create, and the outbox rows
/// finished under each outcome (`notified`, `reading`, `read`, `no_devices`).
pub async fn record_round(
    db: &Db,
    jobs: Vec<NewJob>,
    done: Vec<(&'static str, Vec<i64>)>,
    now: Micros,
) -> Result<(), sqlx::Error> {
    if db.direct().is_some() {
        return db
            .write_direct(move |tx| {
                let mut add = tx.prepare_cached(ADD_JOB_SQLITE)?;
                for (device, recipient, conversation, payload) in &jobs {
                    add.execute((device, recipient, conversation, payload, now))?;
                }
                let mut finish = tx.prepare_cached(
                    "UPDATE push_outbox SET done_at = ?1, outcome = ?2 \
                     WHERE done_at IS NULL AND id = ?3",
                )?;
                for (outcome, ids) in &done {
                    for id in ids {
                        finish.execute((now, outcome, id))?;
                    }
                }
                Ok(())
            })
            .await;
    }
    let mut w = db.begin_write().await?;
    for (device, recipient, conversation, payload) in &jobs {
        add_job(&mut w.tx, *device, *recipient, *conversation, payload, now).await?;
    }
    for (outcome, ids) in &done {
        finish(&mut w.tx, ids, outcome, now).await?;
    }
    w.commit().await
}

const ADD_JOB_SQLITE: &str = "INSERT INTO push_jobs (device_id, recipient_id, conversation_id, \
    payload, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)";

/// Marks outbox rows finished with an outcome: one statement for up to 256 rows.
async fn finish(
    conn: &mut AnyConnection,
    ids: &[i64],
    outcome: &str,
    now: Micros,
) -> Result<(), sqlx::Error> {
    for chunk in super::pow2_chunks(ids, 256) {
        let sql = format!(
            "UPDATE push_outbox SET done_at = $1, outcome = $2 WHERE done_at IS NULL AND id IN {}",
            super::pg_values(1, chunk.len(), 3)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(outcome);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn add_job(
    conn: &mut AnyConnection,
    device: i64,
    recipient: UserId,
    conversation: ConversationId,
    payload: &str,
    now: Micros,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO push_jobs (device_id, recipient_id, conversation_id, payload, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(device)
    .bind(recipient)
    .bind(conversation)
    .bind(payload)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// A delivery to make.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub device: Device,
    pub conversation_id: ConversationId,
    pub payload: String,
    pub attempts: i64,
}

fn job(r: &AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: r.try_get("id")?,
        conversation_id: r.try_get("conversation_id")?,
        payload: r.try_get("payload")?,
        attempts: r.try_get("attempts")?,
        device: Device {
            id: r.try_get("device_id")?,
            user_id: r.try_get("recipient_id")?,
            platform: r.try_get("platform")?,
            token: r.try_get("token")?,
            p256dh: r.try_get("p256dh")?,
            auth_secret: r.try_get("auth_secret")?,
        },
    })
}

/// Claims due jobs of active devices.
pub async fn claim_jobs(
    db: &Db,
    now: Micros,
    lease_until: Micros,
    limit: i64,
) -> Result<Vec<Job>, sqlx::Error> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE push_jobs SET claimed_until = $2 WHERE id IN (\
           SELECT id FROM push_jobs WHERE state = 'pending' AND next_attempt_at <= $1 \
           AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at LIMIT $3{lock}) \
         RETURNING id"
    );
    let mut w = db.begin_write().await?;
    let ids: Vec<i64> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut jobs = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(
            "SELECT j.id, j.device_id, j.recipient_id, j.conversation_id, j.payload, j.attempts, \
             d.platform, d.token, d.p256dh, d.auth_secret, d.deactivated_at \
             FROM push_jobs j JOIN devices d ON d.id = j.device_id WHERE j.id = $1",
        )
        .bind(id)
        .fetch_one(&mut *w.tx)
        .await?;
        if row
            .try_get::<Option<Micros>, _>("deactivated_at")?
            .is_some()
        {
            sqlx::query("UPDATE push_jobs SET state = 'gone', finished_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *w.tx)
                .await?;
            continue;
        }
        jobs.push(job(&row)?);
    }
    w.commit().await?;
    Ok(jobs)
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// The device is unregistered (404/410): deactivate it.
    Gone(String),
    /// Try again at this time.
    Retry {
        at: Micros,
        error: String,
    },
    /// Give up, with the reason.
    Dead(String),
}

pub async fn record(db: &Db, job: &Job, outcome: &Outcome, now: Micros) -> Result<(), sqlx::Error> {
    let mut w = db.begin_write().await?;
    let attempts = job.attempts + 1;
    let (state, error, next) = match outcome {
        Outcome::Sent => ("sent", None, None),
        Outcome::Gone(e) => ("gone", Some(e.as_str()), None),
        Outcome::Retry { at, error } => ("pending", Some(error.as_str()), Some(*at)),
        Outcome::Dead(e) => ("dead", Some(e.as_str()), None),
    };
    sqlx::query(
        "UPDATE push_jobs SET state = $2, attempts = $3, last_error = $4, claimed_until = NULL, \
         next_attempt_at = COALESCE($5, next_attempt_at), finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $6 END \
         WHERE id = $1",
    )
    .bind(job.id)
    .bind(state)
    .bind(attempts)
    .bind(error)
    .bind(next)
    .bind(now)
    .execute(&mut *w.tx)
    .await?;
    if matches!(outcome, Outcome::Gone(_)) {
        sqlx::query(
            "UPDATE devices SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL",
        )
        .bind(job.device.id)
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
    }
    w.commit().await
}

/// Outbox rows waiting, jobs waiting, jobs dead-lettered: for logs and metrics.
/// Deletes outbox rows finished before `before`, oldest first, a bounded number per call: the
/// outbox gets a row per message and must not grow forever. Looks only at the oldest rows by
/// id (finished rows are nearly in id order), so a call costs the same however large the table.
pub async fn purge_done(db: &Db, before: Micros) -> Result<u64, sqlx::Error> {
    let mut w = db.begin_write().await?;
    let gone = sqlx::query(
        "DELETE FROM push_outbox WHERE id IN (SELECT id FROM \
           (SELECT id, done_at FROM push_outbox ORDER BY id LIMIT 5000) AS oldest \
         WHERE done_at IS NOT NULL AND done_at < $1)",
    )
    .bind(before)
    .execute(&mut *w.tx)
    .await?
    .rows_affected();
    w.commit().await?;
    Ok(gone)
}

pub async fn depth(db: &Db) -> Result<(i64, i64, i64), sqlx::Error> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM push_outbox WHERE done_at IS NULL) AS outbox, \
         (SELECT COUNT(*) FROM push_jobs WHERE state = 'pending') AS jobs, \
         (SELECT COUNT(*) FROM push_jobs WHERE state = 'dead') AS dead",
    )
    .fetch_one(db.pool())
    .await?;
    Ok((r.try_get("outbox")?, r.try_get("jobs")?, r.try_get("dead")?))
}

/// SQLite's group commit (`domain::committer`), on the direct writer connection.
pub mod direct {
    use rusqlite::{Connection, Result};

    use super::{ConversationId, MessageId, Micros, UserId};

    /// [`super::enqueue`], inside the batch's transaction.
    pub fn enqueue(
        conn: &Connection,
        message: MessageId,
        conversation: ConversationId,
        recipient: UserId,
        now: Micros,
    ) -> Result<()> {
        conn.prepare_cached(
            "INSERT INTO push_outbox (message_id, conversation_id, recipient_id, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((message, conversation, recipient, now))?;
        Ok(())
    }
}

/// PostgreSQL's group commit (`domain::committer`), inside its transaction.
pub mod pg {
    use sqlx::AnyConnection;

    use super::{ConversationId, MessageId, Micros, UserId};

    /// [`super::enqueue`] for a batch: `(message, conversation, recipient, created_at)`.
    pub async fn enqueue_many(
        conn: &mut AnyConnection,
        rows: &[(MessageId, ConversationId, UserId, Micros)],
    ) -> Result<(), sqlx::Error> {
        for chunk in crate::store::pow2_chunks(rows, 256) {
            let sql = format!(
                "INSERT INTO push_outbox (message_id, conversation_id, recipient_id, created_at) \
                 VALUES {}",
                crate::store::pg_values(chunk.len(), 4, 1)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (m, c, r, at) in chunk {
                q = q.bind(*m).bind(*c).bind(*r).bind(*at);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }
}
