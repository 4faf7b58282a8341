//! Resume: replay then live, no gap and no duplicate, even while messages are being sent; and
//! the client's `LiveConversation` seeing every message once, in order, across a restart.

use std::collections::HashSet;
use std::time::Duration;

use spotter_client::{LiveConversation, ServerFrame, Update};

use crate::both_backends;
use crate::helpers::{Backend, TestApp};

use crate::{eventually, quiet, until};

both_backends!(resume_during_concurrent_sends_is_exactly_the_persisted_tail);

/// Property: for several cursors taken while two senders race, replay + live on a resumed
/// socket = exactly the persisted ids after the cursor, in order, with no duplicate.
async fn resume_during_concurrent_sends_is_exactly_the_persisted_tail(app: TestApp) {
    let conv = app.conversation().await;
    // Two senders racing, each within the 30-a-minute limit.
    let per_sender = 14;
    let senders: Vec<_> = [app.trainer.client.clone(), app.trainee.client.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            tokio::spawn(async move {
                for i in 0..per_sender {
                    c.send(conv, &format!("s{n}-{i}"), None).await.unwrap();
                }
            })
        })
        .collect();
    // Resume from a few cursors while the senders run: each taken once the conversation has
    // grown since the last (or the senders are done).
    let mut checks = Vec::new();
    let mut last_seen = 0;
    for round in 0..4 {
        let latest = eventually("the conversation to grow", || {
            let client = app.trainer.client.clone();
            let senders_done = senders.iter().all(|s| s.is_finished());
            async move {
                let newest = client.messages_before(conv, None, 1).await.ok()?.results[0].id;
                (newest > last_seen || senders_done).then_some(newest)
            }
        })
        .await;
        last_seen = latest;
        let cursor = latest - (round as i64 % 3);
        let sock = app
            .trainee
            .client
            .socket(Some(conv), Some(cursor))
            .await
            .unwrap();
        checks.push((cursor, sock));
    }
    for s in senders {
        s.await.unwrap();
    }
    let all = app
        .trainer
        .client
        .messages_after(conv, 0, 100)
        .await
        .unwrap()
        .results;
    assert_eq!(all.len(), 1 + 2 * per_sender as usize);
    for (cursor, mut sock) in checks {
        let expected: Vec<i64> = all.iter().map(|m| m.id).filter(|id| *id > cursor).collect();
        let mut got = Vec::new();
        // The cursor may already be the newest message (the senders can finish first).
        while got.len() < expected.len() {
            match until(&mut sock, |f| matches!(f, ServerFrame::NewMessage { .. })).await {
                ServerFrame::NewMessage { message, .. } => got.push(message.id),
                _ => unreachable!(),
            }
        }
        // And nothing after the last one: no duplicate arrives late.
        quiet(&mut sock, |f| matches!(f, ServerFrame::NewMessage { .. })).await;
        assert_eq!(got, expected, "resumed after {cursor}");
        assert_eq!(
            got.iter().collect::<HashSet<_>>().len(),
            got.len(),
            "no duplicate"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_conversation_sees_every_message_once_across_a_server_restart() {
    let _redis = crate::nodes::REDIS.lock().await;
    let app = TestApp::spawn_with(Backend::Postgres, crate::nodes::with_redis).await;
    let conv = app.conversation().await;
    // A second node on the same database and Redis: the one the client follows, and restarts.
    let node = app.node().await;
    crate::nodes::wait_linked(&[&app.state, &node.state]).await;
    let url = node.url.clone();
    let follower = spotter_client::Client::new(&url)
        .unwrap()
        .with_token(app.trainee.client.token().unwrap());
    let mut live = LiveConversation::open(follower, conv, None).await.unwrap();
    assert_eq!(live.next().await, Some(Update::Connected));
    let mine = live.send("optimistic hello");
    let mut seen = Vec::new();
    let mut acked = false;
    let mut collect = |u: Update, seen: &mut Vec<i64>| match u {
        Update::Message(m) => seen.push(m.id),
        Update::Acked {
            client_message_id, ..
        } => acked |= client_message_id == mine,
        _ => {}
    };
    for i in 0..5 {
        app.trainer
            .client
            .send(conv, &format!("before {i}"), None)
            .await
            .unwrap();
    }
    while seen.len() < 6 {
        let u = tokio::time::timeout(Duration::from_secs(5), live.next())
            .await
            .unwrap()
            .unwrap();
        collect(u, &mut seen);
    }
    // The follower's node stops (its sockets close with 1001); messages go on via the other.
    node.stop().await;
    for i in 0..5 {
        app.trainer
            .client
            .send(conv, &format!("during {i}"), None)
            .await
            .unwrap();
    }
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let mut config = app.config.clone();
    config.bind = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let restarted = spotter::Application::build_on(config, app.clock.clone())
        .await
        .expect("rebind the same port");
    let restarted_state = restarted.state().clone();
    let server = tokio::spawn(async move {
        let _ = restarted.run_until_stopped(std::future::pending()).await;
    });
    crate::nodes::wait_linked(&[&restarted_state]).await;
    for i in 0..3 {
        app.trainer
            .client
            .send(conv, &format!("after {i}"), None)
            .await
            .unwrap();
    }
    let stored: Vec<i64> = app
        .trainer
        .client
        .messages_after(conv, 0, 100)
        .await
        .unwrap()
        .results
        .iter()
        .map(|m| m.id)
        .collect();
    while seen.last() != stored.last() {
        let u = tokio::time::timeout(Duration::from_secs(15), live.next())
            .await
            .expect("resumed in time")
            .unwrap();
        collect(u, &mut seen);
    }
    assert_eq!(seen, stored[1..].to_vec(), "every message once, in order");
    assert!(acked, "the optimistic send was acknowledged");
    server.abort();
}
