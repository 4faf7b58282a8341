//! Bad input never hurts: malformed bodies, wrong types, junk paths, oversized bodies and
//! floods each get a 4xx with a JSON body, never a 500 or a hang.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    malformed_bodies_answer_400_with_json,
    junk_paths_and_ids_answer_404_with_json,
    bodies_over_64_kib_answer_413,
    the_31st_send_in_a_minute_is_throttled_with_retry_after,
    unknown_methods_answer_405_with_json,
);

async fn post_bytes(app: &TestApp, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let token = app.trainer.client.token().unwrap().to_owned();
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", app.url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

async fn malformed_bodies_answer_400_with_json(app: TestApp) {
    let conv = app.conversation().await;
    let path = format!("api/messaging/conversations/{conv}/send/");
    let cases: Vec<Vec<u8>> = vec![
        b"{\"content\":".to_vec(),
        b"not json at all".to_vec(),
        vec![0xff, 0xfe, b'{', b'}'],
        b"{\"content\": \"\xc3\x28\"}".to_vec(),
        b"[1,2,3]".to_vec(),
        b"\"just a string\"".to_vec(),
        b"{\"content\": {\"nested\": true}}".to_vec(),
        b"{\"content\": [\"a\"]}".to_vec(),
        b"{\"content\": null}".to_vec(),
        b"{\"content\": \"ok\", \"client_message_id\": {}}".to_vec(),
        b"{\"content\": \"ok\", \"client_message_id\": \"\"}".to_vec(),
    ];
    for body in cases {
        let (status, json) = post_bytes(&app, &path, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{:?} -> {json}",
            String::from_utf8_lossy(&body)
        );
        assert!(json.is_object(), "{json}");
    }
    let (status, json) = post_bytes(
        &app,
        "api/messaging/conversations/start/",
        b"{\"trainee_id\": 1e400, \"content\": \"x\"}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    let (status, _) = post_bytes(
        &app,
        "api/messaging/conversations/start/",
        b"{\"trainee_id\": 99999999999999999999999, \"content\": \"x\"}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn junk_paths_and_ids_answer_404_with_json(app: TestApp) {
    let c = &app.trainer.client;
    for path in [
        "api/messaging/conversations/abc/messages/",
        "api/messaging/conversations/-1/messages/",
        "api/messaging/conversations/0/messages/",
        "api/messaging/conversations/99999999999999999999999/messages/",
        "api/messaging/conversations/1%00/messages/",
        "api/messaging/conversations/9223372036854775807/messages/",
        "api/messaging/nothing-here/",
        "api/trainer/trainees/abc/",
        "api/messaging/conversations",
    ] {
        let raw = c.raw(Method::GET, path, None).await.unwrap();
        assert_eq!(raw.status, StatusCode::NOT_FOUND, "{path}: {:?}", raw.body);
        assert!(raw.body.is_object(), "{path}");
    }
    for path in [
        "api/messaging/conversations/1/messages/?page=0",
        "api/messaging/conversations/1/messages/?page=x",
        "api/messaging/conversations/?page=99",
    ] {
        let raw = c.raw(Method::GET, path, None).await.unwrap();
        assert!(raw.status.is_client_error(), "{path}: {}", raw.status);
        assert!(raw.body.is_object());
    }
}

async fn bodies_over_64_kib_answer_413(app: TestApp) {
    let conv = app.conversation().await;
    let big = serde_json::to_vec(&json!({"content": "x".repeat(70 * 1024)})).unwrap();
    let (status, body) = post_bytes(
        &app,
        &format!("api/messaging/conversations/{conv}/send/"),
        big,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["detail"].is_string());
    // Just under the limit, but over 2000 characters: a 400 about the content.
    let (status, body) = post_bytes(
        &app,
        &format!("api/messaging/conversations/{conv}/send/"),
        serde_json::to_vec(&json!({"content": "x".repeat(60 * 1024)})).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["content"].is_array());
}

async fn the_31st_send_in_a_minute_is_throttled_with_retry_after(app: TestApp) {
    let conv = app.conversation().await;
    for i in 0..30 {
        app.trainee
            .client
            .send(conv, &format!("{i}"), None)
            .await
            .unwrap();
    }
    let raw = app
        .trainee
        .client
        .raw(
            Method::POST,
            &format!("api/messaging/conversations/{conv}/send/"),
            Some(&json!({"content": "one too many"})),
        )
        .await
        .unwrap();
    assert_eq!(raw.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = raw.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(
        raw.body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
    // The other party is not held back by it.
    app.trainer
        .client
        .send(conv, "still fine", None)
        .await
        .unwrap();
    // Starts share the budget: the trainer has used 2 of 30.
    assert_eq!(
        app.trainee.client.messages(conv, 1).await.unwrap().count,
        32
    );
}

async fn unknown_methods_answer_405_with_json(app: TestApp) {
    let raw = app
        .trainer
        .client
        .raw(Method::PUT, "api/messaging/unread-count/", None)
        .await
        .unwrap();
    assert_eq!(raw.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(raw.body["detail"].is_string());
    let raw = app
        .trainer
        .client
        .raw(Method::GET, "api/messaging/conversations/start/", None)
        .await
        .unwrap();
    assert_eq!(raw.status, StatusCode::METHOD_NOT_ALLOWED);
}
