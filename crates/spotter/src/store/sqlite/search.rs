//! Search on SQLite: the FTS5 `trigram` index (`messages_search`) finds the messages whose text
//! contains the query (case-insensitively, Unicode case folding), so a search reads the matches,
//! not the table. Queries under 3 characters have no trigram: those scan the user's own
//! conversations with `LIKE` instead (ASCII case folding).

use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use super::messages;
use crate::domain::model::{ConversationRef, UserId};
use crate::store::{Hit, Result, Search, SearchQuery, like_pattern};

/// The message columns of `messages::SELECT` (so `messages::row` reads them), then the
/// conversation's participants and their names.
const COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.sender_id, m.content, \
    m.client_message_id, m.created_at, m.delivered_at, m.read_at, u.first_name, u.last_name, \
    u.profile_image, m.image, m.image_width, m.image_height, m.thumbnail, m.edited_at, \
    m.deleted_at, c.trainer_id, c.trainee_id, c.archived_at, tr.first_name, tr.last_name, \
    te.first_name, te.last_name";

/// The user's live conversations (`?2`; `?3` narrows to one) and their messages' authors.
const SCOPE: &str = "JOIN conversations c ON c.id = m.conversation_id \
    JOIN users tr ON tr.id = c.trainer_id LEFT JOIN users te ON te.id = c.trainee_id \
    LEFT JOIN users u ON u.id = m.sender_id \
    WHERE (c.trainer_id = ?2 OR c.trainee_id = ?2) AND c.archived_at IS NULL \
    AND m.deleted_at IS NULL AND (?3 IS NULL OR c.id = ?3)";

/// Where the matches come from: the trigram index, or (under 3 characters) a `LIKE` scan.
fn source(text: &str) -> (&'static str, String) {
    if text.chars().count() >= 3 {
        (
            "FROM messages_search s JOIN messages m ON m.id = s.rowid",
            // An FTS5 string: `"` doubled; every other character, `%`, `_` and `\` included,
            // is matched as itself.
            format!("\"{}\"", text.replace('"', "\"\"")),
        )
    } else {
        (
            "FROM messages m",
            like_pattern(Some(text)).unwrap_or_default(),
        )
    }
}

fn matching(text: &str) -> &'static str {
    if text.chars().count() >= 3 {
        "s.messages_search MATCH ?1"
    } else {
        "m.content LIKE ?1 ESCAPE '\\'"
    }
}

fn hit(r: &Row<'_>) -> rusqlite::Result<Hit> {
    let message = messages::row(r)?;
    let trainee_id: Option<UserId> = r.get(19)?;
    let conversation = ConversationRef {
        id: message.conversation_id,
        trainer_id: r.get(18)?,
        trainee_id,
        archived_at: r.get(20)?,
    };
    let trainee_name = match trainee_id {
        Some(_) => Some((r.get(23)?, r.get(24)?)),
        None => None,
    };
    Ok(Hit {
        message,
        conversation,
        trainer_name: (r.get(21)?, r.get(22)?),
        trainee_name,
    })
}

fn search(c: &Connection, q: &SearchQuery) -> rusqlite::Result<(Vec<Hit>, i64)> {
    let (from, pattern) = source(&q.text);
    let filter = matching(&q.text);
    let only = q.conversation.map(|id| id.get());
    let count: i64 = c
        .prepare_cached(&format!("SELECT count(*) {from} {SCOPE} AND {filter}"))?
        .query_row(params![pattern, q.user, only], |r| r.get(0))?;
    if count == 0 || q.offset >= count {
        return Ok((Vec::new(), count));
    }
    let hits = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} {from} {SCOPE} AND {filter} \
             ORDER BY m.created_at DESC, m.id DESC LIMIT ?4 OFFSET ?5"
        ))?
        .query_map(params![pattern, q.user, only, q.limit, q.offset], hit)?
        .collect::<rusqlite::Result<_>>()?;
    Ok((hits, count))
}

impl Search for SqliteStore {
    async fn search(&self, query: SearchQuery) -> Result<(Vec<Hit>, i64)> {
        self.pool.read(|c| search(c, &query))
    }
}
