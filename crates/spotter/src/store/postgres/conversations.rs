//! Conversations on PostgreSQL (see `store::sqlite::conversations` for the why of the list
//! query: the same shape, PostgreSQL's SQL).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;

use crate::domain::model::{Conversation, ConversationId, ConversationRef, UserId, UserSummary};
use crate::store::{Conversations, Result};

pub(super) const SELECT: &str = "SELECT c.id, c.trainer_id, c.trainee_id, c.archived_at, c.created_at, \
    c.last_message_at, c.last_message_preview, c.message_count, c.trainer_unread, \
    c.trainee_unread, t.first_name AS t_first, t.last_name AS t_last, t.email AS t_email, \
    t.profile_image AS t_img, e.first_name AS e_first, e.last_name AS e_last, \
    e.email AS e_email, e.profile_image AS e_img, c.awaiting_reply_since \
    FROM conversations c JOIN users t ON t.id = c.trainer_id \
    LEFT JOIN users e ON e.id = c.trainee_id";

/// A participant's columns: first name, last name, email, profile image.
type Side = [&'static str; 4];
const TRAINER: Side = ["t_first", "t_last", "t_email", "t_img"];
const TRAINEE: Side = ["e_first", "e_last", "e_email", "e_img"];

pub(super) fn row(r: &PgRow) -> sqlx::Result<Conversation> {
    let summary = |id: UserId, [first, last, email, img]: Side| -> sqlx::Result<UserSummary> {
        Ok(UserSummary {
            id,
            first_name: r.try_get(first)?,
            last_name: r.try_get(last)?,
            email: r.try_get(email)?,
            profile_image: r.try_get(img)?,
        })
    };
    let trainee = match r.try_get::<Option<UserId>, _>("trainee_id")? {
        Some(id) => Some(summary(id, TRAINEE)?),
        None => None,
    };
    Ok(Conversation {
        id: r.try_get("id")?,
        trainer: summary(r.try_get("trainer_id")?, TRAINER)?,
        trainee,
        archived_at: r.try_get("archived_at")?,
        created_at: r.try_get("created_at")?,
        last_message_at: r.try_get("last_message_at")?,
        last_message_preview: r.try_get("last_message_preview")?,
        message_count: r.try_get("message_count")?,
        trainer_unread: r.try_get("trainer_unread")?,
        trainee_unread: r.try_get("trainee_unread")?,
        awaiting_reply_since: r.try_get("awaiting_reply_since")?,
    })
}

impl Conversations for PgStore {
    async fn conversation_ref(&self, id: ConversationId) -> Result<Option<ConversationRef>> {
        let pool = &self.pool;
        let row: Option<(ConversationId, UserId, Option<UserId>, Option<i64>)> = sqlx::query_as(
            "SELECT id, trainer_id, trainee_id, archived_at FROM conversations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(
            |(id, trainer_id, trainee_id, archived_at)| ConversationRef {
                id,
                trainer_id,
                trainee_id,
                archived_at,
            },
        ))
    }

    async fn conversations(
        &self,
        user: UserId,
        archived: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        let pool = &self.pool;
        let (count, ids) = if archived {
            (
                "SELECT COUNT(*) FROM conversations WHERE trainer_id = $1 AND archived_at IS NOT NULL",
                "SELECT id, last_activity_at FROM conversations WHERE trainer_id = $1 \
                 AND archived_at IS NOT NULL",
            )
        } else {
            (
                "SELECT COUNT(*) FROM conversations \
                 WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL",
                "SELECT id, last_activity_at FROM conversations WHERE trainer_id = $1 \
                 AND archived_at IS NULL \
                 UNION ALL SELECT id, last_activity_at FROM conversations WHERE trainee_id = $1 \
                 AND trainer_id <> $1 AND archived_at IS NULL",
            )
        };
        let count: i64 = sqlx::query_scalar(count).bind(user).fetch_one(pool).await?;
        let page = format!(
            "WITH page AS ({ids} ORDER BY last_activity_at DESC, id DESC LIMIT $2 OFFSET $3) \
             {SELECT} JOIN page p ON p.id = c.id ORDER BY p.last_activity_at DESC, p.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(page))
            .bind(user)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        Ok((rows.iter().map(row).collect::<sqlx::Result<_>>()?, count))
    }

    async fn unread_total(&self, user: UserId) -> Result<i64> {
        let pool = &self.pool;
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(CASE WHEN trainer_id = $1 THEN trainer_unread \
             ELSE trainee_unread END), 0) AS BIGINT) FROM conversations \
             WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL",
        )
        .bind(user)
        .fetch_one(pool)
        .await?)
    }

    async fn message_count(&self, id: ConversationId) -> Result<i64> {
        let pool = &self.pool;
        let n: Option<i64> =
            sqlx::query_scalar("SELECT message_count FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
        Ok(n.unwrap_or(0))
    }

    async fn message_counts(&self, user: UserId) -> Result<Vec<(ConversationId, i64)>> {
        let pool = &self.pool;
        Ok(sqlx::query_as(
            "SELECT id, message_count FROM conversations \
             WHERE (trainer_id = $1 OR trainee_id = $1) AND archived_at IS NULL",
        )
        .bind(user)
        .fetch_all(pool)
        .await?)
    }
}
