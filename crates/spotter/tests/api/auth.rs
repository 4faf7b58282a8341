//! Login, refresh rotation, `users/me/`, and tokens from the host platform.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{JWT_SECRET, PASSWORD, TestApp, status_of};

both_backends!(
    login_returns_tokens_that_open_users_me,
    wrong_credentials_answer_401_with_the_contract_detail,
    missing_login_fields_answer_400_per_field,
    refresh_rotates_and_a_reused_refresh_token_revokes_its_family,
    an_access_token_is_not_a_refresh_token_and_back,
    a_token_signed_by_the_host_platform_is_accepted,
    a_deactivated_or_deleted_user_is_refused,
    brute_force_on_one_email_is_throttled,
    an_access_token_lasts_an_hour_and_a_refresh_token_a_week,
);

async fn login_returns_tokens_that_open_users_me(app: TestApp) {
    let tokens = app.anon.login("TRAINER@test.io", PASSWORD).await.unwrap();
    let me = app.anon.with_token(tokens.access).me().await.unwrap();
    assert_eq!(me.id, app.trainer.id);
    assert_eq!(me.role, "trainer");
    assert!(!me.is_impersonating);
}

async fn wrong_credentials_answer_401_with_the_contract_detail(app: TestApp) {
    for (email, password) in [
        ("trainer@test.io", "wrong-password"),
        ("nobody@test.io", PASSWORD),
    ] {
        let raw = app
            .anon
            .raw(
                Method::POST,
                "api/auth/jwt/create/",
                Some(&json!({"email": email, "password": password})),
            )
            .await
            .unwrap();
        assert_eq!(raw.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            raw.body["detail"],
            "No active account found with the given credentials"
        );
    }
}

async fn missing_login_fields_answer_400_per_field(app: TestApp) {
    let raw = app
        .anon
        .raw(Method::POST, "api/auth/jwt/create/", Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(raw.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        raw.body,
        json!({"email": ["This field is required."], "password": ["This field is required."]})
    );
}

async fn refresh_rotates_and_a_reused_refresh_token_revokes_its_family(app: TestApp) {
    let first = app.anon.login("trainee@test.io", PASSWORD).await.unwrap();
    let second = app.anon.refresh(&first.refresh).await.unwrap();
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(
        app.anon.with_token(&second.access).me().await.unwrap().id,
        app.trainee.id
    );

    // The spent token again: refused, and the whole chain with it.
    let replay = app.anon.refresh(&first.refresh).await.unwrap_err();
    assert_eq!(replay.status(), Some(StatusCode::UNAUTHORIZED));
    let chain = app.anon.refresh(&second.refresh).await.unwrap_err();
    assert_eq!(chain.status(), Some(StatusCode::UNAUTHORIZED));

    // Another login is another chain, unaffected.
    let other = app.anon.login("trainee@test.io", PASSWORD).await.unwrap();
    app.anon.refresh(&other.refresh).await.unwrap();
}

async fn an_access_token_is_not_a_refresh_token_and_back(app: TestApp) {
    let tokens = app.anon.login("trainee@test.io", PASSWORD).await.unwrap();
    assert_eq!(
        app.anon.refresh(&tokens.access).await.unwrap_err().status(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let as_access = app.anon.with_token(&tokens.refresh).me().await.unwrap_err();
    assert_eq!(as_access.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(as_access.body().unwrap()["code"], "token_not_valid");
}

fn sign(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn a_token_signed_by_the_host_platform_is_accepted(app: TestApp) {
    let now = app.clock.now_secs();
    // Newer SimpleJWT writes user_id as a string.
    let token = sign(
        json!({"token_type": "access", "exp": now + 300, "iat": now, "jti": "abc123", "user_id": app.trainee.id.to_string()}),
        JWT_SECRET,
    );
    assert_eq!(
        app.anon.with_token(&token).me().await.unwrap().id,
        app.trainee.id
    );
    let wrong_key = sign(
        json!({"token_type": "access", "exp": now + 300, "iat": now, "jti": "x", "user_id": app.trainee.id}),
        "another-key",
    );
    assert_eq!(
        status_of(app.anon.with_token(&wrong_key).me().await),
        StatusCode::UNAUTHORIZED
    );
    let expired = sign(
        json!({"token_type": "access", "exp": now - 5, "iat": now - 100, "jti": "y", "user_id": app.trainee.id}),
        JWT_SECRET,
    );
    assert_eq!(
        status_of(app.anon.with_token(&expired).me().await),
        StatusCode::UNAUTHORIZED
    );
    let not_yet = sign(
        json!({"token_type": "access", "exp": now + 300, "nbf": now + 120, "iat": now, "jti": "z", "user_id": app.trainee.id}),
        JWT_SECRET,
    );
    assert_eq!(
        status_of(app.anon.with_token(&not_yet).me().await),
        StatusCode::UNAUTHORIZED
    );
}

async fn a_deactivated_or_deleted_user_is_refused(app: TestApp) {
    app.deactivate(app.trainee.id).await;
    let err = app.trainee.client.me().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(
        status_of(app.anon.login("trainee@test.io", PASSWORD).await),
        StatusCode::UNAUTHORIZED
    );
    app.delete_user(app.trainee2.id).await;
    assert_eq!(
        app.trainee2.client.me().await.unwrap_err().status(),
        Some(StatusCode::UNAUTHORIZED)
    );
}

async fn brute_force_on_one_email_is_throttled(app: TestApp) {
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let raw = app
            .anon
            .raw(
                Method::POST,
                "api/auth/jwt/create/",
                Some(&json!({"email": "trainer@test.io", "password": "guess"})),
            )
            .await
            .unwrap();
        statuses.push(raw.status);
    }
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED));
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

/// SimpleJWT's lifetimes, on the server's clock: an access token works through its hour and not
/// a second longer; its refresh token gets a new pair until its week is over.
async fn an_access_token_lasts_an_hour_and_a_refresh_token_a_week(app: TestApp) {
    use std::time::Duration;
    let tokens = app.anon.login("trainee@test.io", PASSWORD).await.unwrap();
    let me = app.anon.with_token(&tokens.access);
    app.advance(Duration::from_secs(3600));
    assert_eq!(me.me().await.unwrap().id, app.trainee.id, "its last second");
    app.advance(Duration::from_secs(1));
    assert_eq!(
        me.me().await.unwrap_err().status(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let fresh = app.anon.refresh(&tokens.refresh).await.unwrap();
    let again = app.anon.with_token(&fresh.access);
    assert_eq!(again.me().await.unwrap().id, app.trainee.id);
    app.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    assert_eq!(
        app.anon.refresh(&fresh.refresh).await.unwrap_err().status(),
        Some(StatusCode::UNAUTHORIZED),
        "a week after it was issued"
    );
}
