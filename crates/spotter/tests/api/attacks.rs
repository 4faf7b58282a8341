//! Token attacks, each tried on REST (401) and on the socket (close 4001).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use spotter_client::{Client, Incoming};

use crate::both_backends;
use crate::helpers::{JWT_SECRET, PASSWORD, TestApp, status_of};

both_backends!(
    every_forged_or_stale_token_is_refused_on_rest_and_socket,
    a_reused_refresh_token_revokes_its_whole_family
);

fn sign(alg: Algorithm, claims: &Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

/// Valid claims for `user` at `now` (the server's clock, in seconds).
fn claims(user: i64, now: i64) -> Value {
    json!({"token_type": "access", "exp": now + 600, "iat": now, "jti": uuid::Uuid::new_v4().simple().to_string(), "user_id": user})
}

/// Refused on REST with 401 and on a socket with 4001.
async fn refused(app: &TestApp, conv: i64, name: &str, token: &str) {
    let c = app.anon.with_token(token);
    let rest = c.me().await.unwrap_err();
    assert_eq!(
        rest.status(),
        Some(StatusCode::UNAUTHORIZED),
        "{name}: REST"
    );
    let mut s = c.socket(Some(conv), None).await.unwrap();
    match tokio::time::timeout(std::time::Duration::from_secs(5), s.next())
        .await
        .unwrap()
    {
        Some(Incoming::Closed(code, _)) => assert_eq!(code, 4001, "{name}: socket"),
        other => panic!("{name}: socket answered {other:?}"),
    }
}

async fn every_forged_or_stale_token_is_refused_on_rest_and_socket(app: TestApp) {
    let conv = app.conversation().await;
    let me = app.trainee.id;
    let now = app.clock.now_secs();
    let claims = |user| claims(user, now);
    let good = sign(Algorithm::HS256, &claims(me), JWT_SECRET);
    assert_eq!(
        app.anon.with_token(&good).me().await.unwrap().id,
        me,
        "the control token works"
    );

    let none = format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(claims(me).to_string())
    );
    let (h, rest) = good.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let mut tampered_claims = claims(me);
    tampered_claims["user_id"] = json!(app.trainer.id);
    let tampered = format!("{h}.{}.{sig}", B64.encode(tampered_claims.to_string()));
    let mut expired = claims(me);
    expired["exp"] = json!(now - 1);
    let mut not_yet = claims(me);
    not_yet["nbf"] = json!(now + 300);
    let mut refresh_type = claims(me);
    refresh_type["token_type"] = json!("refresh");
    let real_refresh = app
        .anon
        .login("trainee@test.io", PASSWORD)
        .await
        .unwrap()
        .refresh;

    let attacks: Vec<(&str, String)> = vec![
        ("alg none", none),
        (
            "wrong key",
            sign(Algorithm::HS256, &claims(me), "not-the-secret"),
        ),
        (
            "HS512 with the right key",
            sign(Algorithm::HS512, &claims(me), JWT_SECRET),
        ),
        ("expired", sign(Algorithm::HS256, &expired, JWT_SECRET)),
        (
            "not yet valid",
            sign(Algorithm::HS256, &not_yet, JWT_SECRET),
        ),
        ("refresh token as access", real_refresh),
        (
            "forged refresh type",
            sign(Algorithm::HS256, &refresh_type, JWT_SECRET),
        ),
        ("tampered user_id", tampered),
        (
            "unknown user",
            sign(Algorithm::HS256, &claims(987_654), JWT_SECRET),
        ),
        ("garbage", "abc.def.ghi".to_owned()),
        ("empty", String::new()),
    ];
    for (name, token) in &attacks {
        refused(&app, conv, name, token).await;
    }
    // Deactivated, then deleted: the same token stops working at once.
    app.deactivate(app.trainee2.id).await;
    refused(
        &app,
        conv,
        "deactivated user",
        app.trainee2.client.token().unwrap(),
    )
    .await;
    app.delete_user(app.other_trainee.id).await;
    refused(
        &app,
        conv,
        "deleted user",
        app.other_trainee.client.token().unwrap(),
    )
    .await;
    // An access token is no refresh token either.
    let access = app.trainee.client.token().unwrap().to_owned();
    assert_eq!(
        status_of(Client::refresh(&app.anon, &access).await),
        StatusCode::UNAUTHORIZED
    );
}

async fn a_reused_refresh_token_revokes_its_whole_family(app: TestApp) {
    let first = app.anon.login("trainer@test.io", PASSWORD).await.unwrap();
    let second = app.anon.refresh(&first.refresh).await.unwrap();
    let third = app.anon.refresh(&second.refresh).await.unwrap();
    // A thief replays the first token: refused, and the legitimate chain dies with it.
    assert_eq!(
        app.anon.refresh(&first.refresh).await.unwrap_err().status(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        app.anon.refresh(&third.refresh).await.unwrap_err().status(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let raw = app
        .anon
        .raw(
            reqwest::Method::POST,
            "api/auth/jwt/refresh/",
            Some(&json!({"refresh": third.refresh})),
        )
        .await
        .unwrap();
    assert_eq!(raw.body["code"], "token_not_valid");
}
