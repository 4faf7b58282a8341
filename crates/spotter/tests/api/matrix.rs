//! The authorization matrix: every endpoint and socket, every role, the expected answer.

use reqwest::Method;
use serde_json::{Value, json};
use spotter_client::{Client, Incoming};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(every_role_gets_the_expected_answer_everywhere);

/// Columns: admin, trainer (owner), other trainer, trainee (participant), other trainee,
/// impersonating (the trainer acting as the trainee), anonymous.
const ROLES: [&str; 7] = [
    "admin",
    "trainer",
    "other trainer",
    "trainee",
    "other trainee",
    "impersonating",
    "anonymous",
];

async fn status(c: &Client, method: Method, path: &str, body: Option<&Value>) -> u16 {
    c.raw(method, path, body).await.unwrap().status.as_u16()
}

/// 0 when the socket stays open (a ping is answered), else the close code.
async fn socket(c: &Client, conversation: Option<i64>) -> u16 {
    let mut s = c.socket(conversation, None).await.unwrap();
    let _ = s.send_json(&json!({"type": "ping"})).await;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), s.next())
            .await
            .unwrap()
        {
            Some(Incoming::Closed(code, _)) => return code,
            Some(Incoming::Frame(spotter_client::ServerFrame::Pong)) => return 0,
            Some(_) => continue,
            None => return 1006,
        }
    }
}

async fn every_role_gets_the_expected_answer_everywhere(app: TestApp) {
    let conv = app.conversation().await;
    let impersonating = app.trainer_as_trainee().await;
    let clients = [
        &app.admin.client,
        &app.trainer.client,
        &app.other_trainer.client,
        &app.trainee.client,
        &app.other_trainee.client,
        &impersonating,
        &app.anon,
    ];
    let (trainee, trainer) = (app.trainee.id, app.trainer.id);
    let send = json!({"content": "matrix"});
    let start = json!({"trainee_id": trainee, "content": "matrix"});
    let reply = json!({"title": "matrix", "content": "saved"});
    let edit = json!({"content": "changed"});
    let template = app
        .trainer
        .client
        .create_template("kept", "saved")
        .await
        .unwrap()
        .id;
    let rows: Vec<(Method, String, Option<&Value>, [u16; 7])> = vec![
        (
            Method::GET,
            "api/messaging/conversations/".into(),
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            format!("api/messaging/conversations/{conv}/messages/"),
            None,
            [403, 200, 403, 200, 403, 200, 401],
        ),
        (
            Method::POST,
            format!("api/messaging/conversations/{conv}/send/"),
            Some(&send),
            [403, 201, 403, 201, 403, 403, 401],
        ),
        (
            Method::POST,
            format!("api/messaging/conversations/{conv}/read/"),
            None,
            [403, 200, 403, 200, 403, 200, 401],
        ),
        (
            Method::POST,
            "api/messaging/conversations/start/".into(),
            Some(&start),
            [403, 201, 400, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "api/messaging/unread-count/".into(),
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            "api/auth/users/me/".into(),
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        (
            Method::GET,
            "api/trainer/trainees/".into(),
            None,
            [403, 200, 200, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("api/trainer/trainees/{trainee}/"),
            None,
            [403, 200, 404, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            format!("api/trainer/impersonate/{trainee}/start/"),
            None,
            [403, 200, 404, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "api/trainer/impersonate/end/".into(),
            None,
            [403, 403, 403, 403, 403, 200, 401],
        ),
        (
            Method::POST,
            format!("api/admin/impersonate/{trainer}/"),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "api/admin/impersonate/end/".into(),
            None,
            [403, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "api/messaging/conversations/?needs_reply=true".into(),
            None,
            [403, 200, 200, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "api/messaging/templates/".into(),
            None,
            [403, 200, 200, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "api/messaging/templates/".into(),
            Some(&reply),
            [403, 201, 201, 403, 403, 403, 401],
        ),
        (
            Method::PATCH,
            format!("api/messaging/templates/{template}/"),
            Some(&edit),
            [403, 200, 404, 403, 403, 403, 401],
        ),
        (
            Method::DELETE,
            format!("api/messaging/templates/{template}/"),
            None,
            [403, 204, 404, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "api/trainer/messaging-stats/?days=30".into(),
            None,
            [403, 200, 200, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "api/push/vapid-public-key/".into(),
            None,
            [200, 200, 200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "api/admin/users/".into(),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("api/admin/conversations/?user={trainee}"),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("api/admin/conversations/{conv}/messages/"),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            format!("api/admin/search/?user={trainee}&q=matrix"),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            "api/admin/audit-log/".into(),
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            "api/admin/audit-log/".into(),
            None,
            [405, 405, 405, 405, 405, 405, 405],
        ),
        (
            Method::GET,
            "api/users/access-log/".into(),
            None,
            [200, 200, 200, 200, 200, 403, 401],
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &rows {
        for (i, c) in clients.iter().enumerate() {
            let got = status(c, method.clone(), path, *body).await;
            if got != expected[i] {
                wrong.push(format!(
                    "{method} {path} as {}: expected {}, got {got}",
                    ROLES[i], expected[i]
                ));
            }
        }
    }
    let sockets: [(Option<i64>, [u16; 7]); 2] = [
        (Some(conv), [4003, 0, 4003, 0, 4003, 0, 4001]),
        (None, [0, 0, 0, 0, 0, 0, 4001]),
    ];
    for (target, expected) in sockets {
        for (i, c) in clients.iter().enumerate() {
            let got = socket(c, target).await;
            if got != expected[i] {
                wrong.push(format!(
                    "socket {target:?} as {}: expected {}, got {got}",
                    ROLES[i], expected[i]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "authorization matrix:\n{}",
        wrong.join("\n")
    );
    // An impersonating read is read-only: it marks nothing, so the trainer sees no false receipt.
    app.trainer
        .client
        .send(conv, "unread until Tia herself reads it", None)
        .await
        .unwrap();
    let before = app.trainee.client.unread_count().await.unwrap();
    let r = impersonating.mark_read(conv).await.unwrap();
    assert_eq!(r.messages_marked, 0);
    assert_eq!(app.trainee.client.unread_count().await.unwrap(), before);
    assert!(before >= 1);
}
