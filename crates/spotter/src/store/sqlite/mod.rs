//! The SQLite backend: rusqlite only. Reads run inline on cached statements, writes on the one
//! writer thread ([`pool`]); the SQL of each part sits in its own module, and each maps its
//! rows once, by column position.

mod accounts;
mod append;
mod audit;
mod coaching;
mod console;
mod conversations;
pub(crate) mod convert;
mod export;
mod import;
mod messages;
mod outbox;
mod pool;
mod preferences;
mod retention;
mod scheduling;
mod search;
mod uploads;

use std::path::Path;

use anyhow::Context;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::{Database, Result};
use pool::Pool;

/// The schema, one migration a file; applied in order, tracked in `PRAGMA user_version`.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../../migrations/sqlite/0001_initial.sql")),
    M::up(include_str!("../../../migrations/sqlite/0002_push.sql")),
    M::up(include_str!("../../../migrations/sqlite/0003_part_c.sql")),
    M::up(include_str!(
        "../../../migrations/sqlite/0004_media_uploads.sql"
    )),
    M::up(include_str!("../../../migrations/sqlite/0005_import.sql")),
    M::up(include_str!("../../../migrations/sqlite/0006_coaching.sql")),
    M::up(include_str!(
        "../../../migrations/sqlite/0007_scheduling.sql"
    )),
    M::up(include_str!("../../../migrations/sqlite/0008_audit.sql")),
    M::up(include_str!(
        "../../../migrations/sqlite/0009_retention.sql"
    )),
];

pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    /// Opens (creating it if absent) and migrates the database at `location`, the part of a
    /// `sqlite://` URL after the scheme (`//path/to/file.db`, query parameters ignored).
    pub fn open(location: &str, _max_connections: u32) -> anyhow::Result<Self> {
        let path = location.trim_start_matches("//");
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            // Each connection would have its own, invisible to the others.
            anyhow::bail!("SQLite needs a database file, not an in-memory database");
        }
        let pool = Pool::open(Path::new(path), migrate, search::index_some)
            .with_context(|| format!("opening the SQLite database {path}"))?;
        Ok(Self { pool })
    }
}

impl SqliteStore {
    /// Opens an existing file as it is: no migration, no background indexing (`None` if there
    /// is no file).
    pub fn open_as_is(location: &str) -> anyhow::Result<Option<Self>> {
        let path = location.trim_start_matches("//");
        let path = Path::new(path.split('?').next().unwrap_or(path));
        if !path.exists() {
            return Ok(None);
        }
        let pool = Pool::open(path, |_| Ok(()), |_| Ok(false))
            .with_context(|| format!("opening the SQLite database {}", path.display()))?;
        Ok(Some(Self { pool }))
    }
}

/// Applies pending migrations. A database made by an earlier Spotter, whose migrations sqlx
/// recorded in `_sqlx_migrations`, is taken over at the version sqlx reached.
pub(super) fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let sqlx_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_sqlx_migrations')",
        [],
        |r| r.get(0),
    )?;
    if version == 0 && sqlx_table {
        let reached: i64 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
            [],
            |r| r.get(0),
        )?;
        conn.pragma_update(None, "user_version", reached)?;
    }
    // Foreign keys off while the schema changes: rebuilding a table (the only way SQLite changes
    // a constraint) drops the old one, which would otherwise cascade to every row referring to
    // it. They are checked once the migrations are in, and back on before anything else runs.
    conn.pragma_update(None, "foreign_keys", false)?;
    let migrated = Migrations::from_slice(MIGRATIONS)
        .to_latest(conn)
        .context("applying migrations");
    let broken: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    conn.pragma_update(None, "foreign_keys", true)?;
    migrated?;
    anyhow::ensure!(
        broken == 0,
        "the migrated database has {broken} rows whose references are broken"
    );
    Ok(())
}

impl Database for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.pool.read(|c| c.query_row("SELECT 1", [], |_| Ok(())))
    }

    async fn close(&self) {}

    /// One: SQLite has one writer.
    async fn writers(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .expect("user_version")
    }

    #[test]
    fn a_new_database_gets_every_migration() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.db");
        SqliteStore::open(&format!("//{}", path.display()), 1).expect("open");
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
        // Opening again applies nothing twice.
        SqliteStore::open(&format!("//{}?mode=rwc", path.display()), 1).expect("reopen");
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_database_migrated_by_sqlx_is_taken_over_where_sqlx_left_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        let old = Connection::open(&path).expect("create");
        // What an earlier Spotter left: the first migration applied and recorded by sqlx.
        old.execute_batch(include_str!("../../../migrations/sqlite/0001_initial.sql"))
            .expect("schema");
        old.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT, \
             installed_on TIMESTAMP, success BOOLEAN, checksum BLOB, execution_time BIGINT);
             INSERT INTO _sqlx_migrations VALUES (1, 'initial', 0, 1, x'00', 0);",
        )
        .expect("sqlx's record");
        drop(old);
        SqliteStore::open(&format!("//{}", path.display()), 1).expect("open");
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
        let outbox: i64 = Connection::open(&path)
            .and_then(|c| {
                c.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'push_outbox'",
                    [],
                    |r| r.get(0),
                )
            })
            .expect("schema");
        assert_eq!(
            outbox, 1,
            "the second migration was applied, the first not again"
        );
    }

    #[test]
    fn an_in_memory_database_is_refused() {
        assert!(SqliteStore::open(":memory:", 1).is_err());
        assert!(SqliteStore::open("//", 1).is_err());
    }
}
