//! Retention on SQLite: one batch a transaction on the one writer (nothing changes between the
//! batch's read and its update), so sends go on between batches.

use rusqlite::params;

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::DELETED_PREVIEW;
use crate::store::{Result, Retention};

/// A message to clear: id, conversation, position, image and thumbnail keys.
type Clearing = (i64, i64, i64, Option<String>, Option<String>);

impl Retention for SqliteStore {
    async fn purge_messages(&self, cutoff: Micros, limit: i64, now: Micros) -> Result<u64> {
        self.pool
            .write(move |c| {
                let batch: Vec<Clearing> = c
                    .prepare_cached(
                        "SELECT id, conversation_id, seq, image, thumbnail FROM messages \
                         WHERE deleted_at IS NULL AND created_at < ?1 \
                         ORDER BY created_at LIMIT ?2",
                    )?
                    .query_map(params![cutoff, limit], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let mut clear = c.prepare_cached(
                    "UPDATE messages SET content = '', image = NULL, image_width = NULL, \
                     image_height = NULL, thumbnail = NULL, deleted_at = ?2 WHERE id = ?1",
                )?;
                // The files go to the orphan sweeper: no message names them any more.
                let mut orphan = c.prepare_cached(
                    "INSERT INTO media_uploads (key, created_at) VALUES (?1, 0) \
                     ON CONFLICT (key) DO NOTHING",
                )?;
                let mut preview = c.prepare_cached(
                    "UPDATE conversations SET last_message_preview = ?3 \
                     WHERE id = ?1 AND message_count = ?2",
                )?;
                for (id, conversation, seq, image, thumbnail) in &batch {
                    clear.execute(params![id, now])?;
                    for key in image.iter().chain(thumbnail) {
                        orphan.execute([key])?;
                    }
                    preview.execute(params![conversation, seq, DELETED_PREVIEW])?;
                }
                Ok(batch.len() as u64)
            })
            .await
    }
}
