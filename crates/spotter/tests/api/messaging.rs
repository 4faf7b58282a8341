//! The six messaging endpoints: each success and each error of the contract's table.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    start_creates_then_reuses_the_conversation,
    start_refuses_non_trainers_impersonation_bad_fields_and_foreign_trainees,
    send_answers_201_with_the_message,
    send_checks_in_the_contract_order,
    list_is_newest_activity_first_with_previews_and_unread_counts,
    messages_page_is_newest_first_and_guarded,
    mark_read_marks_the_other_partys_messages,
    unread_count_sums_over_conversations,
);

async fn start_creates_then_reuses_the_conversation(app: TestApp) {
    let (status, first) = app
        .trainer
        .client
        .start(app.trainee.id, "  Hello Tia  ", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert!(first.is_new_conversation);
    assert_eq!(first.message.content, "Hello Tia");
    assert_eq!(first.message.sender.as_ref().unwrap().id, app.trainer.id);
    assert!(!first.message.is_read);
    assert!(first.message.read_at.is_none());
    assert!(
        first.message.created_at.ends_with('Z') && first.message.created_at.len() == 27,
        "{}",
        first.message.created_at
    );

    let (status, again) = app
        .trainer
        .client
        .start(app.trainee.id, "Again", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again.conversation_id, first.conversation_id);
    assert!(!again.is_new_conversation);
}

async fn start_refuses_non_trainers_impersonation_bad_fields_and_foreign_trainees(app: TestApp) {
    let start = |c: &spotter_client::Client, body: serde_json::Value| {
        let c = c.clone();
        async move {
            c.raw(
                Method::POST,
                "api/messaging/conversations/start/",
                Some(&body),
            )
            .await
            .unwrap()
        }
    };
    let r = start(
        &app.trainee.client,
        json!({"trainee_id": app.trainee2.id, "content": "hi"}),
    )
    .await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "Only trainers can start conversations."})
        )
    );

    let as_trainer = app.admin_as_trainer().await;
    let r = start(
        &as_trainer,
        json!({"trainee_id": app.trainee.id, "content": "hi"}),
    )
    .await;
    // The same words as send's, as the original answers.
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "Cannot send messages during impersonation."})
        )
    );

    let r = start(&app.trainer.client, json!({"content": "hi"})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"trainee_id": ["This field is required."]})
        )
    );
    let r = start(
        &app.trainer.client,
        json!({"trainee_id": "abc", "content": " "}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["trainee_id"],
        json!(["A valid integer is required."])
    );
    assert_eq!(r.body["content"], json!(["This field may not be blank."]));
    let r = start(
        &app.trainer.client,
        json!({"trainee_id": app.trainee.id, "content": "x".repeat(2001)}),
    )
    .await;
    assert_eq!(
        r.body,
        json!({"content": ["Ensure this field has no more than 2000 characters."]})
    );

    for foreign in [app.other_trainee.id, app.other_trainer.id, 999_999] {
        let r = start(
            &app.trainer.client,
            json!({"trainee_id": foreign, "content": "hi"}),
        )
        .await;
        assert_eq!(
            (r.status, r.body),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "Trainee not found or not assigned to you."})
            )
        );
    }
}

async fn send_answers_201_with_the_message(app: TestApp) {
    let conv = app.conversation().await;
    let (status, m) = app
        .trainee
        .client
        .send(conv, "\n Thanks coach! \n", None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(m.content, "Thanks coach!");
    assert_eq!(m.conversation_id, conv);
    let sender = m.sender.unwrap();
    assert_eq!(
        (sender.id, sender.first_name.as_str()),
        (app.trainee.id, "Tia")
    );
}

async fn send_checks_in_the_contract_order(app: TestApp) {
    let conv = app.conversation().await;
    let send = |c: &spotter_client::Client, id: i64, body: serde_json::Value| {
        let c = c.clone();
        async move {
            c.raw(
                Method::POST,
                &format!("api/messaging/conversations/{id}/send/"),
                Some(&body),
            )
            .await
            .unwrap()
        }
    };
    // Impersonation first: even with blank content and no such conversation.
    let as_trainee = app.trainer_as_trainee().await;
    let r = send(&as_trainee, 999_999, json!({"content": ""})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "Cannot send messages during impersonation."})
        )
    );
    // Content before existence.
    let r = send(&app.trainer.client, 999_999, json!({"content": "   "})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"content": ["This field may not be blank."]})
        )
    );
    // Part C: with images, an empty body is "neither text nor image".
    let r = send(&app.trainer.client, conv, json!({})).await;
    assert_eq!(
        r.body,
        json!({"error": "Message must contain text or an image."})
    );
    // Existence before participation.
    let r = send(&app.other_trainer.client, 999_999, json!({"content": "hi"})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Conversation not found."})
        )
    );
    let r = send(&app.other_trainer.client, conv, json!({"content": "hi"})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "You do not have access to this conversation."})
        )
    );
    // Archive last.
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    let r = send(&app.trainer.client, conv, json!({"content": "hi"})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "Cannot send messages in an archived conversation."})
        )
    );
}

async fn list_is_newest_activity_first_with_previews_and_unread_counts(app: TestApp) {
    let first = app.conversation().await;
    let (_, second) = app
        .trainer
        .client
        .start(app.trainee2.id, "Hi Theo", None)
        .await
        .unwrap();
    let long = "y".repeat(150);
    app.trainee.client.send(first, &long, None).await.unwrap();

    let page = app.trainer.client.conversations(1).await.unwrap();
    assert_eq!(page.count, 2);
    assert_eq!(
        page.results.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![first, second.conversation_id]
    );
    let top = &page.results[0];
    assert_eq!(top.last_message_preview.as_deref(), Some(&long[..100]));
    assert_eq!(top.unread_count, 1);
    assert_eq!(top.trainer.id, app.trainer.id);
    assert_eq!(top.trainee.as_ref().unwrap().email, "trainee@test.io");
    assert!(!top.is_archived);
    assert!(top.last_message_at.is_some());

    let theirs = app.trainee.client.conversations(1).await.unwrap();
    assert_eq!(theirs.count, 1);
    assert_eq!(
        theirs.results[0].unread_count, 1,
        "the trainer's welcome is unread for the trainee"
    );
    assert!(
        app.other_trainer
            .client
            .conversations(1)
            .await
            .unwrap()
            .results
            .is_empty()
    );
}

async fn messages_page_is_newest_first_and_guarded(app: TestApp) {
    let conv = app.conversation().await;
    for i in 0..24 {
        app.trainee
            .client
            .send(conv, &format!("m{i}"), None)
            .await
            .unwrap();
    }
    let p1 = app.trainer.client.messages(conv, 1).await.unwrap();
    assert_eq!(p1.count, 25);
    assert_eq!(p1.results.len(), 20);
    assert_eq!(p1.results[0].content, "m23");
    assert!(p1.results.windows(2).all(|w| w[0].id > w[1].id));
    let next = p1.next.clone().unwrap();
    assert!(
        next.starts_with("http://")
            && next.ends_with(&format!(
                "/api/messaging/conversations/{conv}/messages/?page=2"
            )),
        "{next}"
    );
    assert!(p1.previous.is_none());
    let p2 = app.trainer.client.messages(conv, 2).await.unwrap();
    assert_eq!(p2.results.len(), 5);
    assert_eq!(p2.results.last().unwrap().content, "Welcome!");
    assert!(p2.next.is_none());
    assert!(p2.previous.unwrap().ends_with("/messages/"));
    let beyond = app.trainer.client.messages(conv, 3).await.unwrap_err();
    assert_eq!(
        (beyond.status(), beyond.body().cloned()),
        (
            Some(StatusCode::NOT_FOUND),
            Some(json!({"detail": "Invalid page."}))
        )
    );

    let missing = app.trainer.client.messages(999_999, 1).await.unwrap_err();
    assert_eq!(
        missing.body().cloned(),
        Some(json!({"error": "Conversation not found."}))
    );
    assert_eq!(missing.status(), Some(StatusCode::NOT_FOUND));
    let foreign = app
        .other_trainee
        .client
        .messages(conv, 1)
        .await
        .unwrap_err();
    assert_eq!(
        (foreign.status(), foreign.body().cloned()),
        (
            Some(StatusCode::FORBIDDEN),
            Some(json!({"error": "You do not have access to this conversation."}))
        )
    );
}

async fn mark_read_marks_the_other_partys_messages(app: TestApp) {
    let conv = app.conversation().await;
    app.trainer.client.send(conv, "two", None).await.unwrap();
    app.trainee.client.send(conv, "reply", None).await.unwrap();

    let r = app.trainee.client.mark_read(conv).await.unwrap();
    assert_eq!((r.conversation_id, r.messages_marked), (conv, 2));
    assert!(r.read_at.ends_with('Z'));
    let msgs = app.trainer.client.messages(conv, 1).await.unwrap().results;
    for m in &msgs {
        let from_trainer = m.sender.as_ref().unwrap().id == app.trainer.id;
        assert_eq!(m.is_read, from_trainer, "{m:?}");
        assert_eq!(m.read_at.is_some(), from_trainer);
    }
    assert_eq!(
        app.trainee
            .client
            .mark_read(conv)
            .await
            .unwrap()
            .messages_marked,
        0
    );

    let missing = app.trainee.client.mark_read(999_999).await.unwrap_err();
    assert_eq!(missing.status(), Some(StatusCode::NOT_FOUND));
    let foreign = app.other_trainer.client.mark_read(conv).await.unwrap_err();
    assert_eq!(foreign.status(), Some(StatusCode::FORBIDDEN));
}

async fn unread_count_sums_over_conversations(app: TestApp) {
    let a = app.conversation().await;
    let (_, b) = app
        .trainer
        .client
        .start(app.trainee2.id, "hi", None)
        .await
        .unwrap();
    app.trainee.client.send(a, "1", None).await.unwrap();
    app.trainee.client.send(a, "2", None).await.unwrap();
    app.trainee2
        .client
        .send(b.conversation_id, "3", None)
        .await
        .unwrap();
    assert_eq!(app.trainer.client.unread_count().await.unwrap(), 3);
    assert_eq!(app.trainee.client.unread_count().await.unwrap(), 1);
    app.trainer.client.mark_read(a).await.unwrap();
    assert_eq!(app.trainer.client.unread_count().await.unwrap(), 1);
    assert_eq!(app.other_trainer.client.unread_count().await.unwrap(), 0);
}
