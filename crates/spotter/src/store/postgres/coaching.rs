//! Saved replies, the "needs reply" inbox and the response-time window on PostgreSQL (see
//! `store::sqlite::coaching` for the why of each query: the same shapes, PostgreSQL's SQL).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
use super::conversations::{SELECT, row};
use crate::clock::Micros;
use crate::domain::model::{Conversation, Template, TemplateId, UserId};
use crate::store::{Coaching, Result, TemplateWrite, Window};

const COLUMNS: &str = "id, title, content, created_at, updated_at";

fn template(r: &PgRow) -> sqlx::Result<Template> {
    Ok(Template {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        content: r.try_get("content")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

macro_rules! window_messages {
    () => {
        "WITH m AS (SELECT m.conversation_id AS cid, c.trainer_id AS trainer, m.seq AS seq, \
           m.created_at AS at, CASE WHEN m.sender_id = c.trainer_id THEN 1 ELSE 0 END AS mine \
           FROM conversations c JOIN messages m ON m.conversation_id = c.id \
           WHERE c.trainer_id = $1 AND c.last_activity_at >= $2 AND m.created_at >= $2) "
    };
}

const COUNTS: &str = concat!(
    window_messages!(),
    "SELECT COUNT(DISTINCT cid), CAST(COALESCE(SUM(1 - mine), 0) AS BIGINT), \
     CAST(COALESCE(SUM(mine), 0) AS BIGINT) FROM m"
);

const FIRST_RESPONSES: &str = concat!(
    window_messages!(),
    ", w AS (SELECT cid, trainer, seq, at, mine, \
       LAG(mine) OVER (PARTITION BY cid ORDER BY seq) AS prev, \
       MIN(CASE WHEN mine = 1 THEN at END) OVER (PARTITION BY cid ORDER BY seq \
         ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS reply_at FROM m) \
     SELECT reply_at - at FROM w WHERE mine = 0 AND reply_at IS NOT NULL \
       AND (seq = 1 OR COALESCE(prev, (SELECT CASE WHEN p.sender_id = w.trainer THEN 1 ELSE 0 END \
         FROM messages p WHERE p.conversation_id = w.cid AND p.seq = w.seq - 1)) = 1)"
);

const WAITING: &str = "FROM conversations WHERE trainer_id = $1 \
    AND awaiting_reply_since IS NOT NULL AND archived_at IS NULL";

impl Coaching for PgStore {
    async fn templates(&self, trainer: UserId) -> Result<Vec<Template>> {
        // Byte order ("C"), as SQLite sorts: the same list on either backend.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM message_templates WHERE trainer_id = $1 \
             ORDER BY title_key COLLATE \"C\", title COLLATE \"C\", id"
        )))
        .bind(trainer)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(template).collect::<sqlx::Result<_>>()?)
    }

    async fn insert_template(
        &self,
        new: TemplateWrite,
        cap: i64,
        now: Micros,
    ) -> Result<Option<Template>> {
        let mut tx = self.pool.begin().await?;
        // Inserts of one trainer take turns on their user row, so two at once cannot both pass
        // the cap (NO KEY: foreign-key checks of their sends are not held up).
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(new.trainer)
            .execute(&mut *tx)
            .await?;
        let kept: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM message_templates WHERE trainer_id = $1")
                .bind(new.trainer)
                .fetch_one(&mut *tx)
                .await?;
        if kept >= cap {
            return Ok(None);
        }
        let title = new.title.as_ref();
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO message_templates \
             (trainer_id, title, title_key, content, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
        )))
        .bind(new.trainer)
        .bind(title.map(|t| t.as_str()))
        .bind(title.map(|t| t.key()))
        .bind(new.content.as_ref().map(|b| b.as_str()))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let saved = template(&r)?;
        tx.commit().await?;
        Ok(Some(saved))
    }

    async fn update_template(
        &self,
        id: TemplateId,
        change: TemplateWrite,
        now: Micros,
    ) -> Result<Option<Template>> {
        let title = change.title.as_ref();
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE message_templates SET title = COALESCE($3, title), \
             title_key = COALESCE($4, title_key), content = COALESCE($5, content), \
             updated_at = $6 WHERE id = $1 AND trainer_id = $2 RETURNING {COLUMNS}"
        )))
        .bind(id)
        .bind(change.trainer)
        .bind(title.map(|t| t.as_str()))
        .bind(title.map(|t| t.key()))
        .bind(change.content.as_ref().map(|b| b.as_str()))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(template).transpose()?)
    }

    async fn delete_template(&self, trainer: UserId, id: TemplateId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM message_templates WHERE id = $1 AND trainer_id = $2")
            .bind(id)
            .bind(trainer)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn needing_reply(
        &self,
        trainer: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WAITING}")))
                .bind(trainer)
                .fetch_one(&self.pool)
                .await?;
        let page = format!(
            "WITH page AS (SELECT id, awaiting_reply_since {WAITING} \
             ORDER BY awaiting_reply_since, id LIMIT $2 OFFSET $3) \
             {SELECT} JOIN page p ON p.id = c.id ORDER BY p.awaiting_reply_since, p.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(page))
            .bind(trainer)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        Ok((rows.iter().map(row).collect::<sqlx::Result<_>>()?, count))
    }

    async fn window(&self, trainer: UserId, since: Micros) -> Result<Window> {
        let pool = &self.pool;
        let (conversations, received, sent): (i64, i64, i64) = sqlx::query_as(COUNTS)
            .bind(trainer)
            .bind(since)
            .fetch_one(pool)
            .await?;
        let first_responses: Vec<i64> = sqlx::query_scalar(FIRST_RESPONSES)
            .bind(trainer)
            .bind(since)
            .fetch_all(pool)
            .await?;
        let waiting_now: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WAITING}")))
                .bind(trainer)
                .fetch_one(pool)
                .await?;
        Ok(Window {
            conversations,
            received,
            sent,
            first_responses,
            waiting_now,
        })
    }
}
