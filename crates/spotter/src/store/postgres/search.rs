//! Search on PostgreSQL: `ILIKE` over the text, served by the `pg_trgm` GIN index on
//! `messages.content` (queries of 3 characters or more; shorter ones have no trigram and read
//! the user's conversations instead).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;
use super::messages;
use crate::domain::model::{ConversationRef, UserId};
use crate::store::{Hit, Result, Search, SearchQuery, like_pattern};

const FROM: &str = "FROM messages m JOIN conversations c ON c.id = m.conversation_id";

/// The participants' and the author's names, for a page of hits.
const NAMES: &str = "JOIN users tr ON tr.id = c.trainer_id \
    LEFT JOIN users te ON te.id = c.trainee_id LEFT JOIN users u ON u.id = m.sender_id";

/// The user's live conversations (`$2`; `$3` narrows to one) whose messages match `$1`.
const FILTER: &str = "WHERE m.content ILIKE $1 AND m.deleted_at IS NULL \
    AND (c.trainer_id = $2 OR c.trainee_id = $2) AND c.archived_at IS NULL \
    AND ($3::bigint IS NULL OR c.id = $3)";

fn hit(r: &PgRow) -> sqlx::Result<Hit> {
    let message = messages::row(r)?;
    let trainee_id: Option<UserId> = r.try_get("trainee_id")?;
    let conversation = ConversationRef {
        id: message.conversation_id,
        trainer_id: r.try_get("trainer_id")?,
        trainee_id,
        archived_at: None,
    };
    let trainee_name = match trainee_id {
        Some(_) => Some((r.try_get("te_first")?, r.try_get("te_last")?)),
        None => None,
    };
    Ok(Hit {
        message,
        conversation,
        trainer_name: (r.try_get("tr_first")?, r.try_get("tr_last")?),
        trainee_name,
    })
}

impl Search for PgStore {
    async fn search(&self, q: SearchQuery) -> Result<(Vec<Hit>, i64)> {
        // `\` is PostgreSQL's default LIKE escape, as `like_pattern` writes it.
        let pattern = like_pattern(Some(&q.text)).unwrap_or_default();
        let only = q.conversation.map(|id| id.get());
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) {FROM} {FILTER}"
        )))
        .bind(&pattern)
        .bind(q.user)
        .bind(only)
        .fetch_one(&self.pool)
        .await?;
        if count == 0 || q.offset >= count {
            return Ok((Vec::new(), count));
        }
        let sql = format!(
            "SELECT {columns}, u.first_name, u.last_name, u.profile_image, c.trainer_id, \
             c.trainee_id, tr.first_name AS tr_first, tr.last_name AS tr_last, \
             te.first_name AS te_first, te.last_name AS te_last {FROM} {NAMES} {FILTER} \
             ORDER BY m.created_at DESC, m.id DESC LIMIT $4 OFFSET $5",
            columns = messages::COLUMNS,
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .bind(q.user)
            .bind(only)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        let hits = rows.iter().map(hit).collect::<sqlx::Result<_>>()?;
        Ok((hits, count))
    }
}
