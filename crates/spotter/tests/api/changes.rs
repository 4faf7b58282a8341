//! Part C: editing and deleting messages, each row of the contract and its check order, the
//! edit window on the server's clock, tombstones and previews.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{TestApp, status_of};

both_backends!(
    an_author_edits_until_fifteen_minutes_and_not_a_second_later,
    edit_checks_run_in_the_contracts_order,
    a_deleted_message_stays_in_place_as_a_tombstone,
    delete_checks_run_in_the_contracts_order,
    the_preview_follows_edits_and_deletes_of_the_newest_message_only,
    send_edit_delete_and_search_share_one_bucket_of_thirty,
);

fn path(conversation: i64, message: i64) -> String {
    format!("/api/messaging/conversations/{conversation}/messages/{message}/")
}

async fn patch(
    c: &spotter_client::Client,
    conv: i64,
    msg: i64,
    body: Value,
) -> (StatusCode, Value) {
    let r = c
        .raw(Method::PATCH, &path(conv, msg), Some(&body))
        .await
        .unwrap();
    (r.status, r.body)
}

async fn delete(c: &spotter_client::Client, conv: i64, msg: i64) -> (StatusCode, Value) {
    let r = c.raw(Method::DELETE, &path(conv, msg), None).await.unwrap();
    (r.status, r.body)
}

fn error(m: &str) -> Value {
    json!({ "error": m })
}

async fn an_author_edits_until_fifteen_minutes_and_not_a_second_later(app: TestApp) {
    let conv = app.conversation().await;
    let (_, m) = app
        .trainee
        .client
        .send(conv, "10 reps", None)
        .await
        .unwrap();
    assert_eq!(m.edited_at, None);
    app.advance(Duration::from_secs(14 * 60 + 59));
    let edited = app
        .trainee
        .client
        .edit_message(conv, m.id, "  12 reps  ")
        .await
        .unwrap();
    assert_eq!(edited.content, "12 reps", "trimmed");
    assert!(edited.edited_at.is_some());
    assert_eq!((edited.id, &edited.created_at), (m.id, &m.created_at));
    // 15:00 exactly still passes, and the same text is an edit too.
    app.advance(Duration::from_secs(1));
    let again = app
        .trainee
        .client
        .edit_message(conv, m.id, "12 reps")
        .await
        .unwrap();
    assert_ne!(again.edited_at, edited.edited_at);
    app.advance(Duration::from_secs(1));
    assert_eq!(
        patch(&app.trainee.client, conv, m.id, json!({"content": "13"})).await,
        (StatusCode::BAD_REQUEST, error("Edit window has expired."))
    );
    // The history shows the last accepted edit.
    let page = app.trainer.client.messages(conv, 1).await.unwrap();
    let shown = page.results.iter().find(|x| x.id == m.id).unwrap();
    assert_eq!(
        (shown.content.as_str(), &shown.edited_at),
        ("12 reps", &again.edited_at)
    );
}

async fn edit_checks_run_in_the_contracts_order(app: TestApp) {
    let conv = app.conversation().await;
    let (_, mine) = app.trainee.client.send(conv, "mine", None).await.unwrap();
    let theirs = app.trainer.client.messages(conv, 1).await.unwrap().results[1].clone();
    let trainee = &app.trainee.client;
    // Impersonation first, even with a bad body and a missing conversation.
    let imp = app.trainer_as_trainee().await;
    assert_eq!(
        patch(&imp, 999_999, 1, json!({})).await,
        (
            StatusCode::FORBIDDEN,
            error("Cannot edit messages during impersonation.")
        )
    );
    // Field errors before the conversation is looked up.
    let field = |m: &str| json!({ "content": [m] });
    assert_eq!(
        patch(trainee, 999_999, 1, json!({})).await,
        (StatusCode::BAD_REQUEST, field("This field is required."))
    );
    assert_eq!(
        patch(trainee, conv, mine.id, json!({"content": null})).await,
        (
            StatusCode::BAD_REQUEST,
            field("This field may not be null.")
        )
    );
    assert_eq!(
        patch(trainee, conv, mine.id, json!({"content": "x".repeat(2001)})).await,
        (
            StatusCode::BAD_REQUEST,
            field("Ensure this field has no more than 2000 characters.")
        )
    );
    assert_eq!(
        patch(trainee, 999_999, mine.id, json!({"content": "x"})).await,
        (StatusCode::NOT_FOUND, error("Conversation not found."))
    );
    assert_eq!(
        patch(
            &app.other_trainee.client,
            conv,
            mine.id,
            json!({"content": "x"})
        )
        .await,
        (
            StatusCode::FORBIDDEN,
            error("You do not have access to this conversation.")
        )
    );
    // A message of another conversation is "not found" here: 400, not 404.
    let other = app
        .other_trainer
        .client
        .start(app.other_trainee.id, "elsewhere", None)
        .await
        .unwrap()
        .1;
    assert_eq!(
        patch(trainee, conv, other.message.id, json!({"content": "x"})).await,
        (StatusCode::BAD_REQUEST, error("Message not found."))
    );
    assert_eq!(
        patch(trainee, conv, theirs.id, json!({"content": "x"})).await,
        (
            StatusCode::FORBIDDEN,
            error("You can only edit your own messages.")
        )
    );
    assert_eq!(
        patch(trainee, conv, mine.id, json!({"content": "   "})).await,
        (
            StatusCode::BAD_REQUEST,
            error("Content cannot be empty for a text-only message.")
        )
    );
    assert_eq!(
        trainee.delete_message(conv, mine.id).await.unwrap(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        patch(trainee, conv, mine.id, json!({"content": "x"})).await,
        (StatusCode::BAD_REQUEST, error("Message has been deleted."))
    );
}

async fn a_deleted_message_stays_in_place_as_a_tombstone(app: TestApp) {
    let conv = app.conversation().await;
    let (_, m) = app.trainee.client.send(conv, "oops", None).await.unwrap();
    app.trainee
        .client
        .edit_message(conv, m.id, "oops!")
        .await
        .unwrap();
    app.trainee.client.send(conv, "after", None).await.unwrap();
    let before = app.trainer.client.conversations(1).await.unwrap().results[0].clone();
    // Long past the edit window (within the token's hour): deletes have no window.
    app.advance(Duration::from_secs(50 * 60));
    let r = app
        .trainee
        .client
        .raw(
            Method::DELETE,
            &path(conv, m.id),
            Some(&json!({"ignored": true})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null, "no body");
    let page = app.trainer.client.messages(conv, 1).await.unwrap();
    assert_eq!(page.count, 3, "it keeps its place");
    let shown = page.results.iter().find(|x| x.id == m.id).unwrap();
    assert!(shown.is_deleted);
    assert_eq!((shown.content.as_str(), &shown.image), ("", &None));
    assert!(shown.edited_at.is_some(), "edited_at is kept");
    assert_eq!(shown.created_at, m.created_at);
    assert!(!shown.is_read);
    let after = app.trainer.client.conversations(1).await.unwrap().results[0].clone();
    assert_eq!(after.last_message_at, before.last_message_at);
    assert_eq!(
        after.unread_count, before.unread_count,
        "a deleted unread message still counts"
    );
    assert_eq!(after.last_message_preview.as_deref(), Some("after"));
    // Search no longer finds it.
    let found = app.trainer.client.search("oops", 1, None).await.unwrap();
    assert_eq!(found.count, 0);
}

async fn delete_checks_run_in_the_contracts_order(app: TestApp) {
    let conv = app.conversation().await;
    let (_, mine) = app.trainee.client.send(conv, "mine", None).await.unwrap();
    let theirs = app.trainer.client.messages(conv, 1).await.unwrap().results[1].clone();
    let trainee = &app.trainee.client;
    let imp = app.trainer_as_trainee().await;
    assert_eq!(
        delete(&imp, 999_999, 1).await,
        (
            StatusCode::FORBIDDEN,
            error("Cannot delete messages during impersonation.")
        )
    );
    assert_eq!(
        delete(trainee, 999_999, mine.id).await,
        (StatusCode::NOT_FOUND, error("Conversation not found."))
    );
    assert_eq!(
        delete(&app.other_trainer.client, conv, mine.id).await,
        (
            StatusCode::FORBIDDEN,
            error("You do not have access to this conversation.")
        )
    );
    assert_eq!(
        delete(trainee, conv, 999_999).await,
        (StatusCode::BAD_REQUEST, error("Message not found."))
    );
    assert_eq!(
        delete(trainee, conv, theirs.id).await,
        (
            StatusCode::FORBIDDEN,
            error("You can only delete your own messages.")
        )
    );
    assert_eq!(
        delete(trainee, conv, mine.id).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(trainee, conv, mine.id).await,
        (
            StatusCode::BAD_REQUEST,
            error("Message has already been deleted.")
        )
    );
    // Junk in the path is no route at all.
    assert_eq!(
        status_of(app.trainee.client.delete_message(conv, -1).await),
        StatusCode::NOT_FOUND
    );
}

async fn the_preview_follows_edits_and_deletes_of_the_newest_message_only(app: TestApp) {
    let conv = app.conversation().await;
    let (_, old) = app.trainee.client.send(conv, "older", None).await.unwrap();
    let (_, new) = app.trainee.client.send(conv, "newest", None).await.unwrap();
    let preview = || async {
        app.trainer.client.conversations(1).await.unwrap().results[0]
            .last_message_preview
            .clone()
    };
    app.trainee
        .client
        .edit_message(conv, old.id, "older, edited")
        .await
        .unwrap();
    assert_eq!(preview().await.as_deref(), Some("newest"));
    app.trainee
        .client
        .edit_message(conv, new.id, "newest, edited")
        .await
        .unwrap();
    assert_eq!(preview().await.as_deref(), Some("newest, edited"));
    app.trainee
        .client
        .delete_message(conv, new.id)
        .await
        .unwrap();
    assert_eq!(preview().await.as_deref(), Some("This message was deleted"));
    app.trainee
        .client
        .delete_message(conv, old.id)
        .await
        .unwrap();
    assert_eq!(preview().await.as_deref(), Some("This message was deleted"));
}

async fn send_edit_delete_and_search_share_one_bucket_of_thirty(app: TestApp) {
    let conv = app.conversation().await; // the trainer's start: not the trainee's bucket
    let c = &app.trainee.client;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(c.send(conv, &format!("set {i}"), None).await.unwrap().1.id);
    }
    for id in &ids[..5] {
        c.edit_message(conv, *id, "edited").await.unwrap();
    }
    for id in &ids[5..10] {
        c.delete_message(conv, *id).await.unwrap();
    }
    for _ in 0..5 {
        c.search("set", 1, None).await.unwrap();
    }
    // Refused requests take their slot too: 5 more, each a 400.
    for _ in 0..5 {
        assert_eq!(
            status_of(c.search("x", 1, None).await),
            StatusCode::BAD_REQUEST
        );
    }
    let r = c
        .raw(
            Method::PATCH,
            &path(conv, ids[0]),
            Some(&json!({"content": "31st"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "2");
    assert_eq!(
        r.body,
        json!({"detail": "Request was throttled. Expected available in 2 seconds."})
    );
    // Another user has a bucket of their own; time gives one slot back every two seconds.
    app.trainer.client.search("set", 1, None).await.unwrap();
    app.advance(Duration::from_secs(2));
    c.search("set", 1, None).await.unwrap();
    assert_eq!(
        status_of(c.search("set", 1, None).await),
        StatusCode::TOO_MANY_REQUESTS
    );
}
