//! Part B 5–6: sends and reads over the socket under REST's rules, error frames that keep the
//! socket open, 1009 for oversized frames, read-only sockets.

use serde_json::json;
use spotter_client::ServerFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::helpers::{Backend, TestApp};
use crate::{closed, until};

fn is_error(code: &'static str) -> impl FnMut(&ServerFrame) -> bool {
    move |f| matches!(f, ServerFrame::Error { code: c, .. } if c == code)
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_open() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let mut s = app.trainee.client.socket(Some(conv), None).await.unwrap();
    s.send_raw(WsMessage::Text("not json".into()))
        .await
        .unwrap();
    until(&mut s, is_error("malformed")).await;
    s.send_raw(WsMessage::Text("[1,2]".into())).await.unwrap();
    until(&mut s, is_error("malformed")).await;
    s.send_json(&json!({"type": "dance"})).await.unwrap();
    until(&mut s, is_error("unknown_type")).await;
    s.send_raw(WsMessage::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    until(&mut s, is_error("malformed")).await;
    s.send_json(&json!({"type": "typing", "is_typing": "yes"}))
        .await
        .unwrap();
    until(&mut s, is_error("invalid")).await;
    s.send_json(&json!({"type": "send", "content": "   ", "client_message_id": "x1"}))
        .await
        .unwrap();
    match until(&mut s, is_error("invalid")).await {
        ServerFrame::Error {
            client_message_id, ..
        } => assert_eq!(client_message_id.as_deref(), Some("x1")),
        _ => unreachable!(),
    }
    s.send_json(&json!({"type": "ping"})).await.unwrap();
    assert_eq!(
        until(&mut s, |_| true).await,
        ServerFrame::Pong,
        "still open"
    );
    // Over 16 KiB: closed with 1009.
    s.send_raw(WsMessage::Text("x".repeat(17 * 1024).into()))
        .await
        .unwrap();
    assert_eq!(closed(&mut s).await, 1009);
}

#[tokio::test]
async fn socket_sends_follow_the_rest_rules() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    // Read-only: neither send nor type.
    let as_trainee = app.trainer_as_trainee().await;
    let mut ro = as_trainee.socket(Some(conv), None).await.unwrap();
    ro.send_json(&json!({"type": "send", "content": "hi", "client_message_id": "ro-1"}))
        .await
        .unwrap();
    until(&mut ro, is_error("read_only")).await;
    ro.send_json(&json!({"type": "typing", "is_typing": true}))
        .await
        .unwrap();
    until(&mut ro, is_error("read_only")).await;
    // Idempotent over the socket too.
    let mut s = app.trainee.client.socket(Some(conv), None).await.unwrap();
    for _ in 0..2 {
        s.send_json(&json!({"type": "send", "content": "once", "client_message_id": "dup"}))
            .await
            .unwrap();
        until(&mut s, |f| matches!(f, ServerFrame::Ack { .. })).await;
    }
    assert_eq!(
        app.trainer
            .client
            .messages(conv, 1)
            .await
            .unwrap()
            .results
            .iter()
            .filter(|m| m.content == "once")
            .count(),
        1
    );
    // The rate limit is shared with REST (and so do the replayed and the read-only attempts): 27 more, then throttled.
    for i in 0..27 {
        app.trainee
            .client
            .send(conv, &format!("{i}"), None)
            .await
            .unwrap();
    }
    s.send_json(&json!({"type": "send", "content": "too many", "client_message_id": "t"}))
        .await
        .unwrap();
    until(&mut s, is_error("throttled")).await;
    // Per-user socket: sending needs a conversation the user is in.
    let mut u = app.other_trainee.client.socket(None, None).await.unwrap();
    u.send_json(&json!({"type": "send", "conversation_id": conv, "content": "hi"}))
        .await
        .unwrap();
    until(&mut u, is_error("forbidden")).await;
    u.send_json(&json!({"type": "send", "content": "hi"}))
        .await
        .unwrap();
    until(&mut u, is_error("invalid")).await;
    // Archived: refused, and an open conversation socket is told and closed.
    let mut coach = app.trainer.client.socket(Some(conv), None).await.unwrap();
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    until(&mut coach, |f| {
        matches!(f, ServerFrame::ConversationArchived { .. })
    })
    .await;
    assert_eq!(closed(&mut coach).await, 4003);
}
