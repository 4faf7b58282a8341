//! The SQLite backend: rusqlite only. Reads run inline on cached statements, writes on the one
//! writer thread ([`pool`]); the SQL of each part sits in its own module, and each maps its
//! rows once, by column position.

mod accounts;
mod append;
mod conversations;
pub(crate) mod convert;
mod messages;
mod outbox;
mod pool;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::{
    DeliveryMark, Job, JobOutcome, NewDevice, NewUser, Pending, QueueDepth, Range, RefreshUse,
    Result, Round, Spend, StartSend, Started, Storage,
};
use crate::clock::Micros;
use crate::domain::model::{
    Conversation, ConversationId, ConversationRef, Device, DeviceId, Message, MessageId, User,
    UserId,
};
use crate::domain::plan::{Append, Appended};
use pool::Pool;

/// The schema, one migration a file; applied in order, tracked in `PRAGMA user_version`.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../../migrations/sqlite/0001_initial.sql")),
    M::up(include_str!("../../../migrations/sqlite/0002_push.sql")),
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
        let pool = Pool::open(Path::new(path), migrate)
            .with_context(|| format!("opening the SQLite database {path}"))?;
        Ok(Self { pool })
    }
}

/// Applies pending migrations. A database made by an earlier Spotter, whose migrations sqlx
/// recorded in `_sqlx_migrations`, is taken over at the version sqlx reached.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
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
    Migrations::from_slice(MIGRATIONS)
        .to_latest(conn)
        .context("applying migrations")
}

impl SqliteStore {
    /// Batches of sends that may be in flight at once.
    pub fn writers(&self) -> usize {
        1
    }
}

impl Storage for SqliteStore {
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        accounts::user(&self.pool, id)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(accounts::login_record(&self.pool, email)?.map(|(u, _)| u))
    }

    async fn login_record(&self, email: &str) -> Result<Option<(User, String)>> {
        accounts::login_record(&self.pool, email)
    }

    async fn insert_user(&self, user: &NewUser<'_>, now: Micros) -> Result<UserId> {
        accounts::insert_user(&self.pool, user, now).await
    }

    async fn trainees(
        &self,
        trainer: UserId,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        accounts::trainees(&self.pool, trainer, search, limit, offset)
    }

    async fn assign(&self, trainee: UserId, trainer: UserId) -> Result<()> {
        accounts::assign(&self.pool, trainee, trainer).await
    }

    async fn unassign(
        &self,
        trainer: UserId,
        trainee: UserId,
        now: Micros,
    ) -> Result<Option<ConversationId>> {
        accounts::unassign(&self.pool, trainer, trainee, now).await
    }

    async fn set_active(&self, user: UserId, active: bool, now: Micros) -> Result<bool> {
        accounts::set_active(&self.pool, user, active, now).await
    }

    async fn delete_user(&self, user: UserId) -> Result<bool> {
        accounts::delete_user(&self.pool, user).await
    }

    async fn spend_refresh(&self, token: &RefreshUse<'_>, now: Micros) -> Result<Spend> {
        accounts::spend_refresh(&self.pool, token, now).await
    }

    async fn upsert_device(&self, device: &NewDevice<'_>, now: Micros) -> Result<DeviceId> {
        accounts::upsert_device(&self.pool, device, now).await
    }

    async fn remove_device(&self, user: UserId, token: &str) -> Result<u64> {
        accounts::remove_device(&self.pool, user, token).await
    }

    async fn active_devices(&self, user: UserId) -> Result<Vec<Device>> {
        accounts::active_devices(&self.pool, user)
    }

    async fn conversation_ref(&self, id: ConversationId) -> Result<Option<ConversationRef>> {
        conversations::by_id(&self.pool, id)
    }

    async fn conversations(
        &self,
        user: UserId,
        archived: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        conversations::list(&self.pool, user, archived, limit, offset)
    }

    async fn unread_total(&self, user: UserId) -> Result<i64> {
        conversations::unread_total(&self.pool, user)
    }

    async fn message_count(&self, id: ConversationId) -> Result<i64> {
        conversations::message_count(&self.pool, id)
    }

    async fn message_counts(&self, user: UserId) -> Result<Vec<(ConversationId, i64)>> {
        conversations::message_counts(&self.pool, user)
    }

    async fn messages(&self, conversation: ConversationId, range: Range) -> Result<Vec<Message>> {
        messages::range(&self.pool, conversation, range)
    }

    async fn seq_of(&self, conversation: ConversationId, id: MessageId) -> Result<i64> {
        messages::seq_of(&self.pool, conversation, id)
    }

    async fn mark_read(
        &self,
        conversation: ConversationRef,
        reader: UserId,
        now: Micros,
    ) -> Result<u64> {
        messages::mark_read(&self.pool, conversation, reader, now).await
    }

    async fn mark_delivered(
        &self,
        marks: Vec<DeliveryMark>,
        now: Micros,
    ) -> Result<Vec<(ConversationId, Option<UserId>)>> {
        messages::mark_delivered(&self.pool, marks, now).await
    }

    async fn append_batch(
        &self,
        sends: Arc<Vec<Append>>,
        now: Micros,
    ) -> Result<Vec<Result<Appended>>> {
        self.pool
            .write(move |conn| append::batch(conn, &sends, now))
            .await
    }

    async fn start(&self, start: Arc<StartSend>, now: Micros) -> Result<Started> {
        self.pool
            .write(move |conn| append::start(conn, &start, now))
            .await
    }

    async fn claim_outbox(
        &self,
        now: Micros,
        cutoff: Micros,
        lease_until: Micros,
        limit: i64,
    ) -> Result<Vec<Pending>> {
        outbox::claim(&self.pool, now, cutoff, lease_until, limit).await
    }

    async fn record_round(&self, round: Round, now: Micros) -> Result<()> {
        outbox::record_round(&self.pool, round, now).await
    }

    async fn claim_jobs(&self, now: Micros, lease_until: Micros, limit: i64) -> Result<Vec<Job>> {
        outbox::claim_jobs(&self.pool, now, lease_until, limit).await
    }

    async fn record_job(&self, job: &Job, outcome: &JobOutcome, now: Micros) -> Result<()> {
        outbox::record_job(&self.pool, job, outcome, now).await
    }

    async fn purge_outbox(&self, before: Micros) -> Result<u64> {
        outbox::purge(&self.pool, before).await
    }

    async fn push_depth(&self) -> Result<QueueDepth> {
        outbox::depth(&self.pool)
    }

    async fn ping(&self) -> Result<()> {
        self.pool.read(|c| c.query_row("SELECT 1", [], |_| Ok(())))
    }

    async fn close(&self) {}
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
