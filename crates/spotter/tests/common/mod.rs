#![allow(dead_code)] // shared by several test binaries, each using part of it
//! The test harness: a real Spotter on a random port, over a fresh SQLite file or a fresh
//! PostgreSQL schema, on a clock of the test's own, with a cast of users logged in through the
//! real API.
//!
//! - [`app`]: [`TestApp`] and further nodes of the same deployment;
//! - [`db`]: the fresh database, and a look at rows no API shows;
//! - [`wait`]: waiting for events (never for time): frames, round trips, [`eventually`].

mod app;
mod db;
mod wait;

// Each test binary uses part of the harness.
#[allow(unused_imports)]
pub use app::{Node, Person, TestApp, spawn_node};
#[allow(unused_imports)]
pub use db::{Backend, PgSchema, fresh_pg_schema, pg_url};
#[allow(unused_imports)]
pub use wait::{eventually, live, quiet, round_trip};

pub const PASSWORD: &str = "correct-horse-battery";
pub const JWT_SECRET: &str = "test-secret-shared-with-the-host-platform";

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

/// The status a call was refused with (it must have been refused).
pub fn status_of<T: std::fmt::Debug>(answer: spotter_client::Result<T>) -> reqwest::StatusCode {
    answer
        .expect_err("refused")
        .status()
        .expect("refused with an HTTP status")
}

/// The demo trainer (`coach@example.com`) and trainee (`ana@example.com`) of a `spotter serve
/// --demo` running as a process of its own, logged in; and the trainee's id.
pub async fn demo_pair(
    anon: &spotter_client::Client,
) -> (spotter_client::Client, spotter_client::Client, i64) {
    let coach = anon.logged_in("coach@example.com", "spotter-demo").await;
    let ana = anon.logged_in("ana@example.com", "spotter-demo").await;
    let (coach, ana) = (coach.expect("coach logs in"), ana.expect("ana logs in"));
    let ana_id = ana.me().await.expect("ana's account").id;
    (coach, ana, ana_id)
}
