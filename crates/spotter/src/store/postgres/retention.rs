//! Retention on PostgreSQL: one batch a transaction. The batch's rows are locked as they are
//! read (`SKIP LOCKED`: a message being edited or deleted right now waits for the next batch),
//! and previews are updated in conversation order, the order sends lock conversations in.

use sqlx::Row;

use super::PgStore;
use crate::clock::Micros;
use crate::domain::model::DELETED_PREVIEW;
use crate::store::{Result, Retention};

impl Retention for PgStore {
    async fn purge_messages(&self, cutoff: Micros, limit: i64, now: Micros) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "UPDATE messages AS m SET content = '', image = NULL, image_width = NULL, \
             image_height = NULL, thumbnail = NULL, deleted_at = $3 \
             FROM (SELECT id, image, thumbnail FROM messages WHERE deleted_at IS NULL \
                   AND created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) AS old \
             WHERE m.id = old.id \
             RETURNING m.conversation_id, m.seq, old.image, old.thumbnail",
        )
        .bind(cutoff)
        .bind(limit)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut keys: Vec<String> = Vec::new();
        let mut newest: Vec<(i64, i64)> = Vec::with_capacity(rows.len());
        for r in &rows {
            newest.push((r.try_get(0)?, r.try_get(1)?));
            keys.extend(r.try_get::<Option<String>, _>(2)?);
            keys.extend(r.try_get::<Option<String>, _>(3)?);
        }
        if !keys.is_empty() {
            // The files go to the orphan sweeper: no message names them any more.
            sqlx::query(
                "INSERT INTO media_uploads (key, created_at) SELECT k, 0 FROM UNNEST($1::text[]) AS k \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(keys)
            .execute(&mut *tx)
            .await?;
        }
        newest.sort_unstable();
        let (conversations, seqs): (Vec<i64>, Vec<i64>) = newest.into_iter().unzip();
        sqlx::query(
            "UPDATE conversations c SET last_message_preview = $3 \
             FROM (SELECT * FROM UNNEST($1::bigint[], $2::bigint[]) AS p(id, seq) ORDER BY id) p \
             WHERE c.id = p.id AND c.message_count = p.seq",
        )
        .bind(conversations)
        .bind(seqs)
        .bind(DELETED_PREVIEW)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}
