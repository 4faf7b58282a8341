//! Abuse: a cap on sockets per user, a cap on frames per second, slow-header clients cut off,
//! one user's flood held at the limit while another goes on as normal.

use std::time::Duration;

use serde_json::json;
use spotter_client::ServerFrame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Backend, TestApp};
use crate::{closed, eventually, until};

#[tokio::test]
async fn one_socket_too_many_is_closed_with_4029() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ws_max_sockets_per_user = 3).await;
    let conv = app.conversation().await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(crate::live(&app.trainee.client, Some(conv)).await);
    }
    let mut extra = app.trainee.client.socket(None, None).await.unwrap();
    assert_eq!(closed(&mut extra).await, 4029);
    // Another user is not affected; and closing one makes room again.
    crate::live(&app.trainer.client, Some(conv)).await;
    open.pop().unwrap().close().await;
    let hub = app.state.bus.hub().clone();
    let trainee = spotter::domain::model::UserId(app.trainee.id);
    eventually("the server to let the closed socket go", || {
        let hub = hub.clone();
        async move { (hub.sockets_of(trainee) < 3).then_some(()) }
    })
    .await;
    crate::live(&app.trainee.client, Some(conv)).await;
}

#[tokio::test]
async fn a_frame_flood_is_dropped_with_one_notice_a_second_and_the_socket_stays_usable() {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::AsyncWriteExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.ws_frames_per_second = 10).await;
    let conv = app.conversation().await;
    // 200 frames at once on a fresh socket, then the client stops sending (its half of the TCP
    // connection closed): the server handles the 200 in order and answers each it takes, and
    // the clock stands still meanwhile, so exactly the burst (twice the rate) is answered and
    // the rest dropped with one notice.
    let url = format!(
        "{}ws/messaging/{conv}/?token={}",
        app.url.replacen("http", "ws", 1),
        app.trainee.client.token().unwrap()
    );
    let host = app.url.trim_start_matches("http://").trim_end_matches('/');
    let tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let (mut raw, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    for _ in 0..200 {
        raw.send(Message::text(r#"{"type": "ping"}"#))
            .await
            .unwrap();
    }
    raw.get_mut().shutdown().await.unwrap();
    let (mut pongs, mut notices) = (0, 0);
    while let Some(Ok(m)) = tokio::time::timeout(Duration::from_secs(20), raw.next())
        .await
        .expect("the server answers")
    {
        let Message::Text(t) = m else { continue };
        let frame: serde_json::Value = serde_json::from_str(t.as_str()).unwrap();
        match (frame["type"].as_str(), frame["code"].as_str()) {
            (Some("pong"), _) => pongs += 1,
            (Some("error"), Some("throttled")) => notices += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((pongs, notices), (20, 1));

    // The budget refills with time, and the socket is not closed for having been throttled.
    let mut s = app.trainee.client.socket(Some(conv), None).await.unwrap();
    for _ in 0..20 {
        crate::round_trip(&mut s).await;
    }
    s.send_json(&json!({"type": "ping"})).await.unwrap();
    let dropped = until(&mut s, |_| true).await;
    assert!(
        matches!(&dropped, ServerFrame::Error { code, .. } if code == "throttled"),
        "{dropped:?}"
    );
    app.advance(Duration::from_millis(100));
    crate::round_trip(&mut s).await;
}

#[tokio::test]
async fn a_client_trickling_headers_is_cut_off() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.header_timeout_secs = 1).await;
    let addr = app
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    // The server answers 408 or simply closes; either way it does not wait for us.
    let n = tokio::time::timeout(Duration::from_secs(5), async {
        let mut total = 0;
        loop {
            match slow.read(&mut buf[total..]).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    })
    .await
    .expect("the slow client was not cut off");
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    // Well-behaved clients are served meanwhile.
    assert_eq!(
        reqwest::get(format!("{}healthz", app.url))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_user_is_held_at_the_limit_while_others_go_on() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let conv = app.conversation().await;
    let (_, other) = app
        .trainer
        .client
        .start(app.trainee2.id, "hi", None)
        .await
        .unwrap();
    let flood: Vec<_> = (0..60)
        .map(|i| {
            let c = app.trainee.client.clone();
            tokio::spawn(async move {
                c.send(conv, &format!("flood {i}"), None)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.status())
            })
        })
        .collect();
    let mut calm = Vec::new();
    for i in 0..10 {
        calm.push(
            app.trainee2
                .client
                .send(other.conversation_id, &format!("calm {i}"), None)
                .await
                .map(|(s, _)| s),
        );
    }
    let mut ok = 0;
    let mut throttled = 0;
    for f in flood {
        match f.await.unwrap() {
            Ok(()) => ok += 1,
            Err(Some(s)) if s == reqwest::StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, throttled), (30, 30), "held at 30 a minute");
    assert!(
        calm.iter()
            .all(|r| matches!(r, Ok(s) if *s == reqwest::StatusCode::CREATED)),
        "{calm:?}"
    );
}
