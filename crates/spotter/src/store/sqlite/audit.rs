//! The audit log on SQLite: appends run on the one writer, so reading the newest entry and
//! inserting the next one cannot interleave with another append.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::clock::Micros;
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

impl Audit for SqliteStore {
    async fn append_audit(
        &self,
        new: NewAuditEntry,
        now: Micros,
        seal: fn(&AuditEntry) -> String,
    ) -> Result<AuditEntry> {
        self.pool
            .write(move |c| {
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
            })
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
}
