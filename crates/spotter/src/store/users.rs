//! Users: accounts, roles and the trainer ↔ trainee link.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::Db;

use crate::clock::{Micros, now_micros};
use crate::domain::model::{Role, User, UserId};

const COLUMNS: &str = "id, email, first_name, last_name, role, parent_trainer_id, profile_image, \
                       deactivated_at, created_at";

fn from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Decode(format!("role {role}").into()))?,
        parent_trainer_id: row.try_get("parent_trainer_id")?,
        profile_image: row.try_get("profile_image")?,
        is_active: row
            .try_get::<Option<Micros>, _>("deactivated_at")?
            .is_none(),
        created_at: row.try_get("created_at")?,
    })
}

/// [`from_row`] for SQLite's direct reads: the same columns, by position.
fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get(4)?;
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        first_name: row.get(2)?,
        last_name: row.get(3)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("role {role}").into(),
            )
        })?,
        parent_trainer_id: row.get(5)?,
        profile_image: row.get(6)?,
        is_active: row.get::<_, Option<Micros>>(7)?.is_none(),
        created_at: row.get(8)?,
    })
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role: Role,
    pub parent_trainer_id: Option<UserId>,
}

/// Inserts a user; a taken email is a unique violation for the caller to map.
pub async fn insert(pool: &AnyPool, u: &NewUser<'_>) -> Result<UserId, sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (email, password_hash, first_name, last_name, role, parent_trainer_id, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(u.email.to_lowercase())
    .bind(u.password_hash)
    .bind(u.first_name)
    .bind(u.last_name)
    .bind(u.role.as_str())
    .bind(u.parent_trainer_id)
    .bind(now_micros())
    .fetch_one(pool)
    .await?
    .try_get("id")
}

pub async fn by_id(db: &Db, id: UserId) -> Result<Option<User>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    if let Some(reader) = db.direct() {
        return reader.one(&sql, [id], from_sqlite);
    }
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The user and their password hash, for login.
pub async fn by_email_with_hash(
    pool: &AnyPool,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email.trim().to_lowercase())
        .fetch_optional(pool)
        .await?;
    row.map(|r| Ok((from_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

pub async fn by_email(pool: &AnyPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    Ok(by_email_with_hash(pool, email).await?.map(|(u, _)| u))
}

/// A trainer's trainees, optionally filtered by a case-insensitive search over name and email.
pub async fn trainees_of(
    pool: &AnyPool,
    trainer: UserId,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), sqlx::Error> {
    let pattern = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        format!(
            "%{}%",
            s.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    const FILTER: &str = "parent_trainer_id = $1 AND role = 'trainee' AND ($2 IS NULL OR \
        LOWER(first_name) LIKE $2 ESCAPE '\\' OR LOWER(last_name) LIKE $2 ESCAPE '\\' OR \
        email LIKE $2 ESCAPE '\\' OR LOWER(first_name || ' ' || last_name) LIKE $2 ESCAPE '\\')";
    let count: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM users WHERE {FILTER}"
    )))
    .bind(trainer)
    .bind(pattern.clone())
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE {FILTER} ORDER BY first_name, last_name, id LIMIT $3 OFFSET $4"
    )))
    .bind(trainer)
    .bind(pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, count))
}

/// Sets (or clears) a trainee's trainer.
pub async fn set_trainer(
    conn: &mut sqlx::AnyConnection,
    trainee: UserId,
    trainer: Option<UserId>,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE users SET parent_trainer_id = $1 WHERE id = $2")
            .bind(trainer)
            .bind(trainee)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

pub async fn set_active(pool: &AnyPool, user: UserId, active: bool) -> Result<u64, sqlx::Error> {
    let at = (!active).then(now_micros);
    Ok(
        sqlx::query("UPDATE users SET deactivated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

pub async fn delete(pool: &AnyPool, user: UserId) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user)
        .execute(pool)
        .await?
        .rows_affected())
}
