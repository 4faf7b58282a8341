//! Notification switches on PostgreSQL: one row per user who changed any (none means all on).

use sqlx::{PgConnection, Row};

use super::PgStore;
use crate::clock::Micros;
use crate::domain::model::UserId;
use crate::store::{NotificationPrefs, Preferences, Result};

impl Preferences for PgStore {
    async fn preferences(&self, user: UserId) -> Result<NotificationPrefs> {
        let sql = format!(
            "SELECT {} FROM notification_preferences WHERE user_id = $1",
            NotificationPrefs::NAMES.join(", ")
        );
        let found = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = found else {
            return Ok(NotificationPrefs::default());
        };
        let mut prefs = [true; 11];
        for (i, p) in prefs.iter_mut().enumerate() {
            *p = r.try_get(i)?;
        }
        Ok(NotificationPrefs(prefs))
    }

    async fn set_preferences(
        &self,
        user: UserId,
        prefs: NotificationPrefs,
        now: Micros,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        upsert(&mut conn, user, prefs, now).await?;
        Ok(())
    }
}

/// Writes a user's switches (in the caller's transaction, if any).
pub(super) async fn upsert(
    conn: &mut PgConnection,
    user: UserId,
    prefs: NotificationPrefs,
    now: Micros,
) -> sqlx::Result<()> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| NotificationPrefs::upsert_sql('$'));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(user)
        .bind(now);
    for b in prefs.0 {
        q = q.bind(b);
    }
    q.execute(conn).await?;
    Ok(())
}
