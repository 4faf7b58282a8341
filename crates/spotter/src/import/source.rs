//! The original platform's database, read and never written: one read-only transaction at
//! repeatable read, so every table is read as of one moment while the original keeps serving.
//! Times come as integer microseconds, converted by PostgreSQL (exact, no date type needed).

use std::time::Duration;

use anyhow::Context;
use futures_util::Stream;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};

/// How long reaching the original may take before the run gives up with a clear message.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

fn micros(column: &str) -> String {
    format!("(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint")
}

pub struct Source {
    conn: PgConnection,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrigUser {
    pub id: i64,
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub parent_trainer_id: Option<i64>,
    pub is_active: bool,
    pub created_at: i64,
    #[serde(skip)]
    pub updated_at: i64,
    /// A storage name under the media folder (`profiles/…`); `""` already read as none.
    pub profile_image: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrigConversation {
    pub id: i64,
    pub trainer_id: i64,
    pub trainee_id: Option<i64>,
    pub is_archived: bool,
    pub created_at: i64,
    pub last_message_at: Option<i64>,
    #[serde(skip)]
    pub updated_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrigMessage {
    pub id: i64,
    pub conversation_id: i64,
    pub sender_id: Option<i64>,
    pub content: String,
    /// `""` already read as none.
    pub image: Option<String>,
    pub is_read: bool,
    pub read_at: Option<i64>,
    pub edited_at: Option<i64>,
    pub is_deleted: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrigDevice {
    pub id: i64,
    pub user_id: i64,
    pub token: String,
    pub platform: String,
    pub is_active: bool,
    pub created_at: i64,
    #[serde(skip)]
    pub updated_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OrigPreferences {
    pub user_id: i64,
    pub values: [bool; 11],
}

impl Source {
    /// Connects and opens the run's snapshot; an unreachable database is an error within
    /// [`CONNECT_TIMEOUT`].
    pub async fn open(url: &str) -> anyhow::Result<Source> {
        let shown = redact(url);
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(url))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "the original's database at {shown} did not answer within {} seconds",
                    CONNECT_TIMEOUT.as_secs()
                )
            })?
            .with_context(|| format!("connecting to the original's database at {shown}"))?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut conn)
            .await
            .context("opening a read-only snapshot of the original's database")?;
        Ok(Source { conn })
    }

    pub async fn users(&mut self) -> anyhow::Result<Vec<OrigUser>> {
        let sql = format!(
            "SELECT id, email, password, first_name, last_name, role, parent_trainer_id, \
             is_active, {}, {}, NULLIF(profile_image, '') FROM users ORDER BY id",
            micros("COALESCE(created_at, date_joined)"),
            micros("updated_at")
        );
        let rows = self.fetch(&sql, "users").await?;
        rows.iter()
            .map(|r| {
                Ok(OrigUser {
                    id: r.try_get(0)?,
                    email: r.try_get(1)?,
                    password: r.try_get(2)?,
                    first_name: r.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                    last_name: r.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
                    role: r.try_get(5)?,
                    parent_trainer_id: r.try_get(6)?,
                    is_active: r.try_get(7)?,
                    created_at: r.try_get::<Option<i64>, _>(8)?.unwrap_or_default(),
                    updated_at: r.try_get::<Option<i64>, _>(9)?.unwrap_or_default(),
                    profile_image: r.try_get(10)?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .context("reading users")
    }

    pub async fn conversations(&mut self) -> anyhow::Result<Vec<OrigConversation>> {
        let sql = format!(
            "SELECT id, trainer_id, trainee_id, is_archived, {}, {}, {} \
             FROM messaging_conversations ORDER BY id",
            micros("created_at"),
            micros("last_message_at"),
            micros("updated_at")
        );
        let rows = self.fetch(&sql, "messaging_conversations").await?;
        rows.iter()
            .map(|r| {
                Ok(OrigConversation {
                    id: r.try_get(0)?,
                    trainer_id: r.try_get(1)?,
                    trainee_id: r.try_get(2)?,
                    is_archived: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    last_message_at: r.try_get(5)?,
                    updated_at: r.try_get::<Option<i64>, _>(6)?.unwrap_or_default(),
                })
            })
            .collect::<sqlx::Result<_>>()
            .context("reading messaging_conversations")
    }

    pub async fn message_count(&mut self) -> anyhow::Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messaging_messages")
            .fetch_one(&mut self.conn)
            .await
            .context("counting messaging_messages")?;
        Ok(n.max(0) as u64)
    }

    /// Every message, conversation by conversation in the original's order (`created_at`,
    /// then id), streamed: memory does not grow with the history.
    pub fn messages(&mut self) -> impl Stream<Item = sqlx::Result<OrigMessage>> + '_ {
        use futures_util::StreamExt;
        let sql = format!(
            "SELECT id, conversation_id, sender_id, content, NULLIF(image, ''), is_read, {}, {}, \
             is_deleted, {} FROM messaging_messages ORDER BY conversation_id, created_at, id",
            micros("read_at"),
            micros("edited_at"),
            micros("created_at")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch(&mut self.conn)
            .map(|row| {
                let r = row?;
                Ok(OrigMessage {
                    id: r.try_get(0)?,
                    conversation_id: r.try_get(1)?,
                    sender_id: r.try_get(2)?,
                    content: r.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                    image: r.try_get(4)?,
                    is_read: r.try_get(5)?,
                    read_at: r.try_get(6)?,
                    edited_at: r.try_get(7)?,
                    is_deleted: r.try_get(8)?,
                    created_at: r.try_get(9)?,
                })
            })
    }

    pub async fn devices(&mut self) -> anyhow::Result<Vec<OrigDevice>> {
        let sql = format!(
            "SELECT id, user_id, token, platform, is_active, {}, {} FROM device_tokens ORDER BY id",
            micros("created_at"),
            micros("updated_at")
        );
        let rows = self.fetch(&sql, "device_tokens").await?;
        rows.iter()
            .map(|r| {
                Ok(OrigDevice {
                    id: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    token: r.try_get(2)?,
                    platform: r.try_get(3)?,
                    is_active: r.try_get(4)?,
                    created_at: r.try_get::<Option<i64>, _>(5)?.unwrap_or_default(),
                    updated_at: r.try_get::<Option<i64>, _>(6)?.unwrap_or_default(),
                })
            })
            .collect::<sqlx::Result<_>>()
            .context("reading device_tokens")
    }

    pub async fn preferences(&mut self) -> anyhow::Result<Vec<OrigPreferences>> {
        let sql = format!(
            "SELECT user_id, {} FROM notification_preferences ORDER BY user_id",
            crate::store::NotificationPrefs::NAMES.join(", ")
        );
        let rows = self.fetch(&sql, "notification_preferences").await?;
        rows.iter()
            .map(|r| {
                let mut values = [true; 11];
                for (i, v) in values.iter_mut().enumerate() {
                    *v = r.try_get(i + 1)?;
                }
                Ok(OrigPreferences {
                    user_id: r.try_get(0)?,
                    values,
                })
            })
            .collect::<sqlx::Result<_>>()
            .context("reading notification_preferences")
    }

    async fn fetch(&mut self, sql: &str, table: &str) -> anyhow::Result<Vec<PgRow>> {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut self.conn)
            .await
            .with_context(|| format!("reading the original's {table}"))
    }
}

/// A database URL fit to print: the password left out.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((auth, host)) => {
            let user = auth.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_printed_url_has_no_password() {
        assert_eq!(
            redact("postgres://django:s3cret@db:5432/app"),
            "postgres://django@db:5432/app"
        );
        assert_eq!(redact("postgres://db/app"), "postgres://db/app");
    }
}
