//! The database under test: a fresh SQLite file or a fresh PostgreSQL schema per test, and a
//! connection of the test's own to look at rows no API shows.

use sqlx::{Connection, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL schema, dropped when the test ends.
pub struct PgSchema {
    admin_url: String,
    name: String,
}

impl Drop for PgSchema {
    /// Drops the schema on a thread of its own. It must not block this runtime for long: a
    /// transaction of the server being torn down (on this runtime) may hold a lock the DROP
    /// waits for, and it can only finish if the runtime runs. So wait briefly, then let the
    /// drop finish in the background.
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        let (done, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                for _ in 0..5 {
                    let Ok(mut c) = sqlx::PgConnection::connect(&url).await else {
                        continue;
                    };
                    let _ = sqlx::query("SET lock_timeout = '5s'").execute(&mut c).await;
                    let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                    if sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await
                        .is_ok()
                    {
                        break;
                    }
                }
            });
            let _ = done.send(());
        });
        let _ = finished.recv_timeout(std::time::Duration::from_secs(2));
    }
}

pub fn pg_url() -> String {
    std::env::var("SPOTTER_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema on the test PostgreSQL; fails loudly when PostgreSQL is not there.
pub async fn fresh_pg_schema() -> (String, PgSchema) {
    let admin_url = pg_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL must be reachable at {admin_url} for the test suite: {e}")
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&mut c)
        .await
        .expect("create schema");
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-c%20search_path%3D{name}");
    (url, PgSchema { admin_url, name })
}

/// Runs a query straight on the database at `url` (PostgreSQL) or in `data_dir` (SQLite), on a
/// connection of the test's own; each value as text, `NULL` for null.
pub async fn sql(url: Option<&str>, data_dir: &std::path::Path, query: &str) -> Vec<Vec<String>> {
    match url {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
            let rows = sqlx::query(sqlx::AssertSqlSafe(query.to_owned()))
                .fetch_all(&mut c)
                .await
                .expect("query");
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            let text = r.try_get::<Option<String>, _>(i).ok().flatten();
                            let int = || r.try_get::<Option<i64>, _>(i).ok().flatten();
                            text.or_else(|| int().map(|n| n.to_string()))
                                .unwrap_or_else(|| "NULL".to_owned())
                        })
                        .collect()
                })
                .collect()
        }
        None => {
            use rusqlite::types::ValueRef;
            let c = rusqlite::Connection::open(data_dir.join("spotter.db")).expect("open");
            let mut stmt = c.prepare(query).expect("prepare");
            let n = stmt.column_count();
            stmt.query_map([], |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => "NULL".to_owned(),
                            ValueRef::Integer(v) => v.to_string(),
                            ValueRef::Real(v) => v.to_string(),
                            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                            ValueRef::Blob(_) => "BLOB".to_owned(),
                        })
                    })
                    .collect()
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
        }
    }
}
