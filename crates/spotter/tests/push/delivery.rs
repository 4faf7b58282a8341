//! What is delivered, and how: the contract's payload over FCM and Web Push, one notification
//! per burst, retries with backoff, gone devices, dead letters, previews off, the outbox purge.

use std::time::Duration;

use serde_json::json;

use crate::helpers::Backend;
use crate::peers::Reply;
use crate::{COALESCE, Push, TICK};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_and_web_push_deliver_the_contracts_payload() {
    let p = Push::setup(Backend::Sqlite, |_| {}).await;
    let sub = p.web.subscribe();
    let trainee = &p.app.trainee.client;
    trainee
        .register_device(&json!({"token": "android-token-1", "platform": "android"}))
        .await
        .unwrap();
    trainee.register_device(&sub.register_body()).await.unwrap();
    let (_, m) = p
        .app
        .trainer
        .client
        .send(p.conv, &"Leg day! ".repeat(20), None)
        .await
        .unwrap();
    p.round_after(COALESCE).await;

    let (fcm, web) = (p.fcm.peer.delivered(), p.web.peer.delivered());
    let expected_body: String = m.content.chars().take(100).collect();
    let (conv, trainer) = (p.conv.to_string(), p.app.trainer.id.to_string());
    assert_eq!(fcm[0]["token"], "android-token-1");
    assert_eq!(
        fcm[0]["notification"]["title"],
        "New message from Tess Test"
    );
    assert_eq!(fcm[0]["notification"]["body"], expected_body.as_str());
    assert_eq!(
        fcm[0]["data"],
        json!({"type": "direct_message", "conversation_id": conv, "sender_id": trainer, "badge": "2"})
    );
    assert_eq!(
        web[0],
        json!({"title": "New message from Tess Test", "body": expected_body, "badge": 2,
               "data": {"type": "direct_message", "conversation_id": conv, "sender_id": trainer}})
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
async fn a_burst_becomes_one_notification() {
    let p = Push::setup(Backend::Postgres, |_| {}).await;
    p.browser().await;
    for text in ["one", "two", "three"] {
        p.send(text).await;
    }
    // Not before the window has passed since the first …
    p.round_after(COALESCE - TICK).await;
    assert!(p.web.peer.delivered().is_empty());
    // … then one notification for all three, and no other later.
    p.round_after(TICK).await;
    p.round_after(Duration::from_secs(10)).await;
    let got = p.web.peer.delivered();
    assert_eq!(got.len(), 1, "one notification for the burst");
    assert_eq!(got[0]["title"], "3 new messages from Tess Test");
    assert_eq!(got[0]["body"], "three");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_retried_with_backoff_gone_devices_deactivated_and_hopeless_ones_dead_lettered()
 {
    let p = Push::setup(Backend::Sqlite, |c| c.push_max_attempts = 3).await;
    let alive = p.web.subscribe();
    let trainee = &p.app.trainee.client;
    trainee
        .register_device(&alive.register_body())
        .await
        .unwrap();
    trainee
        .register_device(&json!({"token": "android-token-2", "platform": "android"}))
        .await
        .unwrap();
    // Web Push: a 500, then success (after the 200 ms backoff). FCM: 429 with Retry-After 1,
    // then success (after that second, not the backoff).
    p.web.peer.script(&[Reply::status(500)]);
    p.fcm.peer.script(&[Reply {
        status: 429,
        retry_after: Some(1),
        hold: false,
    }]);
    let requests = |peer: &crate::peers::Peer| peer.log.lock().unwrap().requests;
    p.send("retry me").await;
    p.round_after(COALESCE).await;
    assert_eq!((requests(&p.web.peer), requests(&p.fcm.peer)), (1, 1));
    p.round_after(Duration::from_millis(200)).await;
    assert_eq!(p.web.peer.delivered()[0]["body"], "retry me");
    assert_eq!(requests(&p.fcm.peer), 1, "Retry-After honoured");
    p.round_after(Duration::from_millis(800)).await;
    assert_eq!(p.fcm.peer.delivered().len(), 1);
    assert_eq!(requests(&p.web.peer), 2);

    // A device the service calls gone (410) is deactivated; one that always fails is
    // dead-lettered after three attempts, 200 ms then 400 ms apart.
    p.web.peer.script(&[Reply::status(410)]);
    p.fcm
        .peer
        .script(&[Reply::status(503), Reply::status(503), Reply::status(503)]);
    p.send("second").await;
    p.round_after(COALESCE).await;
    p.round_after(Duration::from_millis(200)).await;
    p.round_after(Duration::from_millis(400)).await;
    let rows = p
        .app
        .sql("SELECT state, attempts, last_error FROM push_jobs ORDER BY id")
        .await;
    let mut tail: Vec<(&str, &str)> = rows[2..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    tail.sort();
    assert_eq!(tail, [("dead", "3"), ("gone", "1")]);
    let dead_reason = &rows.iter().find(|r| r[0] == "dead").unwrap()[2];
    assert!(dead_reason.contains("503"), "{dead_reason}");
    assert_eq!(
        p.app.active_platforms(p.app.trainee.id).await,
        ["android"],
        "the gone browser is off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_previews_no_content_leaves_the_server() {
    let p = Push::setup(Backend::Sqlite, |c| c.push_preview = false).await;
    let sub = p.web.subscribe();
    let trainee = &p.app.trainee.client;
    trainee.register_device(&sub.register_body()).await.unwrap();
    trainee
        .register_device(&json!({"token": "ios-token", "platform": "ios"}))
        .await
        .unwrap();
    p.send("secret squat program").await;
    p.round_after(COALESCE).await;
    let (web, fcm) = (p.web.peer.delivered(), p.fcm.peer.delivered());
    for payload in [web[0].to_string(), fcm[0].to_string()] {
        assert!(
            !payload.contains("secret") && !payload.contains("Tess"),
            "{payload}"
        );
        assert!(payload.contains("New message"));
    }
}

/// Finished outbox rows are purged after their retention; pending ones never are.
async fn finished_outbox_rows_are_purged_and_pending_ones_kept(backend: Backend) {
    let p = Push::setup(backend, |_| {}).await;
    let store = &p.app.state.store;
    p.send("still pending").await;
    // Everything finished up to now goes; the new row is still waiting out its coalescing.
    let gone = store.purge_outbox(p.app.clock.now() + 1).await.unwrap();
    assert_eq!(gone, 1);
    assert_eq!(p.outcomes().await, ["pending"]);
    p.round_after(COALESCE).await;
    assert_eq!(p.outcomes().await, ["no_devices"]);
    // Rows finished after the cut-off stay.
    let kept = store.purge_outbox(0).await.unwrap();
    assert_eq!(kept, 0);
    assert_eq!(p.outcomes().await, ["no_devices"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_outbox_rows_are_purged_sqlite() {
    finished_outbox_rows_are_purged_and_pending_ones_kept(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_outbox_rows_are_purged_postgres() {
    finished_outbox_rows_are_purged_and_pending_ones_kept(Backend::Postgres).await;
}

/// Part C: `new_message` off means no message push for that user (and only that user); a
/// message deleted before its push went out is not announced; an image alone is "Sent a
/// photo" (see the media tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_push_when_message_notifications_are_off_or_the_message_was_deleted() {
    let p = Push::setup(Backend::Sqlite, |_| {}).await;
    let trainee = &p.app.trainee.client;
    trainee
        .register_device(&json!({"token": "android-muted", "platform": "android"}))
        .await
        .unwrap();
    trainee
        .set_notification_preferences(&json!({"new_message": false}))
        .await
        .unwrap();
    p.send("while muted").await;
    p.round_after(COALESCE).await;
    assert_eq!(p.outcomes().await[1..], ["muted"]);
    assert!(p.fcm.peer.delivered().is_empty());

    trainee
        .set_notification_preferences(&json!({"new_message": "on"}))
        .await
        .unwrap();
    let (_, gone) = p
        .app
        .trainer
        .client
        .send(p.conv, "sent by mistake", None)
        .await
        .unwrap();
    p.app
        .trainer
        .client
        .delete_message(p.conv, gone.id)
        .await
        .unwrap();
    p.round_after(COALESCE).await;
    assert_eq!(p.outcomes().await[1..], ["muted", "read"]);
    assert!(p.fcm.peer.delivered().is_empty());

    p.send("back on").await;
    p.round_after(COALESCE).await;
    assert_eq!(p.fcm.peer.delivered().len(), 1);
}
