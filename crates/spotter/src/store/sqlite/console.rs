//! The admin console's reads on SQLite: every conversation (archived ones included) and every
//! account, each filtered by a participant and a name. Admins are few and page slowly, so these
//! read the conversation rows in activity order and filter as they go, with no index of their
//! own to keep up on every send.

use rusqlite::params;

use super::SqliteStore;
use super::accounts::{USER_COLUMNS, user_row};
use super::conversations::{SELECT, row};
use crate::domain::model::{Conversation, User, UserId};
use crate::store::{Console, Result, like_pattern};

/// `?1` a participant (trainer or trainee), `?2` a LIKE pattern on either one's names or email.
const CONVERSATIONS: &str = "(?1 IS NULL OR c.trainer_id = ?1 OR c.trainee_id = ?1) \
    AND (?2 IS NULL OR LOWER(t.first_name || ' ' || t.last_name) LIKE ?2 ESCAPE '\\' \
    OR t.email LIKE ?2 ESCAPE '\\' OR LOWER(e.first_name || ' ' || e.last_name) LIKE ?2 \
    ESCAPE '\\' OR e.email LIKE ?2 ESCAPE '\\')";

/// `?1` a LIKE pattern on names or email.
const USERS: &str = "?1 IS NULL OR LOWER(first_name || ' ' || last_name) LIKE ?1 ESCAPE '\\' \
    OR email LIKE ?1 ESCAPE '\\'";

impl Console for SqliteStore {
    async fn all_conversations(
        &self,
        user: Option<UserId>,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        let pattern = like_pattern(search);
        self.pool.read(|c| {
            let count = c
                .prepare_cached(&format!(
                    "SELECT COUNT(*) FROM conversations c JOIN users t ON t.id = c.trainer_id \
                     LEFT JOIN users e ON e.id = c.trainee_id WHERE {CONVERSATIONS}"
                ))?
                .query_row(params![user, pattern], |r| r.get(0))?;
            let rows = c
                .prepare_cached(&format!(
                    "{SELECT} WHERE {CONVERSATIONS} \
                     ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?3 OFFSET ?4"
                ))?
                .query_map(params![user, pattern, limit, offset], row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok((rows, count))
        })
    }

    async fn users(
        &self,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        let pattern = like_pattern(search);
        self.pool.read(|c| {
            let count = c
                .prepare_cached(&format!("SELECT COUNT(*) FROM users WHERE {USERS}"))?
                .query_row(params![pattern], |r| r.get(0))?;
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE {USERS} \
                     ORDER BY first_name, last_name, id LIMIT ?2 OFFSET ?3"
                ))?
                .query_map(params![pattern, limit, offset], user_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok((rows, count))
        })
    }
}
