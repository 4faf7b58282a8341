//! SQLite without sqlx, for the paths that run per message or per request: the hot reads (the
//! caller's account, a conversation's access row, a page of history, the conversation list, the
//! unread badge) and the group commit's writes (`domain::committer`).
//!
//! Why: sqlx drives each SQLite connection from its own worker thread, so every statement is a
//! message to that thread and every row a message back (and, through `Any`, one more copy into
//! an `AnyRow`). A 50-message page paid over 50 thread wake-ups, and so did a batch of 50 sends.
//! Here a statement is a function call on a cached prepared statement.
//!
//! - Reads run inline on the calling task's thread, on one of a few `query_only` connections:
//!   an indexed read from SQLite's page cache takes tens of microseconds, less than a single
//!   hop to another thread would cost.
//! - The writer is one connection used only under `Db`'s writer lock and on a blocking thread
//!   (`Db::write_direct`): a commit waits for an fsync, which must not stall the runtime.
//!
//! Consistency: WAL mode, and every read here is its own read transaction, so it sees every
//! commit that finished before it began, from this writer or from sqlx's connections, exactly
//! as a pooled sqlx connection would. Other writes stay on sqlx, under the same writer lock.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Params, Row, Transaction, TransactionBehavior};

/// Idle read connections kept for reuse; more are opened when that many are busy at once (two
/// runtime threads rarely need more than two).
const KEEP: usize = 8;

pub struct Direct {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    writer: Mutex<Connection>,
}

impl Direct {
    /// Connections to the database file at `path` (already created and migrated by sqlx).
    pub fn open(path: PathBuf) -> Result<Self, sqlx::Error> {
        let writer = connect(&path, false)?;
        // synchronous=FULL: a commit is on disk before a message is acknowledged.
        writer
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(to_sqlx)?;
        // Fail at start-up, not on the first request, if the file cannot be read.
        let reader = connect(&path, true)?;
        Ok(Self {
            path,
            idle: Mutex::new(vec![reader]),
            writer: Mutex::new(writer),
        })
    }

    fn take(&self) -> Result<Connection, sqlx::Error> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => connect(&self.path, true),
        }
    }

    fn put(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < KEEP {
            idle.push(conn);
        }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, sqlx::Error> {
        let conn = self.take()?;
        let out = f(&conn);
        self.put(conn);
        out.map_err(to_sqlx)
    }

    /// Every row of `sql`, mapped.
    pub fn all<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, sqlx::Error> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&numbered(sql))?;
            let rows = stmt.query_map(params, map)?;
            rows.collect()
        })
    }

    /// The first row of `sql`, mapped, if there is one.
    pub fn one<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, sqlx::Error> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&numbered(sql))?;
            let mut rows = stmt.query(params)?;
            rows.next()?.map(map).transpose()
        })
    }

    /// Runs `f` in one write transaction and commits it (rolls back if `f` fails). Blocking:
    /// call it from a blocking thread, holding `Db`'s writer lock (`Db::write_direct` does).
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, sqlx::Error> {
        // A panic in an earlier batch poisoned the lock, not the connection: its transaction
        // was rolled back when it unwound, so the writer goes on.
        let mut conn = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut tx =
            Transaction::new(&mut conn, TransactionBehavior::Immediate).map_err(to_sqlx)?;
        let out = f(&mut tx).map_err(to_sqlx)?;
        tx.commit().map_err(to_sqlx)?;
        Ok(out)
    }
}

/// The statement with `$n` parameters written `?n`. Both mean "parameter n" to sqlx, but
/// SQLite numbers `$n` names in order of first appearance (`$3 … $1` would bind the first
/// value to `$3`), while `?n` is parameter n, whatever the order. Statements whose parameters
/// first appear as `$1, $2, …` (every hot read) already bind right and are left as they are.
pub fn numbered(sql: &str) -> Cow<'_, str> {
    if in_order(sql) {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether each `$n` of `sql` first appears in the order 1, 2, 3, … (so SQLite's numbering by
/// appearance is already the right one).
fn in_order(sql: &str) -> bool {
    let mut seen = 0u32;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(n) = rest[..digits].parse::<u32>() else {
            continue;
        };
        if n > seen + 1 {
            return false;
        }
        seen = seen.max(n);
    }
    true
}

fn connect(path: &std::path::Path, read_only: bool) -> Result<Connection, sqlx::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(to_sqlx)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(to_sqlx)?;
    // Plans must not depend on bound values: with STAT4 (compiled into the bundled SQLite) a
    // statement whose range parameter changed (every history page's `id < ?`) was re-prepared
    // on each run: 13 % of the server's CPU in the history benchmark went to parsing.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(to_sqlx)?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(to_sqlx)?;
    }
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// A failure SQLite reported, as sqlx reports its own: the extended result code as `code()`
/// (so "13", SQLITE_FULL, still answers 507) and the constraint kinds.
#[derive(Debug)]
struct SqliteFailure {
    code: i32,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                sqlx::error::ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => sqlx::error::ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => sqlx::error::ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// Into the error type the rest of the store speaks: SQLite's own failures as database errors
/// (see `SqliteFailure`); anything else (a type mismatch in a row) as a protocol error.
pub fn to_sqlx(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(f, message) => {
            sqlx::Error::Database(Box::new(SqliteFailure {
                code: f.extended_code,
                message: message.unwrap_or_else(|| f.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(format!("sqlite: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (tempfile::TempDir, Connection, Direct) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.db");
        let setup = Connection::open(&path).expect("open");
        setup
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE);
                 INSERT INTO t (v) VALUES ('a'), ('b'), ('c');",
            )
            .expect("setup");
        let direct = Direct::open(path).expect("direct");
        (dir, setup, direct)
    }

    #[test]
    fn reads_see_commits_and_refuse_writes() {
        let (_dir, setup, direct) = fixture();
        let all = direct
            .all("SELECT v FROM t WHERE id > $1 ORDER BY id", [1], |r| {
                r.get::<_, String>(0)
            })
            .expect("all");
        assert_eq!(all, ["b", "c"]);
        let none = direct
            .one("SELECT v FROM t WHERE id = $1", [9], |r| {
                r.get::<_, String>(0)
            })
            .expect("one");
        assert_eq!(none, None);
        // A commit made elsewhere is visible to the next read.
        setup
            .execute("INSERT INTO t (v) VALUES ('d')", [])
            .expect("insert");
        let n = direct
            .one("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
            .expect("count");
        assert_eq!(n, Some(4));
        let write = direct.all("DELETE FROM t RETURNING id", [], |r| r.get::<_, i64>(0));
        assert!(write.is_err(), "query_only must refuse writes");
    }

    #[test]
    fn a_panic_inside_a_write_rolls_it_back_and_the_writer_goes_on() {
        let (_dir, _setup, direct) = fixture();
        let direct = std::sync::Arc::new(direct);
        let d = direct.clone();
        let panicked = std::thread::spawn(move || {
            d.write(|tx| {
                tx.execute("INSERT INTO t (v) VALUES ('half')", [])?;
                panic!("a bug mid-batch");
                #[allow(unreachable_code)]
                Ok(())
            })
        })
        .join();
        assert!(panicked.is_err());
        direct
            .write(|tx| tx.execute("INSERT INTO t (v) VALUES ('next')", []))
            .expect("the writer still works");
        let vs = direct
            .all("SELECT v FROM t ORDER BY id", [], |r| r.get::<_, String>(0))
            .expect("all");
        assert_eq!(vs, ["a", "b", "c", "next"]);
    }

    #[test]
    fn dollar_parameters_bind_by_number_not_by_order() {
        let (_dir, _setup, direct) = fixture();
        assert_eq!(numbered("a = $2 AND b = $10"), "a = ?2 AND b = ?10");
        assert!(matches!(
            numbered("a = $1 AND b = $2 OR c = $1 LIMIT $3"),
            Cow::Borrowed(_)
        ));
        // `$2` appears first: positional binding must still give it the second value.
        let v = direct
            .one(
                "SELECT v FROM t WHERE id = $2 AND v <> $1",
                ("zzz", 2),
                |r| r.get::<_, String>(0),
            )
            .expect("one");
        assert_eq!(v.as_deref(), Some("b"));
    }

    #[test]
    fn writes_commit_or_roll_back_whole() {
        let (_dir, _setup, direct) = fixture();
        let id = direct
            .write(|tx| {
                tx.query_row("INSERT INTO t (v) VALUES ('e') RETURNING id", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .expect("write");
        assert_eq!(id, 4);
        // A failing statement undoes the whole transaction, and says what failed.
        let e = direct
            .write(|tx| {
                tx.execute("INSERT INTO t (v) VALUES ('f')", [])?;
                tx.execute("INSERT INTO t (v) VALUES ('a')", [])
            })
            .expect_err("duplicate");
        assert!(crate::store::is_unique_violation(&e), "{e}");
        let vs = direct
            .all("SELECT v FROM t ORDER BY id", [], |r| r.get::<_, String>(0))
            .expect("all");
        assert_eq!(vs, ["a", "b", "c", "e"]);
    }
}
