//! Saved replies, the "needs reply" inbox and the response-time window on SQLite.
//!
//! The inbox is an index range (`conversations_awaiting`, partial on the live rows that
//! wait), never a look at messages. The window reads a trainer's messages of the last days
//! only: conversations whose last activity is in the window (the trainer's activity index),
//! then each one's messages from the window's start (`messages_conversation_created`).

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use super::conversations::{SELECT, row};
use crate::clock::Micros;
use crate::domain::model::{Conversation, Template, TemplateId, UserId};
use crate::store::{Coaching, Result, TemplateWrite, Window};

const TEMPLATE: &str = "SELECT id, title, content, created_at, updated_at FROM message_templates";

fn template(r: &Row<'_>) -> rusqlite::Result<Template> {
    Ok(Template {
        id: r.get(0)?,
        title: r.get(1)?,
        content: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

/// The trainer's messages in the window, each with whether the trainer wrote it (`mine`).
/// A message without a sender (an account deleted) is the trainee's: the trainer's account
/// cannot go without its conversations.
macro_rules! window_messages {
    () => {
        "WITH m AS (SELECT m.conversation_id AS cid, c.trainer_id AS trainer, m.seq AS seq, \
           m.created_at AS at, CASE WHEN m.sender_id = c.trainer_id THEN 1 ELSE 0 END AS mine \
           FROM conversations c JOIN messages m ON m.conversation_id = c.id \
           WHERE c.trainer_id = ?1 AND c.last_activity_at >= ?2 AND m.created_at >= ?2) "
    };
}

const COUNTS: &str = concat!(
    window_messages!(),
    "SELECT COUNT(DISTINCT cid), COALESCE(SUM(1 - mine), 0), COALESCE(SUM(mine), 0) FROM m"
);

/// First responses: a trainee message whose previous message is the trainer's (looked up by
/// position for the first of the window only) or that began the conversation, answered by the
/// trainer's next message.
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

impl Coaching for SqliteStore {
    async fn templates(&self, trainer: UserId) -> Result<Vec<Template>> {
        self.pool.read(|c| {
            c.prepare_cached(&format!(
                "{TEMPLATE} WHERE trainer_id = ?1 ORDER BY title_key, title, id"
            ))?
            .query_map([trainer], template)?
            .collect()
        })
    }

    async fn insert_template(
        &self,
        new: TemplateWrite,
        cap: i64,
        now: Micros,
    ) -> Result<Option<Template>> {
        // The one writer: the count and the insert cannot interleave with another insert.
        self.pool
            .write(move |c| {
                let kept: i64 = c
                    .prepare_cached("SELECT COUNT(*) FROM message_templates WHERE trainer_id = ?1")?
                    .query_row([new.trainer], |r| r.get(0))?;
                if kept >= cap {
                    return Ok(None);
                }
                let (title, content) = (new.title.as_ref(), new.content.as_ref());
                Ok(c.prepare_cached(
                    "INSERT INTO message_templates \
                     (trainer_id, title, title_key, content, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
                     RETURNING id, title, content, created_at, updated_at",
                )?
                .query_row(
                    params![
                        new.trainer,
                        title.map(|t| t.as_str()),
                        title.map(|t| t.key()),
                        content.map(|b| b.as_str()),
                        now
                    ],
                    template,
                )
                .optional()?)
            })
            .await
    }

    async fn update_template(
        &self,
        id: TemplateId,
        change: TemplateWrite,
        now: Micros,
    ) -> Result<Option<Template>> {
        self.pool
            .write(move |c| {
                let title = change.title.as_ref();
                Ok(c.prepare_cached(
                    "UPDATE message_templates SET title = COALESCE(?3, title), \
                     title_key = COALESCE(?4, title_key), content = COALESCE(?5, content), \
                     updated_at = ?6 WHERE id = ?1 AND trainer_id = ?2 \
                     RETURNING id, title, content, created_at, updated_at",
                )?
                .query_row(
                    params![
                        id,
                        change.trainer,
                        title.map(|t| t.as_str()),
                        title.map(|t| t.key()),
                        change.content.as_ref().map(|b| b.as_str()),
                        now
                    ],
                    template,
                )
                .optional()?)
            })
            .await
    }

    async fn delete_template(&self, trainer: UserId, id: TemplateId) -> Result<bool> {
        self.pool
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "DELETE FROM message_templates WHERE id = ?1 AND trainer_id = ?2",
                    )?
                    .execute(params![id, trainer])?;
                Ok(n > 0)
            })
            .await
    }

    async fn needing_reply(
        &self,
        trainer: UserId,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        const WAITING: &str = "FROM conversations WHERE trainer_id = ?1 \
            AND awaiting_reply_since IS NOT NULL AND archived_at IS NULL";
        let page = format!(
            "WITH page AS (SELECT id, awaiting_reply_since {WAITING} \
             ORDER BY awaiting_reply_since, id LIMIT ?2 OFFSET ?3) \
             {SELECT} JOIN page p ON p.id = c.id ORDER BY p.awaiting_reply_since, p.id"
        );
        self.pool.read(|c| {
            let count = c
                .prepare_cached(&format!("SELECT COUNT(*) {WAITING}"))?
                .query_row([trainer], |r| r.get(0))?;
            let rows = c
                .prepare_cached(&page)?
                .query_map(params![trainer, limit, offset], row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok((rows, count))
        })
    }

    async fn window(&self, trainer: UserId, since: Micros) -> Result<Window> {
        self.pool.read(|c| {
            let (conversations, received, sent) = c
                .prepare_cached(COUNTS)?
                .query_row(params![trainer, since], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            let first_responses = c
                .prepare_cached(FIRST_RESPONSES)?
                .query_map(params![trainer, since], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let waiting_now = c
                .prepare_cached(
                    "SELECT COUNT(*) FROM conversations WHERE trainer_id = ?1 \
                     AND awaiting_reply_since IS NOT NULL AND archived_at IS NULL",
                )?
                .query_row([trainer], |r| r.get(0))?;
            Ok(Window {
                conversations,
                received,
                sent,
                first_responses,
                waiting_now,
            })
        })
    }
}
