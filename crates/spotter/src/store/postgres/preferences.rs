//! Notification switches on PostgreSQL: one row per user who changed any (none means all on).

use sqlx::Row;

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
        let names = NotificationPrefs::NAMES;
        let sql = format!(
            "INSERT INTO notification_preferences (user_id, updated_at, {}) VALUES ($1, $2, {}) \
             ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at, {}",
            names.join(", "),
            (3..3 + names.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(|n| format!("{n} = excluded.{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user).bind(now);
        for b in prefs.0 {
            q = q.bind(b);
        }
        q.execute(&self.pool).await?;
        Ok(())
    }
}
