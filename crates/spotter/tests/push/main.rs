//! Push notifications end to end, against real protocol peers on loopback, on the server's
//! manual clock: a test moves time past the coalescing window (or a retry's backoff) and
//! waits for the worker's round at that time, then looks at what the peers received.

mod delivery;
#[path = "../common/mod.rs"]
mod helpers;
mod peers;
mod presence;
mod restart;

use std::time::Duration;

use spotter::Config;

use helpers::{Backend, TestApp};
use peers::{FakeFcm, PushService};

const SUBJECT: &str = "mailto:push-test@example.com";
/// The coalescing window the tests run with.
const COALESCE: Duration = Duration::from_millis(300);
/// How often the worker looks for work: the clock must move at least this much for a round.
const TICK: Duration = Duration::from_millis(10);

pub struct Push {
    app: TestApp,
    fcm: FakeFcm,
    web: PushService,
    conv: i64,
    _dir: tempfile::TempDir,
}

impl Push {
    /// A server wired to the fake FCM and the Web Push receiver. The welcome message's outbox
    /// row (no devices yet) is settled before the test starts.
    async fn setup(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let fcm = FakeFcm::start().await;
        let web = PushService::start(SUBJECT).await;
        let dir = tempfile::tempdir().unwrap();
        let sa = fcm.service_account(dir.path());
        let app = TestApp::spawn_with(backend, |c| {
            c.fcm_service_account = Some(sa);
            c.fcm_endpoint = fcm.url.clone();
            c.vapid_subject = SUBJECT.to_owned();
            c.push_allow_private_endpoints = true;
            c.push_coalesce_ms = COALESCE.as_millis() as u64;
            c.push_tick_ms = TICK.as_millis() as u64;
            c.push_backoff_ms = 200;
            c.push_lease_secs = 2;
            tweak(c);
        })
        .await;
        let conv = app.conversation().await;
        let p = Self {
            app,
            fcm,
            web,
            conv,
            _dir: dir,
        };
        p.round_after(COALESCE).await;
        assert_eq!(p.outcomes().await, ["no_devices"]);
        p
    }

    /// Moves the clock on by `by` and waits until the push worker has run its round at the new
    /// time: everything due by then is planned, and every delivery due then attempted.
    async fn round_after(&self, by: Duration) {
        self.app.advance(by);
        let now = self.app.clock.now();
        tokio::time::timeout(Duration::from_secs(20), self.app.state.push.round_done(now))
            .await
            .expect("the push worker ran a round");
    }

    /// Each outbox row's outcome, oldest first (`pending` while not planned).
    async fn outcomes(&self) -> Vec<String> {
        self.app
            .column("SELECT COALESCE(outcome, 'pending') FROM push_outbox ORDER BY id")
            .await
    }

    /// The trainee's browser, subscribed to Web Push.
    async fn browser(&self) {
        let sub = self.web.subscribe();
        let body = sub.register_body();
        self.app
            .trainee
            .client
            .register_device(&body)
            .await
            .unwrap();
    }

    async fn send(&self, text: &str) {
        self.app
            .trainer
            .client
            .send(self.conv, text, None)
            .await
            .unwrap();
    }
}
