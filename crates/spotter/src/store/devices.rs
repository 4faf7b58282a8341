//! Push devices: FCM tokens and Web Push subscriptions, one row per token or endpoint.

use sqlx::{AnyPool, Row};

use crate::clock::now_micros;
use crate::domain::model::{Device, UserId};

pub struct NewDevice<'a> {
    pub user_id: UserId,
    pub platform: &'a str,
    pub token: &'a str,
    pub p256dh: Option<&'a str>,
    pub auth_secret: Option<&'a str>,
}

/// Registers a device; a token seen before moves to this user and is active again (a phone
/// that changed hands, or a re-subscribed browser).
pub async fn upsert(pool: &AnyPool, d: &NewDevice<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO devices (user_id, platform, token, p256dh, auth_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform, \
           p256dh = excluded.p256dh, auth_secret = excluded.auth_secret, deactivated_at = NULL \
         RETURNING id",
    )
    .bind(d.user_id)
    .bind(d.platform)
    .bind(d.token)
    .bind(d.p256dh)
    .bind(d.auth_secret)
    .bind(now_micros())
    .fetch_one(pool)
    .await?
    .try_get("id")
}

/// Removes the user's device with this token; returns how many rows went.
pub async fn remove(pool: &AnyPool, user: UserId, token: &str) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM devices WHERE user_id = $1 AND token = $2")
            .bind(user)
            .bind(token)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

pub async fn active_for(pool: &AnyPool, user: UserId) -> Result<Vec<Device>, sqlx::Error> {
    sqlx::query(
        "SELECT id, user_id, platform, token, p256dh, auth_secret FROM devices \
         WHERE user_id = $1 AND deactivated_at IS NULL ORDER BY id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Device {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            platform: r.try_get("platform")?,
            token: r.try_get("token")?,
            p256dh: r.try_get("p256dh")?,
            auth_secret: r.try_get("auth_secret")?,
        })
    })
    .collect()
}
