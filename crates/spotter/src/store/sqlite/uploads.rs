//! The upload intent log on SQLite. Keys are claimed with a lease (`claimed_until`) on the one
//! writer, so a claim and its lease are one atomic step; a sweeper that dies leaves its lease
//! to run out, and the keys come back.

use rusqlite::params;

use super::SqliteStore;
use crate::clock::Micros;
use crate::store::{ClaimedUpload, Result, Uploads};

impl Uploads for SqliteStore {
    async fn record_uploads(&self, keys: Vec<String>, now: Micros) -> Result<()> {
        // Synced: the key must outlive a power cut whenever the file it names does.
        self.pool
            .write(move |c| {
                let mut insert = c.prepare_cached(
                    "INSERT INTO media_uploads (key, created_at) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO NOTHING",
                )?;
                for key in &keys {
                    insert.execute(params![key, now])?;
                }
                Ok(())
            })
            .await
    }

    async fn claim_uploads(
        &self,
        now: Micros,
        cutoff: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<ClaimedUpload>> {
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(
                    "UPDATE media_uploads SET claimed_until = ?3 WHERE key IN (\
                       SELECT key FROM media_uploads WHERE created_at < ?2 \
                       AND (claimed_until IS NULL OR claimed_until < ?1) \
                       ORDER BY created_at LIMIT ?4) \
                     RETURNING key, \
                       EXISTS (SELECT 1 FROM messages WHERE image = media_uploads.key) \
                       OR EXISTS (SELECT 1 FROM messages WHERE thumbnail = media_uploads.key)",
                )?
                .query_map(params![now, cutoff, lease_until, limit], |r| {
                    Ok(ClaimedUpload {
                        key: r.get(0)?,
                        referenced: r.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn forget_uploads(&self, keys: Vec<String>) -> Result<u64> {
        self.pool
            .write(move |c| {
                let mut forget = c.prepare_cached("DELETE FROM media_uploads WHERE key = ?1")?;
                let mut n = 0;
                for key in &keys {
                    n += forget.execute([key])? as u64;
                }
                Ok(n)
            })
            .await
    }
}
