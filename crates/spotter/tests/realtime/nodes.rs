//! Several nodes through the real Redis, Redis connections killed, slow consumers, shutdown.

use std::time::Duration;

use serde_json::json;
use spotter::Config;
use spotter::state::AppState;
use spotter_client::{ServerFrame, Socket};

use crate::helpers::{Backend, Node, TestApp};
use crate::{closed, eventually, until};

/// Tests that touch Redis connections run one at a time (killing connections is server-wide).
pub static REDIS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn redis_url() -> String {
    std::env::var("SPOTTER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Turns Redis on, on a channel of this test's own.
pub fn with_redis(c: &mut Config) {
    c.redis_url = Some(redis_url());
    c.redis_channel = format!("spotter-test:{}", uuid::Uuid::new_v4().simple());
}

/// Waits until every node's Redis subscriber is connected; fails loudly when Redis is not there.
pub async fn wait_linked(nodes: &[&AppState]) {
    let what = format!("the nodes to link through Redis at {}", redis_url());
    eventually(&what, || async {
        nodes.iter().all(|s| s.bus.connected()).then_some(())
    })
    .await;
}

/// A second node of `app`'s deployment, both linked through Redis; the conversation, and the
/// trainee following it live on the second node.
async fn second_node(app: &TestApp) -> (Node, i64, Socket) {
    let node = app.node().await;
    wait_linked(&[&app.state, &node.state]).await;
    let conv = app.conversation().await;
    let on_b = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    let trainee_b = crate::live(&on_b, Some(conv)).await;
    (node, conv, trainee_b)
}

/// Waits until every node's Redis subscriber has subscribed again since `generations`.
async fn wait_resubscribed(nodes: &[&AppState], generations: &[u64]) {
    eventually("the nodes to resubscribe", || async {
        let again = nodes.iter().zip(generations);
        again
            .clone()
            .all(|(s, g)| s.bus.link_generation() > *g)
            .then_some(())
    })
    .await;
}

async fn redis_cmd(args: &[&str]) -> redis::Value {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_to_each_others_sockets() {
    let _redis = REDIS.lock().await;
    let app = TestApp::spawn_with(Backend::Postgres, with_redis).await;
    let (node, conv, mut trainee_b) = second_node(&app).await;
    let mut trainer_a = crate::live(&app.trainer.client, Some(conv)).await;
    // REST on A → socket on B.
    let (_, m) = app
        .trainer
        .client
        .send(conv, "across nodes", None)
        .await
        .unwrap();
    until(
        &mut trainee_b,
        |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.id == m.id),
    )
    .await;
    // The receipt travels back: B's socket delivered it, A's socket tells the sender.
    until(&mut trainer_a, |f| matches!(f, ServerFrame::DeliveryReceipt { up_to_message_id, .. } if *up_to_message_id == m.id)).await;
    // Socket on B → socket on A, typing and sends alike.
    trainee_b
        .send_json(&json!({"type": "typing", "is_typing": true}))
        .await
        .unwrap();
    until(&mut trainer_a, |f| {
        matches!(
            f,
            ServerFrame::TypingIndicator {
                is_typing: true,
                ..
            }
        )
    })
    .await;
    trainee_b
        .send_json(&json!({"type": "send", "content": "back at you", "client_message_id": "b1"}))
        .await
        .unwrap();
    until(&mut trainer_a, |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.content == "back at you")).await;
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_connection_loses_nothing() {
    let _redis = REDIS.lock().await;
    let app = TestApp::spawn_with(Backend::Postgres, with_redis).await;
    let (node, conv, mut trainee_b) = second_node(&app).await;
    let (_, first) = app
        .trainer
        .client
        .send(conv, "before the cut", None)
        .await
        .unwrap();
    until(
        &mut trainee_b,
        |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.id == first.id),
    )
    .await;

    // Cut every subscriber's connection; sends go on and persist meanwhile.
    let generations = [
        app.state.bus.link_generation(),
        node.state.bus.link_generation(),
    ];
    redis_cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]).await;
    let (status, during) = app
        .trainer
        .client
        .send(conv, "during the cut", None)
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::CREATED);
    // Both nodes resubscribe by themselves.
    wait_resubscribed(&[&app.state, &node.state], &generations).await;
    let (_, after) = app
        .trainer
        .client
        .send(conv, "after the cut", None)
        .await
        .unwrap();
    // The live socket fills any gap from the store before the next message: in order, once.
    let got = crate::messages_until(&mut trainee_b, after.id).await;
    assert_eq!(got, vec![during.id, after.id]);
    node.stop().await;
}

/// A reader that stops reading is closed with 1013 once its queue overflows, and resuming from
/// the last message it saw gives it the rest, each once. The reader keeps the kernel's default
/// buffers: a receive window smaller than one segment stalls TCP on persist-timer backoff.
#[tokio::test]
async fn a_slow_consumer_is_closed_with_1013_and_recovers_by_resuming() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.ws_queue = 4;
        c.send_rate_per_minute = 100_000;
    })
    .await;
    let conv = app.conversation().await;
    let mut slow = crate::live(&app.trainee.client, Some(conv)).await;

    // 8 KB frames (2000 four-byte characters) until the server gives up on the reader: the
    // kernel buffers between it and the reader hold a few MB at most.
    let body = "\u{1F600}".repeat(2000);
    let mut sent = Vec::new();
    while app.state.bus.hub().socket_count() > 0 {
        assert!(
            sent.len() < 5_000,
            "the server never closed a reader that does not read"
        );
        let (_, message) = app.trainer.client.send(conv, &body, None).await.unwrap();
        sent.push(message.id);
    }
    // Now read: what was written, then the close.
    let mut last_seen = 0;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), slow.next())
            .await
            .expect("no frame and no close within 10 s")
        {
            Some(spotter_client::Incoming::Frame(ServerFrame::NewMessage { message, .. })) => {
                assert!(message.id > last_seen, "out of order");
                last_seen = message.id;
            }
            Some(spotter_client::Incoming::Closed(code, _)) => break code,
            Some(_) => {}
            None => panic!("dropped without a close frame"),
        }
    };
    assert_eq!(code, 1013);
    assert!(
        last_seen < *sent.last().unwrap(),
        "the reader got everything"
    );
    // Resume from the last message seen: the rest arrive, each once, in order.
    let mut resumed = app
        .trainee
        .client
        .socket(Some(conv), Some(last_seen))
        .await
        .unwrap();
    let rest: Vec<i64> = sent.iter().copied().filter(|id| *id > last_seen).collect();
    let mut got = Vec::new();
    while got.len() < rest.len() {
        if let ServerFrame::NewMessage { message, .. } = until(&mut resumed, |f| {
            matches!(f, ServerFrame::NewMessage { .. })
        })
        .await
        {
            got.push(message.id);
        }
    }
    assert_eq!(got, rest);
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let node = app.node().await;
    let on_node = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    let mut sock = on_node.socket(Some(conv), None).await.unwrap();
    crate::round_trip(&mut sock).await;
    let stopping = tokio::spawn(node.stop());
    assert_eq!(closed(&mut sock).await, 1001);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the node stopped")
        .unwrap();
}

/// A Redis of this test's own, on a free port, that the test may stop and start again.
struct OwnRedis {
    port: u16,
    child: std::process::Child,
}

impl OwnRedis {
    fn start_on(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the suite");
        Self { port, child }
    }

    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_conversation_loses_nothing() {
    let redis = OwnRedis::start();
    let url = redis.url();
    let app = TestApp::spawn_with(Backend::Postgres, |c| {
        c.redis_url = Some(url.clone());
        c.redis_channel = "restart-test".to_owned();
    })
    .await;
    let (node, conv, mut trainee_b) = second_node(&app).await;

    // Redis goes away: sends still succeed and persist.
    let port = redis.stop();
    let mut during = Vec::new();
    for i in 0..3 {
        let (status, m) = app
            .trainer
            .client
            .send(conv, &format!("while redis is down {i}"), None)
            .await
            .unwrap();
        assert_eq!(status, reqwest::StatusCode::CREATED);
        during.push(m.id);
    }
    // It comes back; the nodes reconnect with backoff by themselves.
    let _redis = OwnRedis::start_on(port);
    let generations = [
        app.state.bus.link_generation(),
        node.state.bus.link_generation(),
    ];
    wait_resubscribed(&[&app.state, &node.state], &generations).await;
    let (_, after) = app
        .trainer
        .client
        .send(conv, "redis is back", None)
        .await
        .unwrap();
    let got = crate::messages_until(&mut trainee_b, after.id).await;
    during.push(after.id);
    assert_eq!(
        got, during,
        "the socket filled the gap from the store: every message once, in order"
    );
    node.stop().await;
}

#[tokio::test]
async fn a_silent_peer_is_dropped() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let mut sock = crate::live(&app.trainee.client, Some(conv)).await;
    // Pinged after 30 s, and heard from since (the client answers pings): still open.
    app.advance(Duration::from_secs(30));
    crate::round_trip(&mut sock).await;
    // Silent for 60 s: the next ping finds it gone quiet and closes it.
    app.advance(Duration::from_secs(60));
    assert_eq!(closed(&mut sock).await, 1001);
}

#[tokio::test]
async fn sigterm_closes_sockets_with_1001_and_exits_0() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    // The real binary, on the same SQLite file and secret as the test app.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spotter"))
        .arg("serve")
        .env("SPOTTER_BIND", format!("127.0.0.1:{port}"))
        .env("SPOTTER_DATA_DIR", app.config.data_dir.as_os_str())
        .env("SPOTTER_JWT_SECRET", crate::helpers::JWT_SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/");
    let client = spotter_client::Client::new(&base)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    let mut sock = eventually("the binary to start", || async {
        client.socket(Some(conv), None).await.ok()
    })
    .await;
    crate::round_trip(&mut sock).await;
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(closed(&mut sock).await, 1001);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "exit 0 after SIGTERM");
}

/// Part C: one bucket of 30 a minute per user, whatever the node: 20 sends on one node and 10
/// edits, deletes and searches on the other fill it; the 31st is refused on either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_bucket_is_shared_by_every_node() {
    let _redis = REDIS.lock().await;
    let app = TestApp::spawn_with(Backend::Sqlite, with_redis).await;
    let (node, conv, _socket) = second_node(&app).await;
    let on_b = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            app.trainee
                .client
                .send(conv, &format!("a{i}"), None)
                .await
                .unwrap()
                .1
                .id,
        );
    }
    for id in &ids[..4] {
        on_b.edit_message(conv, *id, "edited on b").await.unwrap();
    }
    for id in &ids[4..8] {
        on_b.delete_message(conv, *id).await.unwrap();
    }
    for _ in 0..2 {
        on_b.search("a1", 1, None).await.unwrap();
    }
    for c in [&on_b, &app.trainee.client] {
        let r = c
            .raw(reqwest::Method::GET, "/api/messaging/search/?q=a1", None)
            .await
            .unwrap();
        assert_eq!(r.status, reqwest::StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers["retry-after"], "2");
    }
    // Both nodes read the same clock here: two seconds give one slot back, to one node only.
    app.advance(Duration::from_secs(2));
    on_b.search("a1", 1, None).await.unwrap();
    let again = app.trainee.client.search("a1", 1, None).await;
    assert_eq!(
        crate::helpers::status_of(again),
        reqwest::StatusCode::TOO_MANY_REQUESTS
    );
    node.stop().await;
}

/// With Redis unreachable the bucket fails open: sends go on, decided by each node alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_never_fails_a_send() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.redis_url = Some("redis://127.0.0.1:1".to_owned());
        c.redis_channel = format!("spotter-test:{}", uuid::Uuid::new_v4().simple());
    })
    .await;
    let conv = app.conversation().await;
    for i in 0..30 {
        app.trainee
            .client
            .send(conv, &format!("m{i}"), None)
            .await
            .unwrap();
    }
    // The node's own bucket still holds the line.
    let r = app.trainee.client.send(conv, "31st", None).await;
    assert_eq!(
        crate::helpers::status_of(r),
        reqwest::StatusCode::TOO_MANY_REQUESTS
    );
}
