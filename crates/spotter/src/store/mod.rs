//! Storage: all SQL lives below this module, one set of statements for SQLite and PostgreSQL
//! through sqlx's `Any` driver. The two schemas (`migrations/sqlite`, `migrations/postgres`) are
//! kept column-for-column alike so the statements need no per-backend branches, except where a
//! backend really differs (row locking, see `outbox`; multi-row statements, in each module's
//! `pg` part, for PostgreSQL's group commit).
//!
//! On SQLite the hot reads and the group commit's writes skip sqlx for rusqlite connections
//! (`direct`, and each module's `direct` part): no thread hop per statement and per row. They
//! run the same statement text where they mirror an sqlx statement.
//!
//! Writes go through [`Db::begin_write`] (or [`Db::write_direct`]): on SQLite both first take an
//! in-process writer lock, since SQLite has one writer and its own busy-wait (sleep and retry) is
//! slow under contention.

pub mod conversations;
pub mod devices;
pub mod direct;
pub mod messages;
pub mod outbox;
pub mod tokens;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, SqlSafeStr, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite only: serialises write transactions inside this process.
    writer: Option<Arc<Mutex<()>>>,
    /// SQLite only: the hot paths' own connections.
    direct: Option<Arc<direct::Direct>>,
}

/// A write transaction; on SQLite it also holds the writer lock until commit or drop.
pub struct WriteTx {
    pub tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` values, numbered from `$first`: the VALUES
/// list of a multi-row statement on PostgreSQL.
pub(crate) fn pg_values(rows: usize, cols: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (0..cols)
                .map(|c| format!("${}", first + r * cols + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits `items` into runs whose lengths are powers of two, at most `max`: a multi-row
/// statement then takes one of a few shapes, which stay in each connection's prepared-statement
/// cache instead of being parsed anew for every batch size.
pub(crate) fn pow2_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = max.min(1 << rest.len().ilog2()).max(1);
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

impl Db {
    /// Connects (creating the SQLite file when absent) and applies pending migrations.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL (want sqlite:// or postgres://)");
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(if backend == Backend::Sqlite { 1 } else { 0 })
            // Fail fast when the database is away: callers answer 503 instead of hanging.
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never block the writer. synchronous=FULL: a commit is
                        // on disk before we acknowledge a message, even across power loss.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        let mut db = Self {
            pool,
            backend,
            writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            direct: None,
        };
        db.migrate().await?;
        if backend == Backend::Sqlite {
            // The file SQLite actually opened (URL forms vary). An in-memory database is
            // refused: each pooled connection would have its own, invisible to the others.
            let file: Option<String> =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_optional(&db.pool)
                    .await?;
            let Some(file) = file.filter(|f| !f.is_empty()) else {
                anyhow::bail!("SQLite needs a database file, not an in-memory database");
            };
            db.direct = Some(Arc::new(
                direct::Direct::open(file.into()).context("opening the SQLite database")?,
            ));
        }
        Ok(db)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        let files: [(i64, &str, &str); 2] = match self.backend {
            Backend::Sqlite => [
                (
                    1,
                    "initial",
                    include_str!("../../migrations/sqlite/0001_initial.sql"),
                ),
                (
                    2,
                    "push",
                    include_str!("../../migrations/sqlite/0002_push.sql"),
                ),
            ],
            Backend::Postgres => [
                (
                    1,
                    "initial",
                    include_str!("../../migrations/postgres/0001_initial.sql"),
                ),
                (
                    2,
                    "push",
                    include_str!("../../migrations/postgres/0002_push.sql"),
                ),
            ],
        };
        let migrations = files
            .into_iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&self.pool)
            .await
            .context("applying migrations")?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite's direct connections (`None` on PostgreSQL: use the pool).
    pub fn direct(&self) -> Option<&direct::Direct> {
        self.direct.as_deref()
    }

    /// SQLite only: runs `f` in a write transaction on the direct writer connection, on a
    /// blocking thread, holding the writer lock; commits unless `f` fails.
    pub async fn write_direct<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, sqlx::Error> {
        let (Some(direct), Some(lock)) = (self.direct.clone(), &self.writer) else {
            return Err(sqlx::Error::Protocol("direct writes are SQLite's".into()));
        };
        let waiting = std::time::Instant::now();
        let guard = lock.clone().lock_owned().await;
        metrics::histogram!(crate::metrics::DB_WAIT).record(waiting.elapsed().as_secs_f64());
        tokio::task::spawn_blocking(move || {
            let out = direct.write(f);
            drop(guard);
            out
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("the SQLite writer failed: {e}")))?
    }

    /// Starts a write transaction (after taking the writer lock on SQLite).
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let waiting = std::time::Instant::now();
        let guard = match &self.writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin().await?;
        metrics::histogram!(crate::metrics::DB_WAIT).record(waiting.elapsed().as_secs_f64());
        Ok(WriteTx { tx, _writer: guard })
    }

    /// `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether an error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_chunks_cover_everything_in_order() {
        let items: Vec<u32> = (0..300).collect();
        let lens: Vec<usize> = pow2_chunks(&items, 128).map(<[u32]>::len).collect();
        assert_eq!(lens, [128, 128, 32, 8, 4]);
        let joined: Vec<u32> = pow2_chunks(&items, 128).flatten().copied().collect();
        assert_eq!(joined, items);
        assert_eq!(pow2_chunks::<u32>(&[], 8).count(), 0);
    }

    #[test]
    fn pg_values_number_from_first() {
        assert_eq!(pg_values(2, 2, 3), "($3, $4), ($5, $6)");
    }
}
