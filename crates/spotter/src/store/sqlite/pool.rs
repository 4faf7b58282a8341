//! SQLite's connections: a few readers used inline, and one writer on a thread of its own.
//!
//! - Reads run on the calling task's thread, on one of a few `query_only` connections with
//!   cached statements: an indexed read from SQLite's page cache takes tens of microseconds,
//!   less than a single hop to another thread would cost.
//! - Writes are jobs for the writer thread. It takes every job waiting, runs them in one
//!   transaction (each inside a savepoint, so one that fails is undone alone) and commits once,
//!   then answers each: a commit waits for an fsync, and many writers share it. A job is never
//!   answered before its transaction is on disk, except a job that asked for less
//!   ([`Pool::write_unsynced`]): a group made only of those commits without an fsync (still
//!   atomic; on disk with the next synced commit).
//!
//! Consistency: WAL mode. Every read is its own read transaction, so it sees every commit that
//! was answered before it began.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use super::convert::to_store;
use crate::store::{Result, StoreError};

/// Idle read connections kept for reuse; more are opened when that many are busy at once.
const KEEP: usize = 8;
/// Jobs committed in one transaction at most.
const MAX_GROUP: usize = 1024;
/// Statements cached per connection.
const STATEMENT_CACHE: usize = 64;

/// A write job: runs inside the group's transaction (or is told why it cannot), says whether
/// it succeeded (else its savepoint is rolled back), and how to answer once the commit is known.
struct Job {
    /// Must be on disk before it is answered.
    synced: bool,
    run: Run,
}

type Run = Box<dyn FnOnce(Result<&Connection>) -> (bool, Answer) + Send>;
/// One bounded step of background work in the writer's transaction; whether more is left.
pub type Idle = fn(&Connection) -> rusqlite::Result<bool>;
type Answer = Box<dyn FnOnce(Result<()>) + Send>;

pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    writer: mpsc::Sender<Job>,
}

impl Pool {
    /// Opens the database at `path` (created if absent) with `migrate` applied on the writer
    /// connection first.
    /// `idle` is background work the writer does in transactions of its own while no write
    /// waits, a bounded step at a time (it says whether more is left): search indexing.
    pub fn open(
        path: &Path,
        migrate: impl FnOnce(&mut Connection) -> anyhow::Result<()>,
        idle: Idle,
    ) -> anyhow::Result<Self> {
        let mut writer = connect(path, false).map_err(anyhow::Error::new)?;
        migrate(&mut writer)?;
        // Fail at start-up, not on the first request, if the file cannot be read.
        let reader = connect(path, true).map_err(anyhow::Error::new)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_loop(&writer, &rx, idle))?;
        Ok(Self {
            path: path.to_owned(),
            idle: Mutex::new(vec![reader]),
            writer: tx,
        })
    }

    /// Runs `f` on a read connection, here and now.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match taken {
            Some(conn) => conn,
            None => connect(&self.path, true).map_err(to_store)?,
        };
        let out = f(&conn);
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < KEEP {
            idle.push(conn);
        }
        out.map_err(to_store)
    }

    /// Runs `f` in the writer's next transaction; returns once that transaction is committed
    /// and on disk (an error of `f` undoes `f` alone).
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.job(true, f).await
    }

    /// [`Pool::write`] for what may be lost in a power cut (delivered receipts: a message
    /// delivered again is marked again): committed, but without an fsync of its own when
    /// nothing else in its group needs one.
    pub async fn write_unsynced<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.job(false, f).await
    }

    async fn job<T: Send + 'static>(
        &self,
        synced: bool,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let queued = Instant::now();
        let run: Run = Box::new(move |conn: Result<&Connection>| {
            metrics::histogram!(crate::metrics::DB_WAIT).record(queued.elapsed().as_secs_f64());
            let out = match conn {
                Ok(conn) => std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a write panicked").into())),
                Err(e) => Err(e),
            };
            let ok = out.is_ok();
            let answer: Answer = Box::new(move |committed: Result<()>| {
                let _ = reply.send(committed.and(out));
            });
            (ok, answer)
        });
        let job = Job { synced, run };
        let stopped = || StoreError::Unavailable("the SQLite writer has stopped".into());
        self.writer.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer thread: until every sender is gone, commit the waiting jobs group by group; when
/// none waits, do a step of the idle work (writes always go first: a write that arrives meanwhile
/// waits one bounded step at most).
fn write_loop(conn: &Connection, jobs: &mpsc::Receiver<Job>, idle: Idle) {
    let mut group = Vec::with_capacity(64);
    // At start, whatever the last run left undone.
    let mut idle_work = true;
    loop {
        let first = match jobs.try_recv() {
            Ok(job) => job,
            Err(mpsc::TryRecvError::Empty) if idle_work => {
                idle_work = idle_step(conn, idle);
                continue;
            }
            Err(mpsc::TryRecvError::Empty) => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(mpsc::TryRecvError::Disconnected) => return,
        };
        group.push(first);
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(conn, std::mem::take(&mut group));
        idle_work = true;
    }
}

/// One step of idle work in a transaction of its own, without an fsync of its own: what it
/// writes can be derived again (a step lost to a power cut is redone from where the database
/// says it got). Whether more is left; a failure is logged and the work waits for the next
/// write.
fn idle_step(conn: &Connection, idle: Idle) -> bool {
    let _ = run(conn, "PRAGMA synchronous = NORMAL");
    let step = run(conn, "BEGIN IMMEDIATE")
        .and_then(|()| idle(conn).map_err(to_store))
        .and_then(|more| run(conn, "COMMIT").map(|()| more));
    let more = match step {
        Ok(more) => more,
        Err(e) => {
            tracing::warn!(error = %e, "SQLite background work failed");
            let _ = conn.execute_batch("ROLLBACK");
            false
        }
    };
    let _ = run(conn, "PRAGMA synchronous = FULL");
    more
}

/// One transaction for the whole group, a savepoint per job; every job is answered with the
/// commit's outcome (or its own failure).
fn commit_group(conn: &Connection, group: Vec<Job>) {
    let mut answers: Vec<Answer> = Vec::with_capacity(group.len());
    let unsynced = group.iter().all(|j| !j.synced);
    if unsynced {
        let _ = run(conn, "PRAGMA synchronous = NORMAL");
    }
    let mut broken = run(conn, "BEGIN IMMEDIATE").err();
    for Job { run: job, .. } in group {
        if broken.is_none() {
            broken = run(conn, "SAVEPOINT job").err();
        }
        if let Some(e) = &broken {
            // The transaction cannot take it: the job only learns why.
            let (_, answer) = job(Err(same(e)));
            answers.push(answer);
            continue;
        }
        let (ok, answer) = job(Ok(conn));
        answers.push(answer);
        if !ok {
            broken = run(conn, "ROLLBACK TO job").err();
        }
        if broken.is_none() {
            broken = run(conn, "RELEASE job").err();
        }
    }
    let outcome = match broken {
        Some(e) => Err(e),
        None => run(conn, "COMMIT"),
    };
    if let Err(e) = &outcome {
        tracing::warn!(error = %e, jobs = answers.len(), "SQLite write transaction failed");
        let _ = conn.execute_batch("ROLLBACK");
    }
    if unsynced {
        let _ = run(conn, "PRAGMA synchronous = FULL");
    }
    for answer in answers {
        answer(outcome.as_ref().map(|_| ()).map_err(same));
    }
}

/// Runs one of the writer's few fixed statements (prepared once, cached).
pub(super) fn run(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
        .map_err(to_store)
}

/// The same failure, for each job of a group.
fn same(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Full(m) => StoreError::Full(m.clone()),
        StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
        StoreError::Other(e) => StoreError::Other(anyhow::anyhow!("{e:#}")),
    }
}

fn connect(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Plans must not depend on bound values: with STAT4 (compiled into the bundled SQLite) a
    // statement whose range parameter changed (every history page's `id < ?`) was re-prepared
    // on each run: 13 % of the server's CPU in the history benchmark went to parsing.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if read_only {
        // Readers map the file (up to 1 GiB of address space, shared with the OS page cache)
        // instead of copying each page through a read() into a small private cache: a search
        // that has to scan (a two-character query) read a million messages in half the time.
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA mmap_size = 1073741824;")?;
    } else {
        // WAL: readers never block the writer. synchronous=FULL: a commit is on disk before a
        // message is acknowledged, even across power loss. Savepoints' journals in memory: they
        // never need to outlive the transaction.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY;",
        )?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = Pool::open(
            &dir.path().join("p.db"),
            |c| {
                c.execute_batch(
                    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE);
                 INSERT INTO t (v) VALUES ('a'), ('b'), ('c');",
                )?;
                Ok(())
            },
            |_| Ok(false),
        )
        .expect("open");
        (dir, pool)
    }

    fn values(pool: &Pool) -> Vec<String> {
        pool.read(|c| {
            let mut s = c.prepare_cached("SELECT v FROM t ORDER BY id")?;
            let rows = s.query_map([], |r| r.get(0))?;
            rows.collect()
        })
        .expect("read")
    }

    #[tokio::test]
    async fn a_write_is_visible_to_the_next_read_and_reads_refuse_writes() {
        let (_dir, pool) = pool();
        let id = pool
            .write(|c| {
                Ok(
                    c.query_row("INSERT INTO t (v) VALUES ('d') RETURNING id", [], |r| {
                        r.get::<_, i64>(0)
                    })?,
                )
            })
            .await
            .expect("write");
        assert_eq!(id, 4);
        assert_eq!(values(&pool), ["a", "b", "c", "d"]);
        let refused = pool.read(|c| c.execute("DELETE FROM t", []));
        assert!(refused.is_err(), "query_only must refuse writes");
    }

    #[tokio::test]
    async fn a_failing_write_is_undone_alone_and_says_what_failed() {
        let (_dir, pool) = pool();
        let (dup, fine) = tokio::join!(
            pool.write(|c| {
                c.execute("INSERT INTO t (v) VALUES ('e')", [])?;
                c.execute("INSERT INTO t (v) VALUES ('a')", [])?;
                Ok(())
            }),
            pool.write(|c| Ok(c.execute("INSERT INTO t (v) VALUES ('f')", [])?)),
        );
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        assert_eq!(fine.expect("the other write"), 1);
        assert_eq!(values(&pool), ["a", "b", "c", "f"]);
    }

    #[tokio::test]
    async fn a_write_that_panics_is_undone_and_the_writer_goes_on() {
        let (_dir, pool) = pool();
        let panicked = pool
            .write(|c| -> Result<()> {
                c.execute("INSERT INTO t (v) VALUES ('half')", [])?;
                panic!("a bug mid-write");
            })
            .await;
        assert!(panicked.is_err());
        pool.write(|c| Ok(c.execute("INSERT INTO t (v) VALUES ('next')", [])?))
            .await
            .expect("the writer still works");
        assert_eq!(values(&pool), ["a", "b", "c", "next"]);
    }
}
