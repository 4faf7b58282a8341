//! The audit log on SQLite: appends run on the one writer, so reading the newest entry and
//! inserting the next one cannot interleave with another append.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::{Role, UserId};
use crate::store::{Audit, AuditEntry, AuditFilter, GENESIS, NewAuditEntry, Result};

const COLUMNS: &str = "id, actor_id, action, subject_user_id, conversation_id, ip, created_at, \
    prev_hash, hash";

fn entry(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        actor_id: r.get(1)?,
        action: r.get(2)?,
        subject_user_id: r.get(3)?,
        conversation_id: r.get(4)?,
        ip: r.get(5)?,
        created_at: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

/// `?1` actor, `?2` subject, `?3` since, `?4` until.
const FILTER: &str = "(?1 IS NULL OR actor_id = ?1) AND (?2 IS NULL OR subject_user_id = ?2) \
    AND (?3 IS NULL OR created_at >= ?3) AND (?4 IS NULL OR created_at <= ?4)";

/// Appends an entry inside the writer's transaction (of an action that goes with it, or alone).
pub(super) fn append(
    c: &Connection,
    new: NewAuditEntry,
    now: Micros,
    seal: fn(&AuditEntry) -> String,
) -> rusqlite::Result<AuditEntry> {
    let last: Option<(i64, String)> = c
        .prepare_cached("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
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
    c.prepare_cached(&format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        e.id,
        e.actor_id,
        e.action,
        e.subject_user_id,
        e.conversation_id,
        e.ip,
        e.created_at,
        e.prev_hash,
        e.hash
    ])?;
    Ok(e)
}

impl Audit for SqliteStore {
    async fn append_audit(
        &self,
        new: NewAuditEntry,
        now: Micros,
        seal: fn(&AuditEntry) -> String,
    ) -> Result<AuditEntry> {
        self.pool
            .write(move |c| Ok(append(c, new, now, seal)?))
            .await
    }

    async fn audit_entries(
        &self,
        filter: AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        self.pool.read(|c| {
            let f = params![filter.actor, filter.subject, filter.since, filter.until];
            let count = c
                .prepare_cached(&format!("SELECT COUNT(*) FROM audit_log WHERE {FILTER}"))?
                .query_row(f, |r| r.get(0))?;
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE {FILTER} \
                     ORDER BY id DESC LIMIT ?5 OFFSET ?6"
                ))?
                .query_map(
                    params![
                        filter.actor,
                        filter.subject,
                        filter.since,
                        filter.until,
                        limit,
                        offset
                    ],
                    entry,
                )?
                .collect::<rusqlite::Result<_>>()?;
            Ok((rows, count))
        })
    }

    async fn audit_chain(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        self.pool.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit_log WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))?
            .query_map(params![after, limit], entry)?
            .collect()
        })
    }

    async fn erase_user(
        &self,
        user: UserId,
        entry: NewAuditEntry,
        now: Micros,
        seal: fn(&AuditEntry) -> String,
    ) -> Result<Option<(AuditEntry, Option<String>)>> {
        self.pool
            .write(move |c| {
                let found: Option<(Role, Option<String>)> = c
                    .prepare_cached("SELECT role, profile_image FROM users WHERE id = ?1")?
                    .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((role, photo)) = found else {
                    return Ok(None);
                };
                if role == Role::Trainer {
                    c.prepare_cached(
                        "UPDATE users SET email = 'erased-' || id || '@erased.invalid', \
                         first_name = '', last_name = '', profile_image = NULL, \
                         password_hash = '!', deactivated_at = COALESCE(deactivated_at, ?2) \
                         WHERE id = ?1",
                    )?
                    .execute(params![user, now])?;
                    for q in [
                        "DELETE FROM devices WHERE user_id = ?1",
                        "DELETE FROM notification_preferences WHERE user_id = ?1",
                        "DELETE FROM message_templates WHERE trainer_id = ?1",
                    ] {
                        c.prepare_cached(q)?.execute([user])?;
                    }
                    c.prepare_cached(
                        "UPDATE scheduled_messages SET state = 'cancelled', updated_at = ?2 \
                         WHERE author_id = ?1 AND state = 'pending'",
                    )?
                    .execute(params![user, now])?;
                    c.prepare_cached(
                        "UPDATE broadcasts SET state = 'cancelled', finished_at = ?2 \
                         WHERE trainer_id = ?1 AND state = 'scheduled'",
                    )?
                    .execute(params![user, now])?;
                } else {
                    c.prepare_cached("DELETE FROM users WHERE id = ?1")?
                        .execute([user])?;
                }
                c.prepare_cached("DELETE FROM spent_refresh_tokens WHERE user_id = ?1")?
                    .execute([user])?;
                let e = append(c, entry, now, seal)?;
                Ok(Some((e, photo)))
            })
            .await
    }
}
