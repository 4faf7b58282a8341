//! Device registration for push: FCM tokens and Web Push subscriptions.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    devices_register_and_unregister,
    bad_device_bodies_answer_400,
    an_impersonation_token_cannot_register_or_remove_devices
);

async fn devices_register_and_unregister(app: TestApp) {
    let c = &app.trainee.client;
    c.register_device(&json!({"token": "fcm-token-1", "platform": "android"}))
        .await
        .unwrap();
    c.register_device(&json!({"token": "fcm-token-1", "platform": "android"}))
        .await
        .unwrap();
    let sub = json!({"platform": "webpush", "subscription": {"endpoint": "https://push.example.com/abc", "expirationTime": null, "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}}});
    c.register_device(&sub).await.unwrap();
    let devices = app.active_platforms(app.trainee.id).await;
    assert_eq!(
        devices,
        ["android", "webpush"],
        "the same token twice is one device"
    );
    assert_eq!(
        c.unregister_device(&json!({"token": "fcm-token-1"}))
            .await
            .unwrap(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.unregister_device(&sub).await.unwrap(),
        StatusCode::NO_CONTENT
    );
    assert!(app.active_platforms(app.trainee.id).await.is_empty());
}

async fn bad_device_bodies_answer_400(app: TestApp) {
    for body in [
        json!({}),
        json!({"token": "t"}),
        json!({"token": "t", "platform": "blackberry"}),
        json!({"platform": "ios"}),
        json!({"platform": "webpush"}),
        json!({"platform": "webpush", "subscription": {"endpoint": "ftp://x", "keys": {"p256dh": "a", "auth": "b"}}}),
        json!({"platform": "webpush", "subscription": {"endpoint": "https://x.example/1", "keys": {"p256dh": "not base64!", "auth": "b"}}}),
    ] {
        let err = app.trainee.client.register_device(&body).await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST), "{body}");
    }
}

/// A read-only token must not aim the impersonated user's notifications at the impersonator's
/// device (nor take theirs away).
async fn an_impersonation_token_cannot_register_or_remove_devices(app: TestApp) {
    app.trainee
        .client
        .register_device(&json!({"token": "trainee-phone", "platform": "ios"}))
        .await
        .unwrap();
    let as_trainee = app.trainer_as_trainee().await;
    let refused = json!({"detail": "This action is not allowed during impersonation."});
    let err = as_trainee
        .register_device(&json!({"token": "trainer-phone", "platform": "android"}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.body().cloned()),
        (Some(StatusCode::FORBIDDEN), Some(refused.clone()))
    );
    let err = as_trainee
        .unregister_device(&json!({"token": "trainee-phone"}))
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.body().cloned()),
        (Some(StatusCode::FORBIDDEN), Some(refused))
    );
    assert_eq!(app.active_platforms(app.trainee.id).await, ["ios"]);
}
