//! Refresh-token rotation state: which refresh tokens were spent, which families revoked.

use sqlx::AnyConnection;

use crate::clock::Micros;
use crate::domain::model::UserId;

pub async fn family_revoked(conn: &mut AnyConnection, family: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 AS x FROM revoked_token_families WHERE family = $1")
            .bind(family)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Records a refresh token as spent; `false` if it already was (a replay).
pub async fn spend(
    conn: &mut AnyConnection,
    jti: &str,
    family: &str,
    user: UserId,
    now: Micros,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO spent_refresh_tokens (jti, family, user_id, used_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (jti) DO NOTHING RETURNING jti",
    )
    .bind(jti)
    .bind(family)
    .bind(user)
    .bind(now)
    .fetch_optional(conn)
    .await?
    .is_some())
}

pub async fn revoke_family(
    conn: &mut AnyConnection,
    family: &str,
    now: Micros,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO revoked_token_families (family, revoked_at) VALUES ($1, $2) ON CONFLICT (family) DO NOTHING")
        .bind(family)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}
