//! Row-level security: a trainer of other trainees, a stranger trainee and anonymous callers
//! get the contract's answer on every endpoint of a conversation that is not theirs.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    strangers_get_403_on_every_conversation_endpoint,
    anonymous_callers_get_401_everywhere
);

async fn strangers_get_403_on_every_conversation_endpoint(app: TestApp) {
    let conv = app.conversation().await;
    let body = json!({"content": "let me in"});
    for stranger in [
        &app.other_trainer,
        &app.other_trainee,
        &app.trainee2,
        &app.admin,
    ] {
        for (method, path, body) in [
            (
                Method::GET,
                format!("api/messaging/conversations/{conv}/messages/"),
                None,
            ),
            (
                Method::POST,
                format!("api/messaging/conversations/{conv}/send/"),
                Some(&body),
            ),
            (
                Method::POST,
                format!("api/messaging/conversations/{conv}/read/"),
                None,
            ),
        ] {
            let raw = stranger.client.raw(method, &path, body).await.unwrap();
            assert_eq!(
                raw.status,
                StatusCode::FORBIDDEN,
                "{} {path}",
                stranger.email
            );
            assert_eq!(
                raw.body,
                json!({"error": "You do not have access to this conversation."})
            );
        }
        let list = stranger.client.conversations(1).await.unwrap();
        assert!(
            list.results.iter().all(|c| c.id != conv),
            "{} must not list it",
            stranger.email
        );
        assert_eq!(stranger.client.unread_count().await.unwrap(), 0);
    }
    // Trainer endpoints on someone else's trainee: 404, as if it did not exist.
    for path in [format!("api/trainer/trainees/{}/", app.trainee.id)] {
        let raw = app
            .other_trainer
            .client
            .raw(Method::GET, &path, None)
            .await
            .unwrap();
        assert_eq!(raw.status, StatusCode::NOT_FOUND);
    }
    let raw = app
        .other_trainer
        .client
        .raw(
            Method::POST,
            &format!("api/trainer/trainees/{}/remove/", app.trainee.id),
            None,
        )
        .await
        .unwrap();
    assert_eq!(raw.status, StatusCode::NOT_FOUND);
    // Nothing changed for the real pair.
    assert_eq!(app.trainee.client.conversations(1).await.unwrap().count, 1);
}

async fn anonymous_callers_get_401_everywhere(app: TestApp) {
    let conv = app.conversation().await;
    let garbage = app.anon.with_token("not.a.jwt");
    for client in [&app.anon, &garbage] {
        for (method, path) in [
            (Method::GET, "api/messaging/conversations/".to_owned()),
            (
                Method::POST,
                "api/messaging/conversations/start/".to_owned(),
            ),
            (
                Method::GET,
                format!("api/messaging/conversations/{conv}/messages/"),
            ),
            (
                Method::POST,
                format!("api/messaging/conversations/{conv}/send/"),
            ),
            (
                Method::POST,
                format!("api/messaging/conversations/{conv}/read/"),
            ),
            (Method::GET, "api/messaging/unread-count/".to_owned()),
            (Method::GET, "api/auth/users/me/".to_owned()),
            (Method::GET, "api/trainer/trainees/".to_owned()),
            (Method::POST, "api/trainer/impersonate/end/".to_owned()),
            (Method::POST, "api/admin/impersonate/1/".to_owned()),
            (Method::POST, "api/users/device-token/".to_owned()),
        ] {
            let raw = client
                .raw(method, &path, Some(&json!({"content": "x"})))
                .await
                .unwrap();
            assert_eq!(raw.status, StatusCode::UNAUTHORIZED, "{path}");
            assert!(raw.body["detail"].is_string(), "{path}");
        }
    }
}
