//! What an export reads on PostgreSQL besides message pages (as `store::sqlite::export`).

use super::PgStore;
use super::conversations::{SELECT, row};
use crate::domain::model::{Conversation, ConversationId, UserId};
use crate::store::{Export, Result};

impl Export for PgStore {
    async fn export_conversations(
        &self,
        user: UserId,
        after: ConversationId,
        limit: i64,
    ) -> Result<Vec<Conversation>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE (c.trainer_id = $1 OR c.trainee_id = $1) AND c.id > $2 \
             ORDER BY c.id LIMIT $3"
        )))
        .bind(user)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row).collect::<sqlx::Result<_>>()?)
    }
}
