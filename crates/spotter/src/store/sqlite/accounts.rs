//! Users, refresh tokens and push devices on SQLite.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use crate::clock::Micros;
use crate::domain::model::{ConversationId, Device, DeviceId, User, UserId};
use crate::store::{Accounts, NewDevice, NewUser, RefreshUse, Result, Spend};

pub(super) const USER_COLUMNS: &str = "id, email, first_name, last_name, role, parent_trainer_id, \
    profile_image, deactivated_at, created_at";

/// A user from the columns of `USER_COLUMNS`, in order.
pub(super) fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        role: r.get(4)?,
        parent_trainer_id: r.get(5)?,
        profile_image: r.get(6)?,
        is_active: r.get::<_, Option<Micros>>(7)?.is_none(),
        created_at: r.get(8)?,
    })
}

/// A device from `id, user_id, platform, token, p256dh, auth_secret` at `at`.
pub fn device_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Device> {
    Ok(Device {
        id: r.get(at)?,
        user_id: r.get(at + 1)?,
        platform: r.get(at + 2)?,
        token: r.get(at + 3)?,
        p256dh: r.get(at + 4)?,
        auth_secret: r.get(at + 5)?,
    })
}

impl Accounts for SqliteStore {
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.pool.read(|c| {
            c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
                .query_row([id], user_row)
                .optional()
        })
    }

    /// Matched without regard to case: Spotter stores its own addresses lower-cased, and keeps
    /// imported ones as the original stored them (SQLite's `lower` folds ASCII only, hence the
    /// second, fully lower-cased form). Should two differ only in case, the exact one wins.
    async fn login_record(&self, email: &str) -> Result<Option<(User, String)>> {
        let exact = email.trim();
        let args = (
            exact.to_ascii_lowercase(),
            exact.to_owned(),
            exact.to_lowercase(),
        );
        self.pool.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, password_hash FROM users \
                 WHERE lower(email) = ?1 OR email = ?3 ORDER BY email = ?2 DESC, id LIMIT 1"
            ))?
            .query_row(args, |r| Ok((user_row(r)?, r.get(9)?)))
            .optional()
        })
    }

    async fn replace_password_hash(&self, user: UserId, old: &str, new: &str) -> Result<bool> {
        let (old, new) = (old.to_owned(), new.to_owned());
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(
                    "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
                )?
                .execute(params![user, old, new])?
                    > 0)
            })
            .await
    }

    async fn insert_user(&self, u: &NewUser<'_>, now: Micros) -> Result<UserId> {
        let row = (
            u.email.to_lowercase(),
            u.password_hash.to_owned(),
            u.first_name.to_owned(),
            u.last_name.to_owned(),
            u.role,
            u.parent_trainer_id,
        );
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(
                    "INSERT INTO users (email, password_hash, first_name, last_name, role, \
                 parent_trainer_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                )?
                .query_row(
                    params![row.0, row.1, row.2, row.3, row.4, row.5, now],
                    |r| r.get(0),
                )?)
            })
            .await
    }

    async fn trainees(
        &self,
        trainer: UserId,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        let pattern = crate::store::like_pattern(search);
        const FILTER: &str = "parent_trainer_id = ?1 AND role = 'trainee' AND (?2 IS NULL OR \
            LOWER(first_name) LIKE ?2 ESCAPE '\\' OR LOWER(last_name) LIKE ?2 ESCAPE '\\' OR \
            email LIKE ?2 ESCAPE '\\' OR LOWER(first_name || ' ' || last_name) LIKE ?2 ESCAPE '\\')";
        self.pool.read(|c| {
            let count = c
                .prepare_cached(&format!("SELECT COUNT(*) FROM users WHERE {FILTER}"))?
                .query_row(params![trainer, pattern], |r| r.get(0))?;
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE {FILTER} \
                     ORDER BY first_name, last_name, id LIMIT ?3 OFFSET ?4"
                ))?
                .query_map(params![trainer, pattern, limit, offset], user_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok((rows, count))
        })
    }

    async fn assign(&self, trainee: UserId, trainer: UserId) -> Result<()> {
        self.pool
            .write(move |c| {
                c.prepare_cached("UPDATE users SET parent_trainer_id = ?1 WHERE id = ?2")?
                    .execute(params![trainer, trainee])?;
                Ok(())
            })
            .await
    }

    async fn unassign(
        &self,
        trainer: UserId,
        trainee: UserId,
        now: Micros,
    ) -> Result<Option<ConversationId>> {
        self.pool
            .write(move |c| {
                c.prepare_cached("UPDATE users SET parent_trainer_id = NULL WHERE id = ?1")?
                    .execute([trainee])?;
                Ok(c.prepare_cached(
                    "UPDATE conversations SET archived_at = ?3 \
                 WHERE trainer_id = ?1 AND trainee_id = ?2 AND archived_at IS NULL RETURNING id",
                )?
                .query_row(params![trainer, trainee, now], |r| r.get(0))
                .optional()?)
            })
            .await
    }

    async fn set_active(&self, user: UserId, active: bool, now: Micros) -> Result<bool> {
        let at = (!active).then_some(now);
        self.pool
            .write(move |c| {
                Ok(
                    c.prepare_cached("UPDATE users SET deactivated_at = ?1 WHERE id = ?2")?
                        .execute(params![at, user])?
                        > 0,
                )
            })
            .await
    }

    async fn delete_user(&self, user: UserId) -> Result<bool> {
        self.pool
            .write(move |c| Ok(c.execute("DELETE FROM users WHERE id = ?1", [user])? > 0))
            .await
    }

    async fn spend_refresh(&self, t: &RefreshUse<'_>, now: Micros) -> Result<Spend> {
        let (jti, family, user) = (t.jti.to_owned(), t.family.to_owned(), t.user);
        self.pool
            .write(move |c| {
                let revoked = c
                    .prepare_cached("SELECT 1 FROM revoked_token_families WHERE family = ?1")?
                    .exists([&family])?;
                if revoked {
                    return Ok(Spend::Revoked);
                }
                let fresh = c
                    .prepare_cached(
                        "INSERT INTO spent_refresh_tokens (jti, family, user_id, used_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (jti) DO NOTHING",
                    )?
                    .execute(params![jti, family, user, now])?
                    > 0;
                if fresh {
                    return Ok(Spend::Fresh);
                }
                c.prepare_cached(
                    "INSERT INTO revoked_token_families (family, revoked_at) VALUES (?1, ?2) \
                 ON CONFLICT (family) DO NOTHING",
                )?
                .execute(params![family, now])?;
                Ok(Spend::Replayed)
            })
            .await
    }

    async fn upsert_device(&self, d: &NewDevice<'_>, now: Micros) -> Result<DeviceId> {
        let row = (
            d.user_id,
            d.platform,
            d.token.to_owned(),
            d.p256dh.map(str::to_owned),
            d.auth_secret.map(str::to_owned),
        );
        self.pool
            .write(move |c| {
                Ok(c.prepare_cached(
                "INSERT INTO devices (user_id, platform, token, p256dh, auth_secret, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, \
                   platform = excluded.platform, p256dh = excluded.p256dh, \
                   auth_secret = excluded.auth_secret, deactivated_at = NULL \
                 RETURNING id",
            )?
            .query_row(params![row.0, row.1, row.2, row.3, row.4, now], |r| {
                r.get(0)
            })?)
            })
            .await
    }

    async fn remove_device(&self, user: UserId, token: &str) -> Result<u64> {
        let token = token.to_owned();
        self.pool
            .write(move |c| {
                Ok(
                    c.prepare_cached("DELETE FROM devices WHERE user_id = ?1 AND token = ?2")?
                        .execute(params![user, token])? as u64,
                )
            })
            .await
    }

    async fn active_devices(&self, user: UserId) -> Result<Vec<Device>> {
        self.pool.read(|c| {
            c.prepare_cached(
                "SELECT id, user_id, platform, token, p256dh, auth_secret FROM devices \
                 WHERE user_id = ?1 AND deactivated_at IS NULL ORDER BY id",
            )?
            .query_map([user], |r| device_row(r, 0))?
            .collect()
        })
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.login_record(email).await?.map(|(u, _)| u))
    }
}
