//! Part C: notification preferences: 11 booleans in the contract's order, all on by default,
//! PATCH of any subset with the original's boolean spellings, and the refusals.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    preferences_default_to_on_in_the_contracts_order,
    a_patch_changes_only_what_it_names_and_reads_booleans_as_the_original,
    bad_values_are_refused_field_by_field_and_nothing_changes,
);

const PATH: &str = "/api/users/notification-preferences/";

const NAMES: [&str; 11] = [
    "trainee_workout",
    "trainee_weight_checkin",
    "trainee_started_workout",
    "trainee_finished_workout",
    "churn_alert",
    "re_engagement",
    "trainer_announcement",
    "achievement_earned",
    "community_event",
    "new_message",
    "community_activity",
];

async fn call(
    c: &spotter_client::Client,
    method: Method,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let r = c.raw(method, PATH, body.as_ref()).await.unwrap();
    (r.status, r.body)
}

async fn preferences_default_to_on_in_the_contracts_order(app: TestApp) {
    // The raw text: key order matters to the original's apps.
    let url = format!("{}{}", app.url.trim_end_matches('/'), PATH);
    let text = reqwest::Client::new()
        .get(url)
        .bearer_auth(app.trainee.client.token().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let expected = NAMES
        .iter()
        .map(|n| format!("\"{n}\":true"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(text, format!("{{{expected}}}"));
    assert_eq!(
        call(&app.anon, Method::GET, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_patch_changes_only_what_it_names_and_reads_booleans_as_the_original(app: TestApp) {
    let c = &app.trainee.client;
    let (status, body) = call(
        c,
        Method::PATCH,
        Some(json!({"new_message": "OFF", "churn_alert": 0, "re_engagement": "No", "unknown": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for n in NAMES {
        let off = matches!(n, "new_message" | "churn_alert" | "re_engagement");
        assert_eq!(body[n], json!(!off), "{n}");
    }
    let again = c
        .set_notification_preferences(
            &json!({"new_message": "yes", "churn_alert": 1, "community_event": "FALSE"}),
        )
        .await
        .unwrap();
    assert!(
        again.new_message && again.churn_alert && !again.re_engagement && !again.community_event
    );
    // Kept, and per user.
    assert_eq!(c.notification_preferences().await.unwrap(), again);
    assert!(
        app.trainer
            .client
            .notification_preferences()
            .await
            .unwrap()
            .re_engagement
    );
    // A read-only token may look, not change.
    let imp = app.trainer_as_trainee().await;
    assert_eq!(imp.notification_preferences().await.unwrap(), again);
    assert_eq!(
        call(&imp, Method::PATCH, Some(json!({"new_message": true})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

async fn bad_values_are_refused_field_by_field_and_nothing_changes(app: TestApp) {
    let c = &app.trainee.client;
    let (status, body) = call(
        c,
        Method::PATCH,
        Some(json!({"new_message": null, "churn_alert": "maybe", "trainee_workout": 2, "re_engagement": false})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "new_message": ["This field may not be null."],
            "churn_alert": ["Must be a valid boolean."],
            "trainee_workout": ["Must be a valid boolean."],
        })
    );
    assert!(
        c.notification_preferences().await.unwrap().re_engagement,
        "all or nothing"
    );
    assert_eq!(
        call(c, Method::PATCH, Some(json!([1]))).await.0,
        StatusCode::BAD_REQUEST
    );
}
