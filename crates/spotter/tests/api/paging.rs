//! Cursor paging (Part B 2): `before` and `after` with `limit`, stable while messages arrive.

use reqwest::{Method, StatusCode};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    cursor_paging_walks_both_ways_and_stays_stable,
    cursor_parameters_are_validated,
    conversation_list_pages_by_fifty
);

async fn cursor_paging_walks_both_ways_and_stays_stable(app: TestApp) {
    let conv = app.conversation().await;
    for i in 0..28 {
        app.trainee
            .client
            .send(conv, &format!("n{i}"), None)
            .await
            .unwrap();
    }
    let newest = app
        .trainer
        .client
        .messages_before(conv, None, 10)
        .await
        .unwrap();
    assert_eq!(newest.results.len(), 10);
    assert!(newest.has_more);
    assert_eq!(newest.results[0].content, "n27");
    // New messages arrive while paging back: the next older page is unaffected.
    app.trainee.client.send(conv, "late", None).await.unwrap();
    let cursor = newest.results.last().unwrap().id;
    let older = app
        .trainer
        .client
        .messages_before(conv, Some(cursor), 10)
        .await
        .unwrap();
    assert_eq!(older.results.first().unwrap().content, "n17");
    assert!(older.results.iter().all(|m| m.id < cursor));
    let mut seen: Vec<i64> = newest
        .results
        .iter()
        .chain(&older.results)
        .map(|m| m.id)
        .collect();
    let mut before = older.results.last().unwrap().id;
    loop {
        let page = app
            .trainer
            .client
            .messages_before(conv, Some(before), 7)
            .await
            .unwrap();
        seen.extend(page.results.iter().map(|m| m.id));
        if !page.has_more {
            break;
        }
        before = page.results.last().unwrap().id;
    }
    assert_eq!(seen.len(), 29, "every message once, welcome included");
    // Forward from the start, oldest first, includes the late one.
    let forward = app
        .trainer
        .client
        .messages_after(conv, 0, 100)
        .await
        .unwrap();
    assert_eq!(forward.results.len(), 30);
    assert!(!forward.has_more);
    assert_eq!(forward.results.last().unwrap().content, "late");
    let tail = app
        .trainer
        .client
        .messages_after(conv, forward.results[27].id, 100)
        .await
        .unwrap();
    assert_eq!(
        tail.results
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>(),
        vec!["n27", "late"]
    );
}

async fn cursor_parameters_are_validated(app: TestApp) {
    let conv = app.conversation().await;
    for q in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "before=xyz",
        "after=-5",
        "before=1&after=1",
    ] {
        let raw = app
            .trainer
            .client
            .raw(
                Method::GET,
                &format!("api/messaging/conversations/{conv}/messages/?{q}"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(raw.status, StatusCode::BAD_REQUEST, "{q}: {:?}", raw.body);
        assert!(raw.body.is_object(), "{q}");
    }
    let ok = app
        .trainer
        .client
        .raw(
            Method::GET,
            &format!("api/messaging/conversations/{conv}/messages/?limit=100"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(ok.status, StatusCode::OK);
}

async fn conversation_list_pages_by_fifty(app: TestApp) {
    // 51 conversations straight through the store: through the API the start limit would bite.
    for i in 0..51 {
        let id = app
            .add_user(
                &format!("bulk{i}@test.io"),
                spotter::domain::model::Role::Trainee,
                Some(app.trainer.id),
            )
            .await;
        app.store_start(id, "hello").await;
    }
    let p1 = app.trainer.client.conversations(1).await.unwrap();
    assert_eq!((p1.count, p1.results.len()), (51, 50));
    assert!(
        p1.next
            .unwrap()
            .ends_with("/api/messaging/conversations/?page=2")
    );
    let p2 = app.trainer.client.conversations(2).await.unwrap();
    assert_eq!(p2.results.len(), 1);
}
