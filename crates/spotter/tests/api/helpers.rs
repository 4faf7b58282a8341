#![allow(dead_code)] // shared by several test binaries, each using part of it
//! The test harness: a real Spotter on a random port, over a fresh SQLite file or a fresh
//! PostgreSQL schema, with a cast of users logged in through the real API.

use std::sync::OnceLock;

use spotter::domain::model::{Role, UserId};
use spotter::state::AppState;
use spotter::store::NewUser;
use spotter::{Application, Config};
use spotter_client::Client;
use sqlx::{Connection, Row};

pub const PASSWORD: &str = "correct-horse-battery";
pub const JWT_SECRET: &str = "test-secret-shared-with-the-host-platform";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await
            }
        }
    )*};
}

/// Someone who uses Spotter in a test.
#[derive(Clone)]
pub struct Person {
    pub id: i64,
    pub email: String,
    pub client: Client,
}

/// A fresh PostgreSQL schema, dropped when the test ends.
struct PgSchema {
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
async fn fresh_pg_schema() -> (String, PgSchema) {
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

pub struct TestApp {
    pub url: String,
    /// The configuration it runs with (a second node can share it).
    pub config: Config,
    pub state: AppState,
    pub anon: Client,
    pub admin: Person,
    /// Trainer of `trainee` and `trainee2`.
    pub trainer: Person,
    pub trainee: Person,
    pub trainee2: Person,
    /// Another trainer, with a trainee of their own.
    pub other_trainer: Person,
    pub other_trainee: Person,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    _pg: Option<PgSchema>,
}

/// One Argon2 hash for every test user: hashing is the slow part of making users.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(spotter::auth::password::hash(PASSWORD.to_owned()))
            .expect("hash")
    })
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a configuration tweak (rate limits, …).
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::for_data_dir(dir.path().to_path_buf());
        config.jwt_secret = Some(spotter::config::Secret(JWT_SECRET.to_owned()));
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let (url, guard) = fresh_pg_schema().await;
                config.database_url = Some(url);
                config.db_max_connections = 5;
                Some(guard)
            }
        };
        tweak(&mut config);
        let hash = tokio::task::spawn_blocking(password_hash)
            .await
            .expect("hash");
        let app = Application::build(config.clone()).await.expect("build app");
        let state = app.state().clone();
        let url = app.url();
        let server = tokio::spawn(async move {
            let _ = app.run_until_stopped(std::future::pending()).await;
        });
        let anon = Client::new(&url).expect("client");

        let add = |email: &'static str, role: Role, first: &'static str, parent: Option<i64>| {
            let state = state.clone();
            async move {
                let new = NewUser {
                    email,
                    password_hash: hash,
                    first_name: first,
                    last_name: "Test",
                    role,
                    parent_trainer_id: parent.map(UserId),
                };
                state
                    .store
                    .insert_user(&new, state.clock.now())
                    .await
                    .expect("insert user")
                    .get()
            }
        };
        let admin = add("admin@test.io", Role::Admin, "Ada", None).await;
        let trainer = add("trainer@test.io", Role::Trainer, "Tess", None).await;
        let other_trainer = add("other.trainer@test.io", Role::Trainer, "Omar", None).await;
        let trainee = add("trainee@test.io", Role::Trainee, "Tia", Some(trainer)).await;
        let trainee2 = add("trainee2@test.io", Role::Trainee, "Theo", Some(trainer)).await;
        let other_trainee = add(
            "other.trainee@test.io",
            Role::Trainee,
            "Olga",
            Some(other_trainer),
        )
        .await;

        let person = |id: i64, email: &'static str| {
            let anon = anon.clone();
            async move {
                let client = anon.logged_in(email, PASSWORD).await.expect("login");
                Person {
                    id,
                    email: email.to_owned(),
                    client,
                }
            }
        };
        Self {
            admin: person(admin, "admin@test.io").await,
            trainer: person(trainer, "trainer@test.io").await,
            trainee: person(trainee, "trainee@test.io").await,
            trainee2: person(trainee2, "trainee2@test.io").await,
            other_trainer: person(other_trainer, "other.trainer@test.io").await,
            other_trainee: person(other_trainee, "other.trainee@test.io").await,
            url,
            state,
            anon,
            config,
            server: Some(server),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Adds a user straight into the store (for bulk fixtures) and returns its id.
    pub async fn add_user(&self, email: &str, role: Role, parent: Option<i64>) -> i64 {
        let hash = tokio::task::spawn_blocking(password_hash)
            .await
            .expect("hash");
        let new = NewUser {
            email,
            password_hash: hash,
            first_name: "Bulk",
            last_name: email,
            role,
            parent_trainer_id: parent.map(UserId),
        };
        self.state
            .store
            .insert_user(&new, self.state.clock.now())
            .await
            .expect("insert user")
            .get()
    }

    /// The trainer starts a conversation with `trainee` straight through the store (fixtures
    /// of many conversations, where the API's start limit would bite).
    pub async fn store_start(&self, trainee: i64, text: &str) {
        let trainer = self
            .state
            .store
            .user(UserId(self.trainer.id))
            .await
            .unwrap()
            .unwrap();
        let start = spotter::store::StartSend {
            trainer: trainer.as_sender(),
            trainee: UserId(trainee),
            body: spotter::domain::input::MessageBody::parse(text).unwrap(),
            cmid: None,
        };
        self.state
            .store
            .start(std::sync::Arc::new(start), self.state.clock.now())
            .await
            .unwrap();
    }

    /// Deactivates an account (an operator's action; no API does it).
    pub async fn deactivate(&self, user: i64) {
        let now = self.state.clock.now();
        assert!(
            self.state
                .store
                .set_active(UserId(user), false, now)
                .await
                .unwrap()
        );
    }

    /// Deletes an account (as the original platform's account deletion does).
    pub async fn delete_user(&self, user: i64) {
        assert!(self.state.store.delete_user(UserId(user)).await.unwrap());
    }

    /// The platforms of a user's active push devices, in the order registered.
    pub async fn active_platforms(&self, user: i64) -> Vec<&'static str> {
        self.state
            .store
            .active_devices(UserId(user))
            .await
            .unwrap()
            .iter()
            .map(|d| d.platform.as_str())
            .collect()
    }

    /// Runs a query straight on the database, on a connection of the test's own (to look at
    /// what no API shows: outbox outcomes, job states); each value as text, `NULL` for null.
    pub async fn sql(&self, query: &str) -> Vec<Vec<String>> {
        match &self.config.database_url {
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
                let path = self.config.data_dir.join("spotter.db");
                let c = rusqlite::Connection::open(path).expect("open");
                let mut stmt = c.prepare(query).expect("prepare");
                let n = stmt.column_count();
                stmt.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                                rusqlite::types::ValueRef::Real(v) => v.to_string(),
                                rusqlite::types::ValueRef::Text(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                                rusqlite::types::ValueRef::Blob(_) => "BLOB".to_owned(),
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

    /// The first column of each row of `query`.
    pub async fn column(&self, query: &str) -> Vec<String> {
        self.sql(query)
            .await
            .into_iter()
            .map(|mut r| r.swap_remove(0))
            .collect()
    }

    /// Starts the trainer ↔ trainee conversation with a first message; returns its id.
    pub async fn conversation(&self) -> i64 {
        self.trainer
            .client
            .start(self.trainee.id, "Welcome!", None)
            .await
            .expect("start")
            .1
            .conversation_id
    }
}

/// Another server on the same configuration (same database, same secret, same Redis): what a
/// second node of a deployment is.
pub struct Node {
    pub url: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Node {
    /// Stops it as SIGTERM would (sockets closed with 1001) and waits until it is gone.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

pub async fn spawn_node(mut config: Config) -> Node {
    config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let app = Application::build(config).await.expect("build node");
    let url = app.url();
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = app
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await;
    });
    Node {
        url,
        state,
        stop: Some(stop),
        task,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.abort();
        }
    }
}

/// Sends a ping and reads until its pong (10 s at most): the socket is subscribed, and every
/// frame it sent before has been handled.
pub async fn round_trip(sock: &mut spotter_client::Socket) {
    use spotter_client::{Incoming, ServerFrame};
    sock.send_json(&serde_json::json!({"type": "ping"}))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, sock.next())
            .await
            .expect("no pong within 10 s")
        {
            Some(Incoming::Frame(ServerFrame::Pong)) => return,
            Some(_) => {}
            None => panic!("the socket ended before its pong"),
        }
    }
}

/// A conversation (or user) socket that is surely subscribed: connect, then a ping round trip.
pub async fn live(client: &Client, conversation: Option<i64>) -> spotter_client::Socket {
    let mut s = client.socket(conversation, None).await.unwrap();
    round_trip(&mut s).await;
    s
}
