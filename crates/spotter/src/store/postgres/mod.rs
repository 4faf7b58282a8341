//! The PostgreSQL backend: sqlx's typed `PgPool` (no `Any`), its own SQL per part, rows mapped
//! once by column name. Sends are appended in batches that lock their conversations in id
//! order ([`append`]); batch writes are single statements over arrays (`UNNEST`), one shape
//! whatever the batch size, so they stay prepared.

mod accounts;
mod append;
mod conversations;
mod convert;
mod messages;
mod outbox;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPoolOptions;

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

/// Batches in flight at once: while one waits on its round trips and commit, the next is
/// already being written (conversation locks keep them in order where they meet).
const WRITERS: usize = 4;

/// The schema, one migration a file, recorded by sqlx's migrator in `_sqlx_migrations`.
const MIGRATIONS: [(i64, &str, &str); 2] = [
    (
        1,
        "initial",
        include_str!("../../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "push",
        include_str!("../../../migrations/postgres/0002_push.sql"),
    ),
];

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            // Fail fast when the database is away: callers answer 503 instead of hanging.
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        let migrations = MIGRATIONS
            .into_iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(sql),
                    false,
                )
            })
            .collect();
        Migrator::with_migrations(migrations)
            .run(&pool)
            .await
            .context("applying migrations")?;
        Ok(Self { pool })
    }
}

impl PgStore {
    /// Batches of sends that may be in flight at once.
    pub fn writers(&self) -> usize {
        WRITERS
    }
}

impl Storage for PgStore {
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        accounts::user(&self.pool, id).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(accounts::login_record(&self.pool, email)
            .await?
            .map(|(u, _)| u))
    }

    async fn login_record(&self, email: &str) -> Result<Option<(User, String)>> {
        accounts::login_record(&self.pool, email).await
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
        let pattern = super::like_pattern(search);
        accounts::trainees(&self.pool, trainer, pattern, limit, offset).await
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
        accounts::active_devices(&self.pool, user).await
    }

    async fn conversation_ref(&self, id: ConversationId) -> Result<Option<ConversationRef>> {
        conversations::by_id(&self.pool, id).await
    }

    async fn conversations(
        &self,
        user: UserId,
        archived: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Conversation>, i64)> {
        conversations::list(&self.pool, user, archived, limit, offset).await
    }

    async fn unread_total(&self, user: UserId) -> Result<i64> {
        conversations::unread_total(&self.pool, user).await
    }

    async fn message_count(&self, id: ConversationId) -> Result<i64> {
        conversations::message_count(&self.pool, id).await
    }

    async fn message_counts(&self, user: UserId) -> Result<Vec<(ConversationId, i64)>> {
        conversations::message_counts(&self.pool, user).await
    }

    async fn messages(&self, conversation: ConversationId, range: Range) -> Result<Vec<Message>> {
        messages::range(&self.pool, conversation, range).await
    }

    async fn seq_of(&self, conversation: ConversationId, id: MessageId) -> Result<i64> {
        messages::seq_of(&self.pool, conversation, id).await
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
        append::batch(&self.pool, &sends, now).await
    }

    async fn start(&self, start: Arc<StartSend>, now: Micros) -> Result<Started> {
        append::start(&self.pool, &start, now).await
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
        outbox::depth(&self.pool).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
