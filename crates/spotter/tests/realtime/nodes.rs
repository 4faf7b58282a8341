//! Slow consumers and shutdown.

use std::time::Duration;

use serde_json::json;
use spotter_client::{ServerFrame, Socket};

use crate::helpers::{Backend, TestApp, spawn_node};
use crate::{closed, until};

#[tokio::test]
async fn a_slow_consumer_is_closed_with_1013_and_recovers_by_resuming() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.ws_queue = 4;
        c.send_rate_per_minute = 100_000;
    })
    .await;
    let conv = app.conversation().await;
    // A reader with a tiny receive window that does not read.
    let url = app.trainee.client.socket_url(Some(conv), None).unwrap();
    let addr: std::net::SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap())
        .parse()
        .unwrap();
    let raw = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    raw.set_recv_buffer_size(2048).unwrap();
    raw.connect(&addr.into()).unwrap();
    raw.set_nonblocking(true).unwrap();
    let tcp = tokio::net::TcpStream::from_std(std::net::TcpStream::from(raw)).unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        url.as_str(),
        tokio_tungstenite::MaybeTlsStream::Plain(tcp),
    )
    .await
    .unwrap();
    let mut slow = Socket::from_stream(ws);

    // 8 KB frames (2000 four-byte characters), until the server gives up on the reader.
    let body = "\u{1F600}".repeat(2000);
    let mut sent = Vec::new();
    for _ in 0..2000 {
        sent.push(
            app.trainer
                .client
                .send(conv, &body, None)
                .await
                .unwrap()
                .1
                .id,
        );
        if app.state.bus.hub().socket_count() == 0 {
            break;
        }
    }
    // Now read: what was written, then the close.
    let mut last_seen = 0;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), slow.next())
            .await
            .unwrap()
        {
            Some(spotter_client::Incoming::Frame(ServerFrame::NewMessage { message, .. })) => {
                last_seen = message.id
            }
            Some(spotter_client::Incoming::Closed(code, _)) => break code,
            Some(_) => {}
            None => panic!("dropped without a close frame"),
        }
    };
    assert_eq!(code, 1013);
    // Resume from the last message seen: the rest arrive, each once.
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
    let node = spawn_node(app.config.clone()).await;
    let on_node = spotter_client::Client::new(&node.url)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    let mut sock = on_node.socket(Some(conv), None).await.unwrap();
    sock.send_json(&json!({"type": "ping"})).await.unwrap();
    until(&mut sock, |f| *f == ServerFrame::Pong).await;
    let stopping = tokio::spawn(node.stop());
    assert_eq!(closed(&mut sock).await, 1001);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the node stopped")
        .unwrap();
}
