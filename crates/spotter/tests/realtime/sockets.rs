//! Part A's socket to the letter: close codes, ping/pong, typing, new_message, read_receipt.

use std::time::Duration;

use serde_json::json;
use spotter_client::ServerFrame;

use crate::helpers::{Backend, TestApp};
use crate::{closed, quiet, until};

#[tokio::test]
async fn bad_tokens_close_4001_and_strangers_close_4003() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let no_token = app.anon.socket(Some(conv), None).await.unwrap();
    let bad = app
        .anon
        .with_token("garbage")
        .socket(Some(conv), None)
        .await
        .unwrap();
    let user_bad = app
        .anon
        .with_token("garbage")
        .socket(None, None)
        .await
        .unwrap();
    for mut s in [no_token, bad, user_bad] {
        assert_eq!(closed(&mut s).await, 4001);
    }
    let refresh = app
        .anon
        .login("trainee@test.io", crate::helpers::PASSWORD)
        .await
        .unwrap()
        .refresh;
    assert_eq!(
        closed(
            &mut app
                .anon
                .with_token(refresh)
                .socket(Some(conv), None)
                .await
                .unwrap()
        )
        .await,
        4001,
        "a refresh token is no access token"
    );
    assert_eq!(
        closed(
            &mut app
                .other_trainer
                .client
                .socket(Some(conv), None)
                .await
                .unwrap()
        )
        .await,
        4003
    );
    assert_eq!(
        closed(
            &mut app
                .trainer
                .client
                .socket(Some(999_999), None)
                .await
                .unwrap()
        )
        .await,
        4003
    );
    let junk = app
        .trainer
        .client
        .socket_url(None, None)
        .unwrap()
        .as_str()
        .replace("/ws/messaging/?", "/ws/messaging/abc/?");
    assert_eq!(
        closed(&mut spotter_client::Socket::connect(&junk).await.unwrap()).await,
        4003
    );
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    assert_eq!(
        closed(&mut app.trainer.client.socket(Some(conv), None).await.unwrap()).await,
        4003,
        "archived"
    );
}

#[tokio::test]
async fn ping_typing_messages_and_receipts_flow_both_ways() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let mut coach = app.trainer.client.socket(Some(conv), None).await.unwrap();
    let mut client = app.trainee.client.socket(Some(conv), None).await.unwrap();

    coach.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(until(&mut coach, |_| true).await, ServerFrame::Pong);

    client
        .send_json(&json!({"type": "typing", "is_typing": true}))
        .await
        .unwrap();
    let f = until(&mut coach, |f| {
        matches!(f, ServerFrame::TypingIndicator { .. })
    })
    .await;
    assert_eq!(
        f,
        ServerFrame::TypingIndicator {
            user_id: app.trainee.id,
            is_typing: true,
            conversation_id: Some(conv)
        }
    );
    quiet(&mut client, |f| {
        matches!(f, ServerFrame::TypingIndicator { .. })
    })
    .await;

    // REST send fires new_message to both participants, the sender too.
    let (_, sent) = app
        .trainee
        .client
        .send(conv, "on my way", None)
        .await
        .unwrap();
    for s in [&mut coach, &mut client] {
        match until(s, |f| matches!(f, ServerFrame::NewMessage { .. })).await {
            ServerFrame::NewMessage { message, .. } => assert_eq!(message.id, sent.id),
            _ => unreachable!(),
        }
    }
    // The coach's socket got it: the sender hears it was delivered.
    match until(&mut client, |f| {
        matches!(f, ServerFrame::DeliveryReceipt { .. })
    })
    .await
    {
        ServerFrame::DeliveryReceipt {
            up_to_message_id,
            conversation_id,
            ..
        } => assert_eq!((up_to_message_id, conversation_id), (sent.id, conv)),
        _ => unreachable!(),
    }
    let stored = app.trainee.client.messages(conv, 1).await.unwrap().results;
    assert!(
        stored
            .iter()
            .find(|m| m.id == sent.id)
            .unwrap()
            .delivered_at
            .is_some(),
        "delivered_at is stored"
    );
    // REST read fires read_receipt.
    app.trainer.client.mark_read(conv).await.unwrap();
    match until(&mut client, |f| {
        matches!(f, ServerFrame::ReadReceipt { .. })
    })
    .await
    {
        ServerFrame::ReadReceipt { reader_id, .. } => assert_eq!(reader_id, app.trainer.id),
        _ => unreachable!(),
    }
    // Socket send: ack to the sender, new_message to both.
    coach
        .send_json(&json!({"type": "send", "content": " see you ", "client_message_id": "s-1"}))
        .await
        .unwrap();
    match until(&mut coach, |f| matches!(f, ServerFrame::Ack { .. })).await {
        ServerFrame::Ack {
            client_message_id,
            message,
        } => assert_eq!(
            (client_message_id.as_deref(), message.content.as_str()),
            (Some("s-1"), "see you")
        ),
        _ => unreachable!(),
    }
    until(
        &mut client,
        |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.content == "see you"),
    )
    .await;
    // Socket read marks read like REST.
    client.send_json(&json!({"type": "read"})).await.unwrap();
    until(
        &mut coach,
        |f| matches!(f, ServerFrame::ReadReceipt { reader_id, .. } if *reader_id == app.trainee.id),
    )
    .await;
    assert_eq!(app.trainee.client.unread_count().await.unwrap(), 0);
}

#[tokio::test]
async fn typing_expires_without_refresh_and_clears_when_the_typist_leaves() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.typing_ttl_ms = 6000).await;
    let conv = app.conversation().await;
    let mut coach = crate::live(&app.trainer.client, Some(conv)).await;
    let mut client = crate::live(&app.trainee.client, Some(conv)).await;
    let typing = |on: bool| move |f: &ServerFrame| matches!(f, ServerFrame::TypingIndicator { is_typing, .. } if *is_typing == on);
    let cleared = typing(false);
    client
        .send_json(&json!({"type": "typing", "is_typing": true}))
        .await
        .unwrap();
    until(&mut coach, typing(true)).await;
    // Not cleared before the TTL …
    app.advance(Duration::from_millis(5999));
    quiet(&mut coach, cleared).await;
    // … and cleared by it.
    app.advance(Duration::from_millis(1));
    until(&mut coach, cleared).await;

    client
        .send_json(&json!({"type": "typing", "is_typing": true}))
        .await
        .unwrap();
    until(&mut coach, typing(true)).await;
    // The typist leaves: cleared at once (the clock stands still, so not by the TTL).
    client.close().await;
    until(&mut coach, cleared).await;
}

#[tokio::test]
async fn the_user_socket_carries_every_conversation_with_unread_counts_and_archives() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let a = app.conversation().await;
    let (_, b) = app
        .trainer
        .client
        .start(app.trainee2.id, "hi Theo", None)
        .await
        .unwrap();
    let mut coach = app.trainer.client.socket(None, None).await.unwrap();
    assert_eq!(
        until(&mut coach, |f| matches!(f, ServerFrame::UnreadCount { .. })).await,
        ServerFrame::UnreadCount { unread_count: 0 }
    );
    app.trainee.client.send(a, "from Tia", None).await.unwrap();
    until(
        &mut coach,
        |f| matches!(f, ServerFrame::NewMessage { conversation_id: Some(c), .. } if *c == a),
    )
    .await;
    assert_eq!(
        until(&mut coach, |f| matches!(f, ServerFrame::UnreadCount { .. })).await,
        ServerFrame::UnreadCount { unread_count: 1 }
    );
    app.trainee2
        .client
        .send(b.conversation_id, "from Theo", None)
        .await
        .unwrap();
    until(&mut coach, |f| matches!(f, ServerFrame::NewMessage { conversation_id: Some(c), .. } if *c == b.conversation_id)).await;
    assert_eq!(
        until(&mut coach, |f| matches!(f, ServerFrame::UnreadCount { .. })).await,
        ServerFrame::UnreadCount { unread_count: 2 }
    );
    // Typing from the user socket names its conversation.
    let mut tia = app.trainee.client.socket(None, None).await.unwrap();
    tia.send_json(&json!({"type": "typing", "conversation_id": a, "is_typing": true}))
        .await
        .unwrap();
    until(&mut coach, |f| matches!(f, ServerFrame::TypingIndicator { conversation_id: Some(c), is_typing: true, .. } if *c == a)).await;
    // Reading on another device updates this one's badge.
    app.trainer.client.mark_read(a).await.unwrap();
    assert_eq!(
        until(&mut coach, |f| matches!(f, ServerFrame::UnreadCount { .. })).await,
        ServerFrame::UnreadCount { unread_count: 1 }
    );
    app.trainer
        .client
        .remove_trainee(app.trainee2.id)
        .await
        .unwrap();
    until(&mut coach, |f| matches!(f, ServerFrame::ConversationArchived { conversation_id } if *conversation_id == b.conversation_id)).await;
    assert_eq!(
        until(&mut coach, |f| matches!(f, ServerFrame::UnreadCount { .. })).await,
        ServerFrame::UnreadCount { unread_count: 0 }
    );
}

#[tokio::test]
async fn metrics_count_sends_deliveries_and_their_latency() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let mut coach = crate::live(&app.trainer.client, Some(conv)).await;
    let (_, m) = app
        .trainee
        .client
        .send(conv, "measure me", None)
        .await
        .unwrap();
    until(
        &mut coach,
        |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.id == m.id),
    )
    .await;
    let raw = reqwest::get(format!("{}metrics", app.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        raw.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{raw}"))
    };
    // The recorder is per process and tests run in parallel: counts are at least ours.
    assert!(value("spotter_messages_sent_total") >= 2.0);
    assert!(value("spotter_messages_delivered_total") >= 1.0);
    assert!(value("spotter_send_to_deliver_seconds_count") >= 1.0);
    assert!(raw.contains("spotter_send_to_deliver_seconds_bucket{le=\"0.005\"}"));
    assert!(raw.contains("spotter_open_sockets"));
    assert!(raw.contains("spotter_db_pool_wait_seconds_bucket"));
}

crate::both_backends!(a_start_reaches_the_trainee_live_ahead_of_the_next_send);

/// A trainer's first message (a start) is announced like any send, as it commits: live on the
/// trainee's user socket, ahead of the message that follows it.
async fn a_start_reaches_the_trainee_live_ahead_of_the_next_send(app: TestApp) {
    let mut sock = crate::live(&app.trainee.client, None).await;
    let trainer = &app.trainer.client;
    let (_, started) = trainer
        .start(app.trainee.id, "Welcome aboard", None)
        .await
        .unwrap();
    let (_, next) = trainer
        .send(started.conversation_id, "Day 1: squats", None)
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        if let ServerFrame::NewMessage {
            message,
            conversation_id,
        } = until(&mut sock, |f| matches!(f, ServerFrame::NewMessage { .. })).await
        {
            assert_eq!(conversation_id, Some(started.conversation_id));
            got.push(message.id);
        }
    }
    assert_eq!(got, [started.message.id, next.id]);
}

/// Part C: an edit and a delete reach every socket of the conversation, the actor's too, and
/// both participants' user sockets (with `conversation_id`); a resumed socket replays the
/// message as it is now.
async fn edits_and_deletes_reach_every_socket_live(app: TestApp) {
    let conv = app.conversation().await;
    let (_, m) = app.trainee.client.send(conv, "typo", None).await.unwrap();
    let mut trainer_conv = crate::live(&app.trainer.client, Some(conv)).await;
    let mut trainee_conv = crate::live(&app.trainee.client, Some(conv)).await;
    let mut trainer_user = crate::live(&app.trainer.client, None).await;
    let edited = app
        .trainee
        .client
        .edit_message(conv, m.id, "fixed")
        .await
        .unwrap();
    for s in [&mut trainer_conv, &mut trainee_conv, &mut trainer_user] {
        let f = until(s, |f| matches!(f, ServerFrame::MessageEdited { .. })).await;
        assert_eq!(
            f,
            ServerFrame::MessageEdited {
                message_id: m.id,
                content: "fixed".into(),
                edited_at: edited.edited_at.clone().unwrap(),
                conversation_id: Some(conv),
            }
        );
    }
    app.trainee.client.delete_message(conv, m.id).await.unwrap();
    for s in [&mut trainer_conv, &mut trainee_conv, &mut trainer_user] {
        let f = until(s, |f| matches!(f, ServerFrame::MessageDeleted { .. })).await;
        assert_eq!(
            f,
            ServerFrame::MessageDeleted {
                message_id: m.id,
                conversation_id: Some(conv),
            }
        );
    }
    // Resuming from before it replays the tombstone, not the text.
    let mut resumed = app
        .trainer
        .client
        .socket(Some(conv), Some(m.id - 1))
        .await
        .unwrap();
    let f = until(
        &mut resumed,
        |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.id == m.id),
    )
    .await;
    let ServerFrame::NewMessage { message, .. } = f else {
        unreachable!()
    };
    assert!(message.is_deleted && message.content.is_empty() && message.edited_at.is_some());
}

crate::both_backends!(edits_and_deletes_reach_every_socket_live);
