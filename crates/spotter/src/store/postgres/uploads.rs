//! The upload intent log on PostgreSQL. Keys are claimed with a lease (`claimed_until`) and
//! `FOR UPDATE SKIP LOCKED`, so several nodes sweep at once without taking the same key; a
//! sweeper that dies leaves its lease to run out, and the keys come back.

use sqlx::Row;

use super::PgStore;
use crate::clock::Micros;
use crate::store::{ClaimedUpload, Result, Uploads};

impl Uploads for PgStore {
    async fn record_uploads(&self, keys: Vec<String>, now: Micros) -> Result<()> {
        sqlx::query(
            "INSERT INTO media_uploads (key, created_at) SELECT k, $2 FROM UNNEST($1::text[]) AS k \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(keys)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_uploads(
        &self,
        now: Micros,
        cutoff: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<ClaimedUpload>> {
        // "Does a message name it?" as a probe of the two partial indexes per key, fenced with
        // LATERAL … LIMIT 1 so that no plan can turn it into a hashed scan of every message.
        let rows = sqlx::query(
            "WITH claimed AS (UPDATE media_uploads SET claimed_until = $3 WHERE key IN (\
               SELECT key FROM media_uploads WHERE created_at < $2 \
               AND (claimed_until IS NULL OR claimed_until < $1) \
               ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
               RETURNING key) \
             SELECT c.key, named.one IS NOT NULL AS referenced FROM claimed c \
             LEFT JOIN LATERAL (SELECT 1 AS one FROM messages m \
               WHERE m.image = c.key OR m.thumbnail = c.key LIMIT 1) AS named ON TRUE",
        )
        .bind(now)
        .bind(cutoff)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(ClaimedUpload {
                    key: r.try_get("key")?,
                    referenced: r.try_get("referenced")?,
                })
            })
            .collect::<sqlx::Result<_>>()?)
    }

    async fn forget_uploads(&self, keys: Vec<String>) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM media_uploads WHERE key = ANY($1)")
            .bind(keys)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
