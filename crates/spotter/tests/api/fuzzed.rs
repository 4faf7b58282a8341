//! What schema fuzzing (`scripts/schemathesis.sh`) found, kept as regressions: each case once
//! answered 500.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spotter_client::Client;

use crate::both_backends;
use crate::helpers::{PASSWORD, TestApp};

both_backends!(
    null_characters_in_text_fields_answer_400,
    a_search_with_a_null_character_matches_nothing,
);

const NUL: &str = "Null characters are not allowed.";

fn assert_nul_refused(body: &Value, field: &str) {
    assert_eq!(body[field], json!([NUL]), "{body}");
}

/// DRF's `CharField` refuses NUL ("Null characters are not allowed."); PostgreSQL refuses it in
/// text, and the server used to pass it through to the store (500 on PostgreSQL, stored on
/// SQLite).
async fn null_characters_in_text_fields_answer_400(app: TestApp) {
    let conv = app.conversation().await;
    let trainer = &app.trainer.client;
    let cases: Vec<(&Client, String, Value, &str)> = vec![
        (
            trainer,
            format!("api/messaging/conversations/{conv}/send/"),
            json!({"content": "a\u{0}b"}),
            "content",
        ),
        (
            trainer,
            format!("api/messaging/conversations/{conv}/send/"),
            json!({"content": "ok", "client_message_id": "\u{0}"}),
            "client_message_id",
        ),
        (
            trainer,
            "api/messaging/conversations/start/".to_owned(),
            json!({"trainee_id": app.trainee2.id, "content": "\u{0}"}),
            "content",
        ),
        (
            &app.anon,
            "api/auth/jwt/create/".to_owned(),
            json!({"email": "\u{0}", "password": PASSWORD}),
            "email",
        ),
        (
            &app.anon,
            "api/auth/jwt/create/".to_owned(),
            json!({"email": app.trainee.email, "password": "x\u{0}"}),
            "password",
        ),
        (
            &app.trainee.client,
            "api/users/device-token/".to_owned(),
            json!({"platform": "ios", "token": "t\u{0}"}),
            "token",
        ),
    ];
    for (client, path, body, field) in cases {
        let r = client.raw(Method::POST, &path, Some(&body)).await.unwrap();
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{path} {body} -> {}",
            r.body
        );
        assert_nul_refused(&r.body, field);
    }
    let r = app
        .trainee
        .client
        .raw(
            Method::DELETE,
            "api/users/device-token/",
            Some(&json!({"token": "t\u{0}"})),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_nul_refused(&r.body, "token");
    // Nothing was stored: the conversation still holds its first message only.
    let page = trainer.messages(conv, 1).await.unwrap();
    assert_eq!(page.count, 1);
}

/// `?search=` with a NUL: no trainee can match (500 on PostgreSQL before).
async fn a_search_with_a_null_character_matches_nothing(app: TestApp) {
    let c = &app.trainer.client;
    for search in ["\u{0}", "Tia\u{0}"] {
        let page = c.trainees(Some(search)).await.unwrap();
        assert_eq!(page.count, 0, "{search:?}");
        assert!(page.results.is_empty());
    }
    let r = c
        .raw(Method::GET, "api/trainer/trainees/?search=%00&page=2", None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(c.trainees(Some("Tia")).await.unwrap().count, 1);
}
