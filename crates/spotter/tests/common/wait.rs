//! Waiting for events, never for time. Every wait has a generous bound (a loaded CI machine can
//! be slow), after which the test fails saying what it waited for; none asserts how long
//! anything took.

use std::future::Future;
use std::time::Duration;

use spotter_client::{Client, Incoming, ServerFrame, Socket};

/// How long any one event may take to happen before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `check` until it gives a value (an event that has no notification of its own: a row
/// settled, a node linked, a server up) and returns it; fails after [`PATIENCE`], naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Sends a ping and reads until its pong; returns the frames that came before it. The server
/// writes the events it had queued for this socket before a reply, so once the pong is here,
/// every event published before the ping was sent has been written.
pub async fn round_trip(sock: &mut Socket) -> Vec<ServerFrame> {
    sock.send_json(&serde_json::json!({"type": "ping"}))
        .await
        .unwrap();
    let mut before = Vec::new();
    loop {
        match tokio::time::timeout(PATIENCE, sock.next())
            .await
            .expect("no pong")
        {
            Some(Incoming::Frame(ServerFrame::Pong)) => return before,
            Some(Incoming::Frame(f)) => before.push(f),
            Some(_) => {}
            None => panic!("the socket ended before its pong"),
        }
    }
}

/// Asserts that no frame matching `pred` has come, up to a round trip.
pub async fn quiet(sock: &mut Socket, pred: impl Fn(&ServerFrame) -> bool) {
    let before = round_trip(sock).await;
    assert!(
        !before.iter().any(pred),
        "unexpected frame among {before:?}"
    );
}

/// A conversation (or user) socket that is surely subscribed: connect, then a round trip.
pub async fn live(client: &Client, conversation: Option<i64>) -> Socket {
    let mut s = client.socket(conversation, None).await.unwrap();
    round_trip(&mut s).await;
    s
}
