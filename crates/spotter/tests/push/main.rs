//! Push notifications end to end, against real protocol peers on loopback.

#[path = "../api/helpers.rs"]
mod helpers;
mod peers;

use std::time::Duration;

use serde_json::json;
use spotter::Config;

use helpers::{Backend, TestApp};
use peers::{FakeFcm, PushService, Reply};

const SUBJECT: &str = "mailto:push-test@example.com";

struct Push {
    app: TestApp,
    fcm: FakeFcm,
    web: PushService,
    conv: i64,
    _dir: tempfile::TempDir,
}

/// A server wired to the fake FCM and the Web Push receiver, with short timings.
async fn setup(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Push {
    let fcm = FakeFcm::start().await;
    let web = PushService::start(SUBJECT).await;
    let dir = tempfile::tempdir().unwrap();
    let sa = fcm.service_account(dir.path());
    let app = TestApp::spawn_with(backend, |c| {
        c.fcm_service_account = Some(sa);
        c.fcm_endpoint = fcm.url.clone();
        c.vapid_subject = SUBJECT.to_owned();
        c.push_allow_private_endpoints = true;
        c.push_coalesce_ms = 300;
        c.push_tick_ms = 50;
        c.push_backoff_ms = 200;
        c.push_lease_secs = 2;
        tweak(c);
    })
    .await;
    let conv = app.conversation().await;
    // The welcome message's outbox row settles (no devices yet) before the test starts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while outcomes(&app).await.iter().any(|o| o == "pending") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox did not settle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Push {
        app,
        fcm,
        web,
        conv,
        _dir: dir,
    }
}

async fn outcomes(app: &TestApp) -> Vec<String> {
    app.column("SELECT COALESCE(outcome, 'pending') FROM push_outbox ORDER BY id")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_and_web_push_deliver_the_contracts_payload() {
    let p = setup(Backend::Sqlite, |_| {}).await;
    let sub = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&json!({"token": "android-token-1", "platform": "android"}))
        .await
        .unwrap();
    p.app
        .trainee
        .client
        .register_device(&sub.register_body())
        .await
        .unwrap();
    let (_, m) = p
        .app
        .trainer
        .client
        .send(p.conv, &"Leg day! ".repeat(20), None)
        .await
        .unwrap();

    let fcm = p.fcm.peer.wait_for(1).await;
    let web = p.web.peer.wait_for(1).await;
    let expected_body: String = m.content.chars().take(100).collect();
    assert_eq!(fcm[0]["token"], "android-token-1");
    assert_eq!(
        fcm[0]["notification"]["title"],
        "New message from Tess Test"
    );
    assert_eq!(fcm[0]["notification"]["body"], expected_body.as_str());
    assert_eq!(
        fcm[0]["data"],
        json!({"type": "direct_message", "conversation_id": p.conv.to_string(), "sender_id": p.app.trainer.id.to_string(), "badge": "2"})
    );
    assert_eq!(
        web[0],
        json!({"title": "New message from Tess Test", "body": expected_body, "badge": 2,
               "data": {"type": "direct_message", "conversation_id": p.conv.to_string(), "sender_id": p.app.trainer.id.to_string()}})
    );
    assert!(
        p.fcm.peer.log.lock().unwrap().token_exchanges >= 1,
        "OAuth2 exchange happened"
    );
    assert_eq!(p.fcm.peer.violations(), Vec::<String>::new());
    assert_eq!(p.web.peer.violations(), Vec::<String>::new());
    // The VAPID key the browser subscribes with is the one that signed.
    let key = p
        .app
        .anon
        .raw(reqwest::Method::GET, "api/push/vapid-public-key/", None)
        .await
        .unwrap()
        .body;
    assert_eq!(
        key["public_key"].as_str().unwrap().len(),
        87,
        "65 bytes, base64url"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_push_while_reading_nor_once_read() {
    let p = setup(Backend::Sqlite, |_| {}).await;
    let sub = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&sub.register_body())
        .await
        .unwrap();
    let before = outcomes(&p.app).await.len();
    // The trainee has the conversation open on a live socket.
    let open = helpers::live(&p.app.trainee.client, Some(p.conv)).await;
    p.app
        .trainer
        .client
        .send(p.conv, "you are reading this", None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    open.close().await;
    // Not open, but read at once.
    p.app
        .trainer
        .client
        .send(p.conv, "read before the push", None)
        .await
        .unwrap();
    p.app.trainee.client.mark_read(p.conv).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(outcomes(&p.app).await[before..], ["reading", "read"]);
    assert!(p.web.peer.delivered().is_empty());
    // And a message nobody read is pushed.
    p.app
        .trainer
        .client
        .send(p.conv, "now push", None)
        .await
        .unwrap();
    assert_eq!(p.web.peer.wait_for(1).await[0]["body"], "now push");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_becomes_one_notification() {
    let p = setup(Backend::Postgres, |c| c.push_coalesce_ms = 800).await;
    let sub = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&sub.register_body())
        .await
        .unwrap();
    for text in ["one", "two", "three"] {
        p.app.trainer.client.send(p.conv, text, None).await.unwrap();
    }
    let got = p.web.peer.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        p.web.peer.delivered().len(),
        1,
        "one notification for the burst"
    );
    assert_eq!(got[0]["title"], "3 new messages from Tess Test");
    assert_eq!(got[0]["body"], "three");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_backoff_gone_devices_deactivated_and_hopeless_ones_dead_lettered()
 {
    let p = setup(Backend::Sqlite, |c| c.push_max_attempts = 3).await;
    let alive = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&alive.register_body())
        .await
        .unwrap();
    p.app
        .trainee
        .client
        .register_device(&json!({"token": "android-token-2", "platform": "android"}))
        .await
        .unwrap();
    // Web Push: a 500, then success. FCM: 429 with Retry-After 1, then success.
    p.web.peer.script(&[Reply::status(500)]);
    p.fcm.peer.script(&[Reply {
        status: 429,
        retry_after: Some(1),
        hold: None,
    }]);
    let sent_at = tokio::time::Instant::now();
    p.app
        .trainer
        .client
        .send(p.conv, "retry me", None)
        .await
        .unwrap();
    assert_eq!(p.web.peer.wait_for(1).await[0]["body"], "retry me");
    p.fcm.peer.wait_for(1).await;
    assert!(
        sent_at.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(p.web.peer.log.lock().unwrap().requests, 2);

    // A device the service calls gone (410) is deactivated; one that always fails is dead-lettered.
    p.web.peer.script(&[Reply::status(410)]);
    p.fcm
        .peer
        .script(&[Reply::status(503), Reply::status(503), Reply::status(503)]);
    p.app
        .trainer
        .client
        .send(p.conv, "second", None)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = p
            .app
            .sql("SELECT state, attempts, last_error FROM push_jobs ORDER BY id")
            .await;
        let states: Vec<(String, i64)> = rows
            .iter()
            .map(|r| (r[0].clone(), r[1].parse().unwrap()))
            .collect();
        if states.len() == 4 && states[2..].iter().all(|(s, _)| s != "pending") {
            let mut tail = states[2..].to_vec();
            tail.sort();
            assert_eq!(tail, vec![("dead".to_owned(), 3), ("gone".to_owned(), 1)]);
            let dead_reason = &rows.iter().find(|r| r[0] == "dead").unwrap()[2];
            assert!(dead_reason.contains("503"), "{dead_reason}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not settle: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        p.app.active_platforms(p.app.trainee.id).await,
        vec!["android"],
        "the gone browser is off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_previews_no_content_leaves_the_server() {
    let p = setup(Backend::Sqlite, |c| c.push_preview = false).await;
    let sub = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&sub.register_body())
        .await
        .unwrap();
    p.app
        .trainee
        .client
        .register_device(&json!({"token": "ios-token", "platform": "ios"}))
        .await
        .unwrap();
    p.app
        .trainer
        .client
        .send(p.conv, "secret squat program", None)
        .await
        .unwrap();
    let web = p.web.peer.wait_for(1).await;
    let fcm = p.fcm.peer.wait_for(1).await;
    for payload in [web[0].to_string(), fcm[0].to_string()] {
        assert!(
            !payload.contains("secret") && !payload.contains("Tess"),
            "{payload}"
        );
        assert!(payload.contains("New message"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_before_or_during_delivery_delivers_each_notification_once_after_restart() {
    // The real binary, killed with SIGKILL, on one SQLite file.
    let fcm = FakeFcm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sa = fcm.service_account(dir.path());
    let data = dir.path().join("data");
    let spawn = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_spotter"))
            .args(["serve", "--demo"])
            .env("SPOTTER_BIND", format!("127.0.0.1:{port}"))
            .env("SPOTTER_DATA_DIR", &data)
            .env("SPOTTER_FCM_SERVICE_ACCOUNT", &sa)
            .env("SPOTTER_FCM_ENDPOINT", &fcm.url)
            .env("SPOTTER_PUSH_COALESCE_MS", "1500")
            .env("SPOTTER_PUSH_TICK_MS", "50")
            .env("SPOTTER_PUSH_LEASE_SECS", "2")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/");
    let anon = spotter_client::Client::new(&base).unwrap();
    let up = |anon: spotter_client::Client| async move {
        for _ in 0..200 {
            if anon
                .raw(reqwest::Method::GET, "readyz", None)
                .await
                .is_ok_and(|r| r.status == 200)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not come up");
    };
    let mut server = spawn(port);
    up(anon.clone()).await;
    let coach = anon
        .logged_in("coach@example.com", "spotter-demo")
        .await
        .unwrap();
    let ana = anon
        .logged_in("ana@example.com", "spotter-demo")
        .await
        .unwrap();
    let ana_id = ana.me().await.unwrap().id;
    ana.register_device(&json!({"token": "ana-phone", "platform": "android"}))
        .await
        .unwrap();

    // Killed between commit and delivery (inside the coalescing window).
    let (_, first) = coach.start(ana_id, "first", None).await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    server = spawn(port);
    up(anon.clone()).await;
    assert_eq!(
        fcm.peer.wait_for(1).await[0]["notification"]["body"],
        "first"
    );

    // Killed while FCM holds the request open: the lease runs out and the job is redone once.
    fcm.peer.script(&[Reply {
        status: 200,
        retry_after: None,
        hold: Some(Duration::from_secs(6)),
    }]);
    coach
        .send(first.conversation_id, "second", None)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fcm.peer.log.lock().unwrap().requests < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second push was not attempted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    server = spawn(port);
    up(anon.clone()).await;
    let got = fcm.peer.wait_for(2).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let bodies: Vec<String> = fcm
        .peer
        .delivered()
        .iter()
        .map(|m| m["notification"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(got[1]["notification"]["body"], "second");
    assert_eq!(
        bodies.iter().filter(|b| *b == "first").count(),
        1,
        "{bodies:?}"
    );
    // The held request's connection died with the server, so the fake never completed it: the
    // push service saw the notification completed exactly once, by the restarted server.
    assert_eq!(
        bodies.iter().filter(|b| *b == "second").count(),
        1,
        "{bodies:?}"
    );
    server.kill().unwrap();
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_socket_focused_on_the_conversation_counts_as_reading() {
    let p = setup(Backend::Sqlite, |_| {}).await;
    let sub = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&sub.register_body())
        .await
        .unwrap();
    let before = outcomes(&p.app).await.len();
    let mut dashboard = p.app.trainee.client.socket(None, None).await.unwrap();
    dashboard
        .send_json(&json!({"type": "focus", "conversation_id": p.conv}))
        .await
        .unwrap();
    helpers::round_trip(&mut dashboard).await;
    p.app
        .trainer
        .client
        .send(p.conv, "seen on the dashboard", None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    dashboard
        .send_json(&json!({"type": "focus", "conversation_id": null}))
        .await
        .unwrap();
    helpers::round_trip(&mut dashboard).await;
    p.app
        .trainer
        .client
        .send(p.conv, "the tab is elsewhere", None)
        .await
        .unwrap();
    assert_eq!(
        p.web.peer.wait_for(1).await[0]["body"],
        "the tab is elsewhere"
    );
    assert_eq!(outcomes(&p.app).await[before..], ["reading", "notified"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_on_another_node_suppresses_the_push() {
    let redis_channel = format!("push-presence:{}", uuid::Uuid::new_v4().simple());
    let p = setup(Backend::Postgres, |c| {
        c.redis_url = Some(
            std::env::var("SPOTTER_TEST_REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        );
        c.redis_channel = redis_channel.clone();
    })
    .await;
    let sub = p.web.subscribe();
    p.app
        .trainee
        .client
        .register_device(&sub.register_body())
        .await
        .unwrap();
    // The only worker is node A's; the trainee reads on node B.
    let mut config_b = p.app.config.clone();
    config_b.push_worker = false;
    let node = helpers::spawn_node(config_b).await;
    let on_b = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(p.app.trainee.client.token().unwrap());
    let before = outcomes(&p.app).await.len();
    let mut open = on_b.socket(Some(p.conv), None).await.unwrap();
    helpers::round_trip(&mut open).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    p.app
        .trainer
        .client
        .send(p.conv, "read on node B", None)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while outcomes(&p.app).await[before..]
        .iter()
        .any(|o| o == "pending")
    {
        assert!(tokio::time::Instant::now() < deadline, "not planned");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outcomes(&p.app).await[before..], ["reading"]);
    assert!(p.web.peer.delivered().is_empty());
    node.stop().await;
}

/// Finished outbox rows are purged after their retention; pending ones never are.
async fn finished_outbox_rows_are_purged_and_pending_ones_kept(backend: Backend) {
    let p = setup(backend, |_| {}).await;
    let store = &p.app.state.store;
    assert_eq!(outcomes(&p.app).await, ["no_devices"]);
    p.app
        .trainer
        .client
        .send(p.conv, "still pending", None)
        .await
        .unwrap();
    // Everything finished up to now goes; the new row is still waiting out its coalescing.
    let gone = store
        .purge_outbox(p.app.state.clock.now() + 1)
        .await
        .unwrap();
    assert_eq!(gone, 1);
    assert_eq!(outcomes(&p.app).await, ["pending"]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while outcomes(&p.app).await != ["no_devices"] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the row never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Rows finished after the cut-off stay.
    let kept = store.purge_outbox(0).await.unwrap();
    assert_eq!(kept, 0);
    assert_eq!(outcomes(&p.app).await, ["no_devices"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_outbox_rows_are_purged_sqlite() {
    finished_outbox_rows_are_purged_and_pending_ones_kept(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_outbox_rows_are_purged_postgres() {
    finished_outbox_rows_are_purged_and_pending_ones_kept(Backend::Postgres).await;
}
