//! The admin console's reads on PostgreSQL (see `store::sqlite::console` for the why: the same
//! shape, PostgreSQL's SQL).

use super::PgStore;
use super::accounts::{USER_COLUMNS, user_row};
use super::conversations::{SELECT, row};
use crate::domain::model::{Conversation, User, UserId};
use crate::store::{Console, Result, like_pattern};

/// `$1` a participant (trainer or trainee), `$2` a LIKE pattern on either one's names or email.
const CONVERSATIONS: &str = "($1::bigint IS NULL OR c.trainer_id = $1 OR c.trainee_id = $1) \
    AND ($2::text IS NULL OR LOWER(t.first_name || ' ' || t.last_name) LIKE $2 ESCAPE '\\' \
    OR t.email LIKE $2 ESCAPE '\\' OR LOWER(e.first_name || ' ' || e.last_name) LIKE $2 \
    ESCAPE '\\' OR e.email LIKE $2 ESCAPE '\\')";

/// `$1` a LIKE pattern on names or email.
const USERS: &str = "$1::text IS NULL OR LOWER(first_name || ' ' || last_name) LIKE $1 \
    ESCAPE '\\' OR email LIKE $1 ESCAPE '\\'";

impl Console for PgStore {
    async fn all_conversations(
        &self,
        user: Option<UserId>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        let pool = &self.pool;
        let pattern = like_pattern(search);
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM conversations c JOIN users t ON t.id = c.trainer_id \
             LEFT JOIN users e ON e.id = c.trainee_id WHERE {CONVERSATIONS}"
        )))
        .bind(user)
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE {CONVERSATIONS} \
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(user)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        Ok((rows.iter().map(row).collect::<sqlx::Result<_>>()?, count))
    }

    async fn users(
        &self,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        let pool = &self.pool;
        let pattern = like_pattern(search);
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM users WHERE {USERS}"
        )))
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {USERS} \
             ORDER BY first_name, last_name, id LIMIT $2 OFFSET $3"
        )))
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        Ok((
            rows.iter().map(user_row).collect::<sqlx::Result<_>>()?,
            count,
        ))
    }
}
