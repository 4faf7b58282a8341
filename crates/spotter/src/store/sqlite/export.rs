//! What an export reads on SQLite besides message pages: the user's conversations, by id.

use rusqlite::params;

use super::SqliteStore;
use super::conversations::{SELECT, row};
use crate::domain::model::{Conversation, ConversationId, UserId};
use crate::store::{Export, Result};

impl Export for SqliteStore {
    async fn export_conversations(
        &self,
        user: UserId,
        after: ConversationId,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        // Both sides, archived or not: an export is everything the user took part in. A few
        // hundred rows at most per user; each side is read from its own index (`OR` of two).
        let page = format!(
            "{SELECT} WHERE (c.trainer_id = ?1 OR c.trainee_id = ?1) AND c.id > ?2 \
             ORDER BY c.id LIMIT ?3"
        );
        self.pool.read(|c| {
            c.prepare_cached(&page)?
                .query_map(params![user, after, limit], row)?
                .collect()
        })
    }
}
