//! The contract's rules under pressure: one conversation per pair under concurrent starts,
//! archive and re-assign, impersonation read-only, idempotent retries, the send rate limit.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, status_of};

both_backends!(
    twenty_concurrent_starts_make_one_conversation,
    concurrent_idempotent_starts_do_not_starve_the_pool,
    archive_then_reassign_then_start_again_reuses_the_history,
    archived_conversations_are_the_trainers_history_only,
    impersonation_is_read_only_for_messaging,
    ten_concurrent_retries_of_one_client_message_id_give_one_message,
    message_order_within_a_conversation_is_id_order_under_concurrency,
);

async fn twenty_concurrent_starts_make_one_conversation(app: TestApp) {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let c = app.trainer.client.clone();
            let trainee = app.trainee.id;
            tokio::spawn(async move { c.start(trainee, &format!("hello {i}"), None).await })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut new_flags = 0;
    for t in tasks {
        let (status, started) = t.await.unwrap().unwrap();
        assert_eq!(status, StatusCode::CREATED);
        ids.insert(started.conversation_id);
        new_flags += usize::from(started.is_new_conversation);
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(
        new_flags, 1,
        "exactly one start found the conversation empty"
    );
    let page = app.trainer.client.conversations(1).await.unwrap();
    assert_eq!(page.count, 1);
    assert_eq!(
        app.trainer
            .client
            .messages(page.results[0].id, 1)
            .await
            .unwrap()
            .count,
        20
    );
}

async fn archive_then_reassign_then_start_again_reuses_the_history(app: TestApp) {
    let conv = app.conversation().await;
    app.trainee
        .client
        .send(conv, "see you", None)
        .await
        .unwrap();
    let removed = app
        .trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    assert_eq!(removed["archived_conversation_id"], conv);
    assert_eq!(
        status_of(app.trainer.client.trainee(app.trainee.id).await),
        StatusCode::NOT_FOUND
    );
    let r = app
        .trainer
        .client
        .start(app.trainee.id, "back?", None)
        .await
        .unwrap_err();
    assert_eq!(
        r.body().cloned(),
        Some(json!({"error": "Trainee not found or not assigned to you."}))
    );

    let accounts = &app.state.accounts;
    let trainee = accounts
        .user_by_email("trainee@test.io")
        .await
        .unwrap()
        .unwrap();
    let trainer = accounts
        .user_by_email("trainer@test.io")
        .await
        .unwrap()
        .unwrap();
    accounts.assign(&trainee, &trainer).await.unwrap();

    let (_, again) = app
        .trainer
        .client
        .start(app.trainee.id, "Welcome back", None)
        .await
        .unwrap();
    assert_eq!(again.conversation_id, conv);
    assert!(!again.is_new_conversation);
    let list = app.trainee.client.conversations(1).await.unwrap();
    assert_eq!(list.results.len(), 1);
    assert!(!list.results[0].is_archived);
    assert_eq!(
        app.trainee.client.messages(conv, 1).await.unwrap().count,
        3,
        "history kept"
    );
}

async fn archived_conversations_are_the_trainers_history_only(app: TestApp) {
    let conv = app.conversation().await;
    app.trainee
        .client
        .send(conv, "unread by trainer", None)
        .await
        .unwrap();
    assert_eq!(app.trainer.client.unread_count().await.unwrap(), 1);
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();

    assert_eq!(
        app.trainer.client.conversations(1).await.unwrap().count,
        0,
        "archived leaves the list"
    );
    assert_eq!(app.trainee.client.conversations(1).await.unwrap().count, 0);
    assert_eq!(
        app.trainer.client.unread_count().await.unwrap(),
        0,
        "and the unread counts"
    );
    let archived = app.trainer.client.archived_conversations().await.unwrap();
    assert_eq!(
        archived
            .results
            .iter()
            .map(|c| (c.id, c.is_archived))
            .collect::<Vec<_>>(),
        vec![(conv, true)]
    );
    assert_eq!(
        app.trainee
            .client
            .archived_conversations()
            .await
            .unwrap()
            .count,
        0
    );

    assert_eq!(
        app.trainer.client.messages(conv, 1).await.unwrap().count,
        2,
        "the trainer keeps the history"
    );
    let denied = app.trainee.client.messages(conv, 1).await.unwrap_err();
    assert_eq!(
        (denied.status(), denied.body().cloned()),
        (
            Some(StatusCode::FORBIDDEN),
            Some(json!({"error": "This conversation has been archived."}))
        )
    );
    let denied = app
        .trainee
        .client
        .send(conv, "hello?", None)
        .await
        .unwrap_err();
    assert_eq!(denied.status(), Some(StatusCode::BAD_REQUEST));
}

async fn impersonation_is_read_only_for_messaging(app: TestApp) {
    let conv = app.conversation().await;
    let imp = app
        .trainer
        .client
        .impersonate_trainee(app.trainee.id)
        .await
        .unwrap();
    assert_eq!(imp.user.id, app.trainee.id);
    let as_trainee = app.anon.with_token(&imp.access);
    let me = as_trainee.me().await.unwrap();
    assert!(me.is_impersonating);
    assert_eq!(me.original_user_id, Some(app.trainer.id));
    // Reading works.
    assert_eq!(as_trainee.conversations(1).await.unwrap().count, 1);
    assert_eq!(as_trainee.messages(conv, 1).await.unwrap().count, 1);
    // Writing does not.
    let e = as_trainee.send(conv, "pretending", None).await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::FORBIDDEN));
    // Refreshing keeps it read-only.
    let refreshed = app.anon.refresh(&imp.refresh).await.unwrap();
    let e = app
        .anon
        .with_token(&refreshed.access)
        .send(conv, "still pretending", None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::FORBIDDEN));
    // Ending returns the trainer's own tokens, which may write.
    let back = as_trainee.end_trainee_impersonation().await.unwrap();
    assert_eq!(back.user.id, app.trainer.id);
    app.anon
        .with_token(&back.access)
        .send(conv, "me again", None)
        .await
        .unwrap();
    // A trainer cannot impersonate someone else's trainee; a trainee cannot impersonate.
    assert_eq!(
        status_of(
            app.trainer
                .client
                .impersonate_trainee(app.other_trainee.id)
                .await
        ),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(
            app.trainee
                .client
                .impersonate_trainee(app.trainee2.id)
                .await
        ),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(app.trainer.client.end_trainee_impersonation().await),
        StatusCode::FORBIDDEN
    );
}

async fn ten_concurrent_retries_of_one_client_message_id_give_one_message(app: TestApp) {
    let conv = app.conversation().await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let c = app.trainee.client.clone();
            tokio::spawn(async move { c.send(conv, "exactly once", Some("cmid-42")).await })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut ids = HashSet::new();
    for t in tasks {
        let (status, m) = t.await.unwrap().unwrap();
        statuses.push(status);
        ids.insert(m.id);
        assert_eq!(m.client_message_id.as_deref(), Some("cmid-42"));
    }
    assert_eq!(ids.len(), 1, "one message id for every retry");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 9);
    let page = app.trainer.client.messages(conv, 1).await.unwrap();
    assert_eq!(page.count, 2);
    assert_eq!(
        page.results
            .iter()
            .filter(|m| m.content == "exactly once")
            .count(),
        1
    );
    assert_eq!(
        app.trainer.client.unread_count().await.unwrap(),
        1,
        "the counter moved once"
    );
    // The same key in another conversation is another message.
    let (_, other) = app
        .trainer
        .client
        .start(app.trainee2.id, "hi", Some("cmid-42"))
        .await
        .unwrap();
    assert_ne!(other.message.id, *ids.iter().next().unwrap());
}

async fn message_order_within_a_conversation_is_id_order_under_concurrency(app: TestApp) {
    let conv = app.conversation().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = if i % 2 == 0 {
            app.trainer.client.clone()
        } else {
            app.trainee.client.clone()
        };
        tasks.push(tokio::spawn(async move {
            c.send(conv, &format!("c{i}"), None).await.unwrap().1
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = app
        .trainer
        .client
        .messages_after(conv, 0, 100)
        .await
        .unwrap()
        .results;
    assert_eq!(all.len(), 21);
    assert!(
        all.windows(2)
            .all(|w| w[0].id < w[1].id && w[0].created_at <= w[1].created_at),
        "ids and times agree"
    );
    let raw = app
        .trainer
        .client
        .raw(
            Method::GET,
            &format!("api/messaging/conversations/{conv}/messages/?after=0&limit=100"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(raw.body["results"].as_array().unwrap().len(), 21);
}

/// A start with a `client_message_id` looks it up inside its own transaction: looking it up on
/// a second pooled connection starved the pool (5 connections in tests) under concurrency.
async fn concurrent_idempotent_starts_do_not_starve_the_pool(app: TestApp) {
    let mut trainees = Vec::new();
    for i in 0..20 {
        trainees.push(
            app.add_user(
                &format!("starter{i}@test.io"),
                spotter::domain::model::Role::Trainee,
                Some(app.trainer.id),
            )
            .await,
        );
    }
    let tasks: Vec<_> = trainees
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let c = app.trainer.client.clone();
            tokio::spawn(async move {
                c.start(t, "welcome aboard", Some(&format!("start-{i}")))
                    .await
                    .map(|(s, _)| s)
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), StatusCode::CREATED);
    }
}

/// PostgreSQL serves several nodes: retries of one send reaching two nodes at once meet in two
/// group commits. Each key must still be one message (the second batch, waiting on the first's
/// conversation lock, finds the first's message), and ids must follow commit order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_racing_on_two_nodes_store_each_message_once_in_order() {
    let app = TestApp::spawn_with(crate::helpers::Backend::Postgres, |c| {
        c.send_rate_per_minute = 100_000;
    })
    .await;
    let node = app.node().await;
    let conv = app.conversation().await;
    let token = app.trainee.client.token().expect("token");
    let on_b = spotter_client::Client::new(&node.url)
        .expect("client")
        .with_token(token);
    let mut tasks = Vec::new();
    for key in 0..20 {
        for copy in 0..4 {
            let c = if copy % 2 == 0 {
                app.trainee.client.clone()
            } else {
                on_b.clone()
            };
            tasks.push(tokio::spawn(async move {
                let cmid = format!("race-{key}");
                (key, c.send(conv, &format!("m{key}"), Some(&cmid)).await)
            }));
        }
    }
    let mut ids: std::collections::HashMap<i32, HashSet<i64>> = Default::default();
    let mut created = 0;
    for t in tasks {
        let (key, sent) = t.await.expect("task");
        let (status, m) = sent.expect("every retry is answered");
        if status == StatusCode::CREATED {
            created += 1;
        }
        ids.entry(key).or_default().insert(m.id);
    }
    assert!(
        ids.values().all(|s| s.len() == 1),
        "one id per key: {ids:?}"
    );
    assert_eq!(created, 20, "one 201 per key");
    let all = app
        .trainer
        .client
        .messages_after(conv, 0, 100)
        .await
        .expect("history")
        .results;
    assert_eq!(all.len(), 21, "the welcome and one message per key");
    assert!(
        all.windows(2)
            .all(|w| w[0].id < w[1].id && w[0].created_at <= w[1].created_at),
        "ids and times agree"
    );
    assert_eq!(app.trainer.client.unread_count().await.expect("unread"), 20);
}
