//! The audit log on PostgreSQL: an append takes a transaction-scoped advisory lock first, so
//! appends from every node take turns, each reading the newest entry and inserting the next.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
use crate::clock::Micros;
use crate::domain::model::{Role, UserId};
use crate::store::{Audit, AuditEntry, AuditFilter, GENESIS, NewAuditEntry, Result};

const COLUMNS: &str = "id, actor_id, action, subject_user_id, conversation_id, ip, created_at, \
    prev_hash, hash";

/// The advisory lock key of the audit log's appends ("audit" in ASCII).
const LOCK: i64 = 0x61_75_64_69_74;

fn entry(r: &PgRow) -> sqlx::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        actor_id: r.try_get("actor_id")?,
        action: r.try_get("action")?,
        subject_user_id: r.try_get("subject_user_id")?,
        conversation_id: r.try_get("conversation_id")?,
        ip: r.try_get("ip")?,
        created_at: r.try_get("created_at")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// `$1` actor, `$2` subject, `$3` since, `$4` until.
const FILTER: &str = "($1::bigint IS NULL OR actor_id = $1) \
    AND ($2::bigint IS NULL OR subject_user_id = $2) \
    AND ($3::bigint IS NULL OR created_at >= $3) AND ($4::bigint IS NULL OR created_at <= $4)";

/// Appends an entry inside `tx` (of an action that goes with it, or alone), after taking the
/// log's lock for the rest of the transaction.
pub(super) async fn append(
    tx: &mut sqlx::PgConnection,
    new: NewAuditEntry,
    now: Micros,
    seal: fn(&AuditEntry) -> String,
) -> sqlx::Result<AuditEntry> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(&mut *tx)
        .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let (id, prev_hash) = last.map_or((1, GENESIS.to_owned()), |(id, h)| (id + 1, h));
    let mut e = AuditEntry {
        id,
        actor_id: new.actor,
        action: new.action.to_owned(),
        subject_user_id: new.subject,
        conversation_id: new.conversation,
        ip: new.ip,
        created_at: now,
        prev_hash,
        hash: String::new(),
    };
    e.hash = seal(&e);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )))
    .bind(e.id)
    .bind(e.actor_id)
    .bind(&e.action)
    .bind(e.subject_user_id)
    .bind(e.conversation_id)
    .bind(&e.ip)
    .bind(e.created_at)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut *tx)
    .await?;
    Ok(e)
}

impl Audit for PgStore {
    async fn append_audit(
        &self,
        new: NewAuditEntry,
        now: Micros,
        seal: fn(&AuditEntry) -> String,
    ) -> Result<AuditEntry> {
        let mut tx = self.pool.begin().await?;
        let e = append(&mut tx, new, now, seal).await?;
        tx.commit().await?;
        Ok(e)
    }

    async fn audit_entries(
        &self,
        filter: AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM audit_log WHERE {FILTER}"
        )))
        .bind(filter.actor)
        .bind(filter.subject)
        .bind(filter.since)
        .bind(filter.until)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE {FILTER} ORDER BY id DESC LIMIT $5 OFFSET $6"
        )))
        .bind(filter.actor)
        .bind(filter.subject)
        .bind(filter.since)
        .bind(filter.until)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(entry).collect::<sqlx::Result<_>>()?, count))
    }

    async fn audit_chain(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry).collect::<sqlx::Result<_>>()?)
    }

    async fn erase_user(
        &self,
        user: UserId,
        entry: NewAuditEntry,
        now: Micros,
        seal: fn(&AuditEntry) -> String,
    ) -> Result<Option<(AuditEntry, Option<String>)>> {
        let mut tx = self.pool.begin().await?;
        let found: Option<(Role, Option<String>)> =
            sqlx::query_as("SELECT role, profile_image FROM users WHERE id = $1 FOR UPDATE")
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((role, photo)) = found else {
            return Ok(None);
        };
        if role == Role::Trainer {
            sqlx::query(
                "UPDATE users SET email = 'erased-' || id || '@erased.invalid', \
                 first_name = '', last_name = '', profile_image = NULL, password_hash = '!', \
                 deactivated_at = COALESCE(deactivated_at, $2) WHERE id = $1",
            )
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for q in [
                "DELETE FROM devices WHERE user_id = $1",
                "DELETE FROM notification_preferences WHERE user_id = $1",
                "DELETE FROM message_templates WHERE trainer_id = $1",
            ] {
                sqlx::query(q).bind(user).execute(&mut *tx).await?;
            }
            sqlx::query(
                "UPDATE scheduled_messages SET state = 'cancelled', updated_at = $2 \
                 WHERE author_id = $1 AND state = 'pending'",
            )
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE broadcasts SET state = 'cancelled', finished_at = $2 \
                 WHERE trainer_id = $1 AND state = 'scheduled'",
            )
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM spent_refresh_tokens WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let e = append(&mut tx, entry, now, seal).await?;
        tx.commit().await?;
        Ok(Some((e, photo)))
    }
}
