//! Notification switches on SQLite: one row per user who changed any (none means all on).

use rusqlite::{OptionalExtension, params_from_iter};

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::UserId;
use crate::store::{NotificationPrefs, Preferences, Result};

impl Preferences for SqliteStore {
    async fn preferences(&self, user: UserId) -> Result<NotificationPrefs> {
        let columns = NotificationPrefs::NAMES.join(", ");
        let found = self.pool.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {columns} FROM notification_preferences WHERE user_id = ?1"
            ))?
            .query_row([user], |r| {
                let mut prefs = [true; 11];
                for (i, p) in prefs.iter_mut().enumerate() {
                    *p = r.get(i)?;
                }
                Ok(NotificationPrefs(prefs))
            })
            .optional()
        })?;
        Ok(found.unwrap_or_default())
    }

    async fn set_preferences(
        &self,
        user: UserId,
        prefs: NotificationPrefs,
        now: Micros,
    ) -> Result<()> {
        let names = NotificationPrefs::NAMES;
        let sql = format!(
            "INSERT INTO notification_preferences (user_id, updated_at, {}) VALUES (?1, ?2, {}) \
             ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at, {}",
            names.join(", "),
            (3..3 + names.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(|n| format!("{n} = excluded.{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.pool
            .write(move |c| {
                let mut args: Vec<i64> = vec![user.get(), now];
                args.extend(prefs.0.iter().map(|&b| i64::from(b)));
                c.prepare_cached(&sql)?.execute(params_from_iter(args))?;
                Ok(())
            })
            .await
    }
}
