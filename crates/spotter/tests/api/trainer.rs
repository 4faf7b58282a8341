//! The trainer's roster and the admin's impersonation.

use reqwest::StatusCode;

use crate::both_backends;
use crate::helpers::{TestApp, status_of};

both_backends!(
    trainees_list_is_own_and_searchable,
    trainee_detail_and_remove,
    admin_impersonates_a_trainer_read_only
);

async fn trainees_list_is_own_and_searchable(app: TestApp) {
    let all = app.trainer.client.trainees(None).await.unwrap();
    assert_eq!(all.count, 2);
    let mut emails: Vec<_> = all.results.iter().map(|u| u.email.as_str()).collect();
    emails.sort();
    assert_eq!(emails, vec!["trainee2@test.io", "trainee@test.io"]);
    let found = app.trainer.client.trainees(Some("THEO")).await.unwrap();
    assert_eq!(
        found.results.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![app.trainee2.id]
    );
    assert_eq!(
        app.trainer
            .client
            .trainees(Some("olga"))
            .await
            .unwrap()
            .count,
        0,
        "not another trainer's"
    );
    assert_eq!(
        app.trainer
            .client
            .trainees(Some("100%_"))
            .await
            .unwrap()
            .count,
        0,
        "wildcards are literal"
    );
    assert_eq!(
        status_of(app.trainee.client.trainees(None).await),
        StatusCode::FORBIDDEN
    );
}

async fn trainee_detail_and_remove(app: TestApp) {
    let t = app.trainer.client.trainee(app.trainee.id).await.unwrap();
    assert_eq!((t.id, t.first_name.as_str()), (app.trainee.id, "Tia"));
    assert_eq!(
        status_of(app.trainer.client.trainee(app.other_trainee.id).await),
        StatusCode::NOT_FOUND
    );
    let removed = app
        .trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    assert!(
        removed["archived_conversation_id"].is_null(),
        "no conversation yet"
    );
    assert_eq!(app.trainer.client.trainees(None).await.unwrap().count, 1);
    assert_eq!(
        status_of(app.trainer.client.remove_trainee(app.trainee.id).await),
        StatusCode::NOT_FOUND
    );
}

async fn admin_impersonates_a_trainer_read_only(app: TestApp) {
    let conv = app.conversation().await;
    let imp = app
        .admin
        .client
        .admin_impersonate(app.trainer.id)
        .await
        .unwrap();
    assert_eq!(imp.user.id, app.trainer.id);
    let as_trainer = app.anon.with_token(&imp.access);
    assert_eq!(as_trainer.messages(conv, 1).await.unwrap().count, 1);
    assert_eq!(
        as_trainer.send(conv, "x", None).await.unwrap_err().status(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        status_of(as_trainer.remove_trainee(app.trainee.id).await),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_trainer
            .end_trainee_impersonation()
            .await
            .unwrap_err()
            .status(),
        Some(StatusCode::FORBIDDEN),
        "not a trainer's impersonation"
    );
    let back = as_trainer.end_admin_impersonation().await.unwrap();
    assert_eq!(back.user.id, app.admin.id);
    assert_eq!(
        status_of(app.trainer.client.admin_impersonate(app.trainer.id).await),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(app.admin.client.admin_impersonate(app.trainee.id).await),
        StatusCode::NOT_FOUND
    );
}
