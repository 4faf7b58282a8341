//! Notification switches on SQLite: one row per user who changed any (none means all on).

use rusqlite::{Connection, OptionalExtension, params_from_iter};

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
        self.pool
            .write(move |c| Ok(upsert(c, user, prefs, now)?))
            .await
    }
}

/// Writes a user's switches (in the caller's transaction).
pub(super) fn upsert(
    c: &Connection,
    user: UserId,
    prefs: NotificationPrefs,
    now: Micros,
) -> rusqlite::Result<()> {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| NotificationPrefs::upsert_sql('?'));
    let mut args: Vec<i64> = vec![user.get(), now];
    args.extend(prefs.0.iter().map(|&b| i64::from(b)));
    c.prepare_cached(sql)?.execute(params_from_iter(args))?;
    Ok(())
}
