//! The real binary, killed with SIGKILL before or during a delivery, on one SQLite file: after
//! a restart each notification is delivered exactly once. A separate process runs on the
//! system clock; the test waits for what the push service and the database show, never for
//! time.

use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::helpers::eventually;
use crate::peers::{FakeFcm, Reply};

struct Server {
    port: u16,
    data: std::path::PathBuf,
    service_account: std::path::PathBuf,
    fcm: String,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_spotter"))
            .args(["serve", "--demo"])
            .env("SPOTTER_BIND", format!("127.0.0.1:{}", self.port))
            .env("SPOTTER_DATA_DIR", &self.data)
            .env("SPOTTER_FCM_SERVICE_ACCOUNT", &self.service_account)
            .env("SPOTTER_FCM_ENDPOINT", &self.fcm)
            .env("SPOTTER_PUSH_COALESCE_MS", "1500")
            .env("SPOTTER_PUSH_TICK_MS", "50")
            .env("SPOTTER_PUSH_LEASE_SECS", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Rows of the push tables still waiting (outbox rows not planned, jobs not finished).
    fn unsettled(&self) -> i64 {
        let c = rusqlite::Connection::open(self.data.join("spotter.db")).unwrap();
        c.query_row(
            "SELECT (SELECT COUNT(*) FROM push_outbox WHERE done_at IS NULL) + \
             (SELECT COUNT(*) FROM push_jobs WHERE state = 'pending')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn up(anon: &spotter_client::Client) {
    eventually("the server to be ready", || async {
        let ready = anon.raw(reqwest::Method::GET, "readyz", None).await;
        ready.is_ok_and(|r| r.status == 200).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_before_or_during_delivery_delivers_each_notification_once_after_restart() {
    let fcm = FakeFcm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Server {
        port,
        data: dir.path().join("data"),
        service_account: fcm.service_account(dir.path()),
        fcm: fcm.url.clone(),
        child: None,
    };
    let anon = spotter_client::Client::new(&format!("http://127.0.0.1:{port}/")).unwrap();
    server.start();
    up(&anon).await;
    let (coach, ana, ana_id) = crate::helpers::demo_pair(&anon).await;
    ana.register_device(&json!({"token": "ana-phone", "platform": "android"}))
        .await
        .unwrap();

    // Killed between commit and delivery (inside the coalescing window).
    let (_, first) = coach.start(ana_id, "first", None).await.unwrap();
    server.kill();
    server.start();
    up(&anon).await;
    assert_eq!(
        fcm.peer.wait_for(1).await[0]["notification"]["body"],
        "first"
    );

    // Killed while FCM holds the request open: the held request is abandoned with the dead
    // process, and the restarted server takes the job up again once its lease has run out.
    fcm.peer.script(&[Reply {
        status: 200,
        retry_after: None,
        hold: true,
    }]);
    coach
        .send(first.conversation_id, "second", None)
        .await
        .unwrap();
    fcm.peer.wait_for_requests(2).await;
    server.kill();
    eventually("the held request to be abandoned", || async {
        (fcm.peer.log.lock().unwrap().abandoned == 1).then_some(())
    })
    .await;
    server.start();
    up(&anon).await;
    let got = fcm.peer.wait_for(2).await;
    assert_eq!(got[1]["notification"]["body"], "second");
    eventually("every push row to settle", || async {
        (server.unsettled() == 0).then_some(())
    })
    .await;
    let bodies: Vec<String> = fcm
        .peer
        .delivered()
        .iter()
        .map(|m| m["notification"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(bodies, ["first", "second"], "each delivered exactly once");
}
