//! Users, refresh tokens and push devices on PostgreSQL.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::PgStore;

use crate::clock::Micros;
use crate::domain::model::{ConversationId, Device, DeviceId, User, UserId};
use crate::store::{Accounts, NewDevice, NewUser, RefreshUse, Result, Spend};

pub const USER_COLUMNS: &str = "id, email, first_name, last_name, role, parent_trainer_id, \
    profile_image, deactivated_at, created_at";

pub fn user_row(r: &PgRow) -> sqlx::Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        first_name: r.try_get("first_name")?,
        last_name: r.try_get("last_name")?,
        role: r.try_get("role")?,
        parent_trainer_id: r.try_get("parent_trainer_id")?,
        profile_image: r.try_get("profile_image")?,
        is_active: r.try_get::<Option<Micros>, _>("deactivated_at")?.is_none(),
        created_at: r.try_get("created_at")?,
    })
}

/// A device from the columns `device_id, user_id, platform, token, p256dh, auth_secret`.
pub fn device_row(r: &PgRow) -> sqlx::Result<Device> {
    Ok(Device {
        id: r.try_get("device_id")?,
        user_id: r.try_get("user_id")?,
        platform: r.try_get("platform")?,
        token: r.try_get("token")?,
        p256dh: r.try_get("p256dh")?,
        auth_secret: r.try_get("auth_secret")?,
    })
}

impl Accounts for PgStore {
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        let pool = &self.pool;
        const SQL: &str = "SELECT id, email, first_name, last_name, role, parent_trainer_id, \
            profile_image, deactivated_at, created_at FROM users WHERE id = $1";
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        Ok(row.as_ref().map(user_row).transpose()?)
    }

    /// Matched without regard to case: Spotter stores its own addresses lower-cased, and keeps
    /// imported ones as the original stored them. Should two differ only in case, the exact one
    /// wins.
    async fn login_record(&self, email: &str) -> Result<Option<(User, String)>> {
        let pool = &self.pool;
        const SQL: &str = "SELECT id, email, first_name, last_name, role, parent_trainer_id, \
            profile_image, deactivated_at, created_at, password_hash FROM users \
            WHERE lower(email) = lower($1) ORDER BY email = $1 DESC, id LIMIT 1";
        let row = sqlx::query(SQL)
            .bind(email.trim())
            .fetch_optional(pool)
            .await?;
        let record = |r: &PgRow| -> sqlx::Result<(User, String)> {
            Ok((user_row(r)?, r.try_get("password_hash")?))
        };
        Ok(row.as_ref().map(record).transpose()?)
    }

    async fn replace_password_hash(&self, user: UserId, old: &str, new: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2")
                .bind(user)
                .bind(old)
                .bind(new)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_user(&self, u: &NewUser<'_>, now: Micros) -> Result<UserId> {
        let pool = &self.pool;
        Ok(sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, first_name, last_name, role, \
             parent_trainer_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(u.email.to_lowercase())
        .bind(u.password_hash)
        .bind(u.first_name)
        .bind(u.last_name)
        .bind(u.role)
        .bind(u.parent_trainer_id)
        .bind(now)
        .fetch_one(pool)
        .await?)
    }

    async fn trainees(
        &self,
        trainer: UserId,
        search: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<User>, i64)> {
        let pool = &self.pool;
        let pattern = crate::store::like_pattern(search);
        const FILTER: &str = "parent_trainer_id = $1 AND role = 'trainee' AND ($2::text IS NULL OR \
            LOWER(first_name) LIKE $2 ESCAPE '\\' OR LOWER(last_name) LIKE $2 ESCAPE '\\' OR \
            email LIKE $2 ESCAPE '\\' OR LOWER(first_name || ' ' || last_name) LIKE $2 ESCAPE '\\')";
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM users WHERE {FILTER}"
        )))
        .bind(trainer)
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {FILTER} \
             ORDER BY first_name, last_name, id LIMIT $3 OFFSET $4"
        )))
        .bind(trainer)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let users = rows.iter().map(user_row).collect::<sqlx::Result<_>>()?;
        Ok((users, count))
    }

    async fn assign(&self, trainee: UserId, trainer: UserId) -> Result<()> {
        let pool = &self.pool;
        sqlx::query("UPDATE users SET parent_trainer_id = $1 WHERE id = $2")
            .bind(trainer)
            .bind(trainee)
            .execute(pool)
            .await?;
        Ok(())
    }

    async fn unassign(
        &self,
        trainer: UserId,
        trainee: UserId,
        now: Micros,
    ) -> Result<Option<ConversationId>> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET parent_trainer_id = NULL WHERE id = $1")
            .bind(trainee)
            .execute(&mut *tx)
            .await?;
        let archived = sqlx::query_scalar(
            "UPDATE conversations SET archived_at = $3 \
             WHERE trainer_id = $1 AND trainee_id = $2 AND archived_at IS NULL RETURNING id",
        )
        .bind(trainer)
        .bind(trainee)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(archived)
    }

    async fn set_active(&self, user: UserId, active: bool, now: Micros) -> Result<bool> {
        let pool = &self.pool;
        let at = (!active).then_some(now);
        let done = sqlx::query("UPDATE users SET deactivated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user(&self, user: UserId) -> Result<bool> {
        let pool = &self.pool;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn spend_refresh(&self, t: &RefreshUse<'_>, now: Micros) -> Result<Spend> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let revoked = sqlx::query("SELECT 1 FROM revoked_token_families WHERE family = $1")
            .bind(t.family)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if revoked {
            return Ok(Spend::Revoked);
        }
        let fresh = sqlx::query(
            "INSERT INTO spent_refresh_tokens (jti, family, user_id, used_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(t.jti)
        .bind(t.family)
        .bind(t.user)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !fresh {
            sqlx::query(
                "INSERT INTO revoked_token_families (family, revoked_at) VALUES ($1, $2) \
                 ON CONFLICT (family) DO NOTHING",
            )
            .bind(t.family)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(if fresh { Spend::Fresh } else { Spend::Replayed })
    }

    async fn upsert_device(&self, d: &NewDevice<'_>, now: Micros) -> Result<DeviceId> {
        let pool = &self.pool;
        Ok(sqlx::query_scalar(
            "INSERT INTO devices (user_id, platform, token, p256dh, auth_secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, \
               platform = excluded.platform, p256dh = excluded.p256dh, \
               auth_secret = excluded.auth_secret, deactivated_at = NULL \
             RETURNING id",
        )
        .bind(d.user_id)
        .bind(d.platform)
        .bind(d.token)
        .bind(d.p256dh)
        .bind(d.auth_secret)
        .bind(now)
        .fetch_one(pool)
        .await?)
    }

    async fn remove_device(&self, user: UserId, token: &str) -> Result<u64> {
        let pool = &self.pool;
        Ok(
            sqlx::query("DELETE FROM devices WHERE user_id = $1 AND token = $2")
                .bind(user)
                .bind(token)
                .execute(pool)
                .await?
                .rows_affected(),
        )
    }

    async fn active_devices(&self, user: UserId) -> Result<Vec<Device>> {
        let pool = &self.pool;
        let rows = sqlx::query(
            "SELECT id AS device_id, user_id, platform, token, p256dh, auth_secret FROM devices \
             WHERE user_id = $1 AND deactivated_at IS NULL ORDER BY id",
        )
        .bind(user)
        .fetch_all(pool)
        .await?;
        Ok(rows.iter().map(device_row).collect::<sqlx::Result<_>>()?)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self.login_record(email).await?.map(|(u, _)| u))
    }
}
