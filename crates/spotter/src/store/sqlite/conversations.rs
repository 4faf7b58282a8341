//! Conversations on SQLite: one per (trainer, trainee) pair, with the counters a list row needs
//! kept on the row itself, so the list and the unread badge never scan messages.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::domain::model::{Conversation, ConversationId, ConversationRef, UserId, UserSummary};
use crate::store::{Conversations, Result};

/// A list row: the conversation, its trainer (`t`) and its trainee (`e`, absent once deleted).
pub(super) const SELECT: &str = "SELECT c.id, c.trainer_id, c.trainee_id, c.archived_at, c.created_at, \
    c.last_message_at, c.last_message_preview, c.message_count, c.trainer_unread, \
    c.trainee_unread, t.first_name, t.last_name, t.email, t.profile_image, \
    e.first_name, e.last_name, e.email, e.profile_image, c.awaiting_reply_since \
    FROM conversations c JOIN users t ON t.id = c.trainer_id \
    LEFT JOIN users e ON e.id = c.trainee_id";

pub(super) fn row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    let summary = |id: UserId, at: usize| -> rusqlite::Result<UserSummary> {
        Ok(UserSummary {
            id,
            first_name: r.get(at)?,
            last_name: r.get(at + 1)?,
            email: r.get(at + 2)?,
            profile_image: r.get(at + 3)?,
        })
    };
    let trainee = match r.get::<_, Option<UserId>>(2)? {
        Some(id) => Some(summary(id, 14)?),
        None => None,
    };
    Ok(Conversation {
        id: r.get(0)?,
        trainer: summary(r.get(1)?, 10)?,
        trainee,
        archived_at: r.get(3)?,
        created_at: r.get(4)?,
        last_message_at: r.get(5)?,
        last_message_preview: r.get(6)?,
        message_count: r.get(7)?,
        trainer_unread: r.get(8)?,
        trainee_unread: r.get(9)?,
        awaiting_reply_since: r.get(18)?,
    })
}

/// `id, trainer_id, trainee_id, archived_at` as a [`ConversationRef`].
pub fn ref_row(r: &Row<'_>) -> rusqlite::Result<ConversationRef> {
    Ok(ConversationRef {
        id: r.get(0)?,
        trainer_id: r.get(1)?,
        trainee_id: r.get(2)?,
        archived_at: r.get(3)?,
    })
}

impl Conversations for SqliteStore {
    async fn conversation_ref(&self, id: ConversationId) -> Result<Option<ConversationRef>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT id, trainer_id, trainee_id, archived_at FROM conversations WHERE id = ?1",
            )?
            .query_row([id], ref_row)
            .optional()
        })
    }

    async fn conversations(
        &self,
        user: UserId,
        archived: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        // The page's ids first, each side read in order from its activity index (merged, for the
        // live list), then the joins for those rows only: `OR` + `ORDER BY` would read, join and
        // sort every conversation of the user to return 50.
        let (count, ids) = if archived {
            (
                "SELECT COUNT(*) FROM conversations WHERE trainer_id = ?1 AND archived_at IS NOT NULL",
                "SELECT id, last_activity_at FROM conversations WHERE trainer_id = ?1 \
                 AND archived_at IS NOT NULL",
            )
        } else {
            (
                "SELECT COUNT(*) FROM conversations \
                 WHERE (trainer_id = ?1 OR trainee_id = ?1) AND archived_at IS NULL",
                "SELECT id, last_activity_at FROM conversations WHERE trainer_id = ?1 \
                 AND archived_at IS NULL \
                 UNION ALL SELECT id, last_activity_at FROM conversations WHERE trainee_id = ?1 \
                 AND trainer_id <> ?1 AND archived_at IS NULL",
            )
        };
        let page = format!(
            "WITH page AS ({ids} ORDER BY last_activity_at DESC, id DESC LIMIT ?2 OFFSET ?3) \
             {SELECT} JOIN page p ON p.id = c.id ORDER BY p.last_activity_at DESC, p.id DESC"
        );
        self.pool.read(|c| {
            let count = c.prepare_cached(count)?.query_row([user], |r| r.get(0))?;
            let rows = c
                .prepare_cached(&page)?
                .query_map(params![user, limit, offset], row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok((rows, count))
        })
    }

    async fn unread_total(&self, user: UserId) -> Result<i64> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT COALESCE(SUM(CASE WHEN trainer_id = ?1 THEN trainer_unread \
                 ELSE trainee_unread END), 0) FROM conversations \
                 WHERE (trainer_id = ?1 OR trainee_id = ?1) AND archived_at IS NULL",
            )?
            .query_row([user], |r| r.get(0))
        })
    }

    async fn message_count(&self, id: ConversationId) -> Result<i64> {
        self.pool.read(|c| {
            Ok(
                c.prepare_cached("SELECT message_count FROM conversations WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0),
            )
        })
    }

    async fn message_counts(&self, user: UserId) -> Result<Vec<(ConversationId, i64)>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT id, message_count FROM conversations \
                 WHERE (trainer_id = ?1 OR trainee_id = ?1) AND archived_at IS NULL",
            )?
            .query_map([user], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
    }
}
