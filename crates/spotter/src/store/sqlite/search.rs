//! Search on SQLite: the FTS5 `trigram` index (`messages_search`) finds the messages whose text
//! contains the query (case-insensitively, Unicode case folding), so a search reads the matches,
//! not the table. Messages are indexed by the writer when it is idle ([`index_some`]), not in
//! their send's transaction (indexing costs about ten times the insert); a search reads the
//! index up to `search_progress.indexed_up_to` and the newer messages, usually none, with
//! `LIKE`. Queries under 3 characters have no trigram: those scan the user's own conversations
//! with `LIKE` instead (ASCII case folding).

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

/// Messages a background step indexes at most: a write arriving meanwhile waits for one step.
const INDEX_STEP: i64 = 64;

/// Indexes the next messages not in the search index yet (in the writer's transaction), and
/// moves the mark; whether more are waiting. Ids grow in commit order on the one writer, so
/// everything up to the mark is indexed.
pub fn index_some(c: &Connection) -> rusqlite::Result<bool> {
    let from: i64 = c
        .prepare_cached("SELECT indexed_up_to FROM search_progress WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let to: Option<i64> = c
        .prepare_cached(
            "SELECT max(id) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2)",
        )?
        .query_row(params![from, INDEX_STEP], |r| r.get(0))?;
    let Some(to) = to else {
        metrics::gauge!(crate::metrics::SEARCH_INDEX_BEHIND).set(0.0);
        return Ok(false);
    };
    c.prepare_cached(
        "INSERT INTO messages_search (rowid, content) \
         SELECT id, content FROM messages WHERE id > ?1 AND id <= ?2",
    )?
    .execute(params![from, to])?;
    c.prepare_cached("UPDATE search_progress SET indexed_up_to = ?1 WHERE id = 1")?
        .execute([to])?;
    let newest: i64 = c
        .prepare_cached("SELECT COALESCE(max(id), 0) FROM messages")?
        .query_row([], |r| r.get(0))?;
    metrics::gauge!(crate::metrics::SEARCH_INDEX_BEHIND).set((newest - to) as f64);
    Ok(newest > to)
}

/// The query's two halves: the messages found through the index, and the newer ones not indexed
/// yet (`?6`: the `LIKE` pattern). Under 3 characters, the `LIKE` scan alone.
fn halves(text: &str) -> (String, Option<String>) {
    if text.chars().count() >= 3 {
        (
            format!(
                "FROM messages_search s JOIN messages m ON m.id = s.rowid {SCOPE} \
                 AND s.messages_search MATCH ?1"
            ),
            Some(format!(
                "FROM messages m {SCOPE} \
                 AND m.id > (SELECT indexed_up_to FROM search_progress WHERE id = 1) \
                 AND m.content LIKE ?6 ESCAPE '\\'"
            )),
        )
    } else {
        (
            format!("FROM messages m {SCOPE} AND m.content LIKE ?6 ESCAPE '\\'"),
            None,
        )
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
    // An FTS5 string: `"` doubled; every other character, `%`, `_` and `\` included, is
    // matched as itself.
    let phrase = format!("\"{}\"", q.text.replace('"', "\"\""));
    let pattern = like_pattern(Some(&q.text)).unwrap_or_default();
    let only = q.conversation.map(|id| id.get());
    let (indexed, tail) = halves(&q.text);
    let count_sql = match &tail {
        Some(t) => format!("SELECT (SELECT count(*) {indexed}) + (SELECT count(*) {t})"),
        None => format!("SELECT count(*) {indexed}"),
    };
    let mut count_stmt = c.prepare_cached(&count_sql)?;
    // The same numbered parameters for every statement (a statement may not use them all).
    let bind = |stmt: &mut rusqlite::CachedStatement<'_>, limit: Option<(i64, i64)>| {
        use rusqlite::types::Value;
        let (l, o) = limit.map_or((Value::Null, Value::Null), |(l, o)| (l.into(), o.into()));
        let values: [Value; 6] = [
            phrase.clone().into(),
            q.user.get().into(),
            only.map_or(Value::Null, Into::into),
            l,
            o,
            pattern.clone().into(),
        ];
        for (i, v) in values.into_iter().enumerate() {
            if i < stmt.parameter_count() {
                stmt.raw_bind_parameter(i + 1, v)?;
            }
        }
        Ok::<_, rusqlite::Error>(())
    };
    bind(&mut count_stmt, None)?;
    let count: i64 = {
        let mut rows = count_stmt.raw_query();
        match rows.next()? {
            Some(r) => r.get(0)?,
            None => 0,
        }
    };
    if count == 0 || q.offset >= count {
        return Ok((Vec::new(), count));
    }
    // Newest first, ties by id: columns 7 (created_at) and 1 (id) of COLUMNS.
    let page_sql = match &tail {
        Some(t) => format!(
            "SELECT {COLUMNS} {indexed} UNION ALL SELECT {COLUMNS} {t} \
             ORDER BY 7 DESC, 1 DESC LIMIT ?4 OFFSET ?5"
        ),
        None => format!(
            "SELECT {COLUMNS} {indexed} ORDER BY m.created_at DESC, m.id DESC LIMIT ?4 OFFSET ?5"
        ),
    };
    let mut page = c.prepare_cached(&page_sql)?;
    bind(&mut page, Some((q.limit, q.offset)))?;
    let mut rows = page.raw_query();
    let mut hits = Vec::new();
    while let Some(r) = rows.next()? {
        hits.push(hit(r)?);
    }
    Ok((hits, count))
}

impl Search for SqliteStore {
    async fn search(&self, query: SearchQuery) -> Result<(Vec<Hit>, i64)> {
        self.pool.read(|c| search(c, &query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{ConversationId, UserId};

    /// A migrated database with one conversation between users 1 and 2, and `texts` in it.
    fn db(texts: &[&str]) -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrate(&mut c).unwrap();
        c.execute_batch(
            "INSERT INTO users (id, email, password_hash, role, created_at) VALUES \
               (1, 'a@x.io', '', 'trainer', 0), (2, 'b@x.io', '', 'trainee', 0);
             INSERT INTO conversations (id, trainer_id, trainee_id, created_at, last_activity_at) \
               VALUES (1, 1, 2, 0, 0);",
        )
        .unwrap();
        for (i, t) in texts.iter().enumerate() {
            c.execute(
                "INSERT INTO messages (conversation_id, seq, sender_id, content, created_at) \
                 VALUES (1, ?1, 1, ?2, ?1)",
                params![i as i64 + 1, t],
            )
            .unwrap();
        }
        c
    }

    fn found(c: &Connection, text: &str) -> (Vec<String>, i64) {
        let q = SearchQuery {
            user: UserId(2),
            text: text.to_owned(),
            conversation: Some(ConversationId(1)),
            limit: 20,
            offset: 0,
        };
        let (hits, count) = search(c, &q).unwrap();
        (hits.into_iter().map(|h| h.message.content).collect(), count)
    }

    #[test]
    fn a_search_reads_the_index_and_the_messages_not_indexed_yet_alike() {
        let c = db(&["Deadlift day", "rest", "DEADLIFTS again"]);
        // Nothing indexed yet: found all the same, newest first.
        let expected = (
            vec!["DEADLIFTS again".to_owned(), "Deadlift day".to_owned()],
            2,
        );
        assert_eq!(found(&c, "deadlift"), expected);
        // Half indexed, half not.
        c.execute("UPDATE search_progress SET indexed_up_to = 0", [])
            .unwrap();
        c.execute(
            "INSERT INTO messages_search (rowid, content) SELECT id, content FROM messages \
             WHERE id = 1",
            [],
        )
        .unwrap();
        c.execute("UPDATE search_progress SET indexed_up_to = 1", [])
            .unwrap();
        assert_eq!(found(&c, "deadlift"), expected);
        // All indexed, in steps, until nothing is left.
        while index_some(&c).unwrap() {}
        assert!(!index_some(&c).unwrap());
        assert_eq!(found(&c, "deadlift"), expected);
        let indexed: i64 = c
            .query_row("SELECT indexed_up_to FROM search_progress", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(indexed, 3);
    }

    #[test]
    fn edits_and_deletes_of_indexed_messages_follow_in_the_index() {
        let c = db(&["squat form", "bench press", "squat depth"]);
        while index_some(&c).unwrap() {}
        c.execute(
            "UPDATE messages SET content = 'front squat' WHERE id = 2",
            [],
        )
        .unwrap();
        c.execute(
            "UPDATE messages SET content = '', deleted_at = 5 WHERE id = 1",
            [],
        )
        .unwrap();
        assert_eq!(
            found(&c, "squat"),
            (vec!["squat depth".to_owned(), "front squat".to_owned()], 2)
        );
        assert_eq!(found(&c, "bench").1, 0, "the old text is out of the index");
        // The index agrees with its content table (FTS5's own check).
        c.execute(
            "INSERT INTO messages_search (messages_search, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .unwrap();
    }
}
