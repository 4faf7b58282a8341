//! A real Spotter per test: its own data folder or PostgreSQL schema, a manual clock that
//! stands still until the test moves it, and six users logged in through the API.

use std::sync::OnceLock;
use std::time::Duration;

use spotter::clock::Clock;
use spotter::domain::model::{Role, UserId};
use spotter::state::AppState;
use spotter::store::{NewUser, StartSend};
use spotter::{Application, Config};
use spotter_client::Client;

use super::db::{Backend, PgSchema, fresh_pg_schema, sql};
use super::{JWT_SECRET, PASSWORD};

/// Someone who uses Spotter in a test.
#[derive(Clone)]
pub struct Person {
    pub id: i64,
    pub email: String,
    pub client: Client,
}

pub struct TestApp {
    pub url: String,
    /// The configuration it runs with (a second node can share it).
    pub config: Config,
    /// The server's clock: it moves only when the test says ([`TestApp::advance`]).
    pub clock: Clock,
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
        let clock = Clock::manual_from_now();
        let app = Application::build_on(config.clone(), clock.clone())
            .await
            .expect("build app");
        let state = app.state().clone();
        let url = app.url();
        let server = tokio::spawn(async move {
            let _ = app.run_until_stopped(std::future::pending()).await;
        });
        let anon = Client::new(&url).expect("client");
        let cast = [
            ("admin@test.io", Role::Admin, "Ada", None),
            ("trainer@test.io", Role::Trainer, "Tess", None),
            ("other.trainer@test.io", Role::Trainer, "Omar", None),
            ("trainee@test.io", Role::Trainee, "Tia", Some(1)),
            ("trainee2@test.io", Role::Trainee, "Theo", Some(1)),
            ("other.trainee@test.io", Role::Trainee, "Olga", Some(2)),
        ];
        let mut people: Vec<Person> = Vec::new();
        for (email, role, first, trainer) in cast {
            let parent = trainer.map(|i: usize| people[i].id);
            let id = insert_user(&state, email, role, first, "Test", parent).await;
            let client = anon.logged_in(email, PASSWORD).await.expect("login");
            let email = email.to_owned();
            people.push(Person { id, email, client });
        }
        let mut people = people.into_iter();
        let mut next = || people.next().expect("a person");
        Self {
            admin: next(),
            trainer: next(),
            other_trainer: next(),
            trainee: next(),
            trainee2: next(),
            other_trainee: next(),
            url,
            state,
            anon,
            config,
            clock,
            server: Some(server),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Moves the server's clock forward: every timer it passes fires (typing expiry, pings,
    /// push coalescing and retries, leases, rate-limit refills).
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Another node of the same deployment: same configuration and clock.
    pub async fn node(&self) -> Node {
        spawn_node(self.config.clone(), self.clock.clone()).await
    }

    /// The trainer impersonating their trainee (a read-only token).
    pub async fn trainer_as_trainee(&self) -> Client {
        let imp = self
            .trainer
            .client
            .impersonate_trainee(self.trainee.id)
            .await;
        self.anon.with_token(imp.expect("impersonation").access)
    }

    /// The admin impersonating the trainer (a read-only token).
    pub async fn admin_as_trainer(&self) -> Client {
        let imp = self.admin.client.admin_impersonate(self.trainer.id).await;
        self.anon.with_token(imp.expect("impersonation").access)
    }

    /// Adds a user straight into the store (for bulk fixtures) and returns its id.
    pub async fn add_user(&self, email: &str, role: Role, parent: Option<i64>) -> i64 {
        insert_user(&self.state, email, role, "Bulk", email, parent).await
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

    /// The trainer starts a conversation with `trainee` straight through the store (fixtures
    /// of many conversations, where the API's start limit would bite).
    pub async fn store_start(&self, trainee: i64, text: &str) {
        let store = &self.state.store;
        let trainer = store.user(UserId(self.trainer.id)).await.unwrap().unwrap();
        let start = StartSend {
            image: None,
            image_deadline: None,
            trainer: trainer.as_sender(),
            trainee: UserId(trainee),
            body: spotter::domain::input::MessageBody::parse(text).unwrap(),
            cmid: None,
        };
        store.start(start).await.unwrap();
    }

    /// Deactivates an account (an operator's action; no API does it).
    pub async fn deactivate(&self, user: i64) {
        let store = &self.state.store;
        let now = self.clock.now();
        assert!(store.set_active(UserId(user), false, now).await.unwrap());
    }

    /// Deletes an account (as the original platform's account deletion does).
    pub async fn delete_user(&self, user: i64) {
        assert!(self.state.store.delete_user(UserId(user)).await.unwrap());
    }

    /// The platforms of a user's active push devices, in the order registered.
    pub async fn active_platforms(&self, user: i64) -> Vec<&'static str> {
        let devices = self.state.store.active_devices(UserId(user)).await.unwrap();
        devices.iter().map(|d| d.platform.as_str()).collect()
    }

    /// Runs a query straight on the database (to look at what no API shows: outbox outcomes,
    /// job states); each value as text, `NULL` for null.
    pub async fn sql(&self, query: &str) -> Vec<Vec<String>> {
        sql(
            self.config.database_url.as_deref(),
            &self.config.data_dir,
            query,
        )
        .await
    }

    /// The first column of each row of `query`.
    pub async fn column(&self, query: &str) -> Vec<String> {
        let rows = self.sql(query).await;
        rows.into_iter().map(|mut r| r.swap_remove(0)).collect()
    }
}

async fn insert_user(
    state: &AppState,
    email: &str,
    role: Role,
    first: &str,
    last: &str,
    parent: Option<i64>,
) -> i64 {
    let hash = tokio::task::spawn_blocking(password_hash)
        .await
        .expect("hash");
    let new = NewUser {
        email,
        password_hash: hash,
        first_name: first,
        last_name: last,
        role,
        parent_trainer_id: parent.map(UserId),
    };
    let now = state.clock.now();
    state
        .store
        .insert_user(&new, now)
        .await
        .expect("insert user")
        .get()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            s.abort();
        }
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

pub async fn spawn_node(mut config: Config, clock: Clock) -> Node {
    config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let app = Application::build_on(config, clock)
        .await
        .expect("build node");
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
