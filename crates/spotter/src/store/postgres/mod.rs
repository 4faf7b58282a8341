//! The PostgreSQL backend: sqlx's typed `PgPool` (no `Any`), its own SQL per part, rows mapped
//! once by column name. Sends are appended in batches that lock their conversations in id
//! order ([`append`]); batch writes are single statements over arrays (`UNNEST`), one shape
//! whatever the batch size, so they stay prepared.

mod accounts;
mod append;
mod audit;
mod coaching;
mod console;
mod conversations;
mod convert;
mod export;
mod import;
mod messages;
mod outbox;
mod preferences;
mod retention;
mod scheduling;
mod search;
mod uploads;

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPoolOptions;

use super::{Database, Result};

/// Batches in flight at once: while one waits on its round trips and commit, the next is
/// already being written (conversation locks keep them in order where they meet).
const WRITERS: usize = 4;

/// The schema, one migration a file, recorded by sqlx's migrator in `_sqlx_migrations`.
const MIGRATIONS: [(i64, &str, &str); 9] = [
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
    (
        3,
        "part_c",
        include_str!("../../../migrations/postgres/0003_part_c.sql"),
    ),
    (
        4,
        "media_uploads",
        include_str!("../../../migrations/postgres/0004_media_uploads.sql"),
    ),
    (
        5,
        "import",
        include_str!("../../../migrations/postgres/0005_import.sql"),
    ),
    (
        6,
        "coaching",
        include_str!("../../../migrations/postgres/0006_coaching.sql"),
    ),
    (
        7,
        "scheduling",
        include_str!("../../../migrations/postgres/0007_scheduling.sql"),
    ),
    (
        8,
        "audit",
        include_str!("../../../migrations/postgres/0008_audit.sql"),
    ),
    (
        9,
        "retention",
        include_str!("../../../migrations/postgres/0009_retention.sql"),
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
    /// Connects without migrating (to read a database as it is).
    pub async fn connect_as_is(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .context("connecting to PostgreSQL")?;
        Ok(Self { pool })
    }
}

impl Database for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn writers(&self) -> usize {
        WRITERS
    }
}
