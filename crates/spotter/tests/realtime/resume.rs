//! Resume: replay then live, no gap and no duplicate, even while messages are being sent; and
//! the client's `LiveConversation` seeing every message once, in order, across a restart.

use std::collections::HashSet;
use std::time::Duration;

use spotter_client::ServerFrame;

use crate::both_backends;
use crate::helpers::TestApp;

use crate::until;

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
    // Resume from a few cursors while the senders run.
    let mut checks = Vec::new();
    for round in 0..4 {
        tokio::time::sleep(Duration::from_millis(15 * round)).await;
        let latest = app
            .trainer
            .client
            .messages_before(conv, None, 1)
            .await
            .unwrap()
            .results[0]
            .id;
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
    let last = all.last().unwrap().id;
    for (cursor, mut sock) in checks {
        let expected: Vec<i64> = all.iter().map(|m| m.id).filter(|id| *id > cursor).collect();
        let mut got = Vec::new();
        while got.last() != Some(&last) {
            match until(&mut sock, |f| matches!(f, ServerFrame::NewMessage { .. })).await {
                ServerFrame::NewMessage { message, .. } => got.push(message.id),
                _ => unreachable!(),
            }
        }
        assert_eq!(got, expected, "resumed after {cursor}");
        assert_eq!(
            got.iter().collect::<HashSet<_>>().len(),
            got.len(),
            "no duplicate"
        );
    }
}
