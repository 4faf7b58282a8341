//! Users adopted from the original Django platform: they log in with the password they had
//! (their Django hash, as the import leaves it in `users.password_hash`), which is then
//! re-hashed to Argon2id; and the tokens the original issued, signed with its `SECRET_KEY`,
//! keep working here as they did there, until they expire.
//!
//! Every hash below is genuine: written by Django 3.2's own hashers (`make_password`, and
//! `PBKDF2PasswordHasher.encode` with each iteration count Django releases have used), or, for
//! `argon2i`, by argon2-cffi with the parameters and format older Django wrote. None was made
//! by the code under test. The password of each is [`PASSWORD`].

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spotter::config::Secret;
use spotter::domain::model::{Role, UserId};
use spotter_client::{Client, Incoming, ServerFrame, Socket};

use crate::helpers::{Backend, PASSWORD, TestApp, live, status_of};

/// The original's Django `SECRET_KEY` (in the shape Django generates one), configured as
/// `SPOTTER_JWT_SECRET`.
const ORIGINAL_SECRET_KEY: &str = "django-insecure-q8#v3$k^t!n2(p@x7w0=z)e*1r&m5%u+b9-c4j_h6y";

/// Runs each named `async fn(TestApp)` on SQLite and on PostgreSQL, with the original's key.
macro_rules! adopted {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::spawn(crate::helpers::Backend::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::spawn(crate::helpers::Backend::Postgres).await).await
            }
        }
    )*};
}

adopted!(
    each_django_scheme_logs_in_with_its_password_and_not_with_another,
    pbkdf2_hashes_of_each_iteration_count_log_in,
    an_unusable_password_is_refused_exactly_like_a_wrong_one,
    a_django_hash_is_replaced_by_argon2id_at_the_first_login,
    the_rehash_does_not_overwrite_a_password_changed_meanwhile,
    a_failed_rehash_write_does_not_fail_the_login,
    an_inactive_user_with_a_valid_django_hash_is_refused,
    an_access_token_of_the_original_opens_rest_and_the_socket,
    an_expired_access_token_of_the_original_is_refused,
    a_refresh_token_of_the_original_works_once_and_its_replay_revokes_the_new_chain,
    an_impersonation_token_of_the_original_is_read_only,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.jwt_secret = Some(Secret(ORIGINAL_SECRET_KEY.to_owned()));
    })
    .await
}

/// One hash per scheme Django can have written, each of [`PASSWORD`].
const SCHEMES: [(&str, &str); 5] = [
    (
        "pbkdf2_sha256",
        "pbkdf2_sha256$720000$dGxzcDNbqQE1KSmKrQEIZc$eP3QBaGGs0ey/JG+zvGtZhNbzFTioMWV3x8NRI+my54=",
    ),
    (
        "pbkdf2_sha1",
        "pbkdf2_sha1$260000$dveiireoMnimzKtlwQatZ2$7SES7yXAm5EC6ogLcFdWwBpte98=",
    ),
    (
        "argon2id (Django's default cost: 100 MiB, 2 passes, 8 lanes)",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$RkdNRDNzMjlLVkFsdFFJVjg1TWFpdA$fTIFc0eXzkeE9xQ8r4HzYQ",
    ),
    (
        "argon2i (Django 3.1 and older)",
        "argon2$argon2i$v=19$m=512,t=2,p=2$RGozMXNhbHQ0YXJnb24yaQ$GLejTYne1cZSOdzbMkpXXw",
    ),
    (
        "bcrypt_sha256",
        "bcrypt_sha256$$2b$12$NWMQCNbtB79gWVDAqmEqke1HfsPY.cyCd7zymozzYied.8PoeW/LW",
    ),
];

/// A user as the import leaves them: their row, with the hash the original stored.
async fn imported(app: &TestApp, email: &str, django_hash: &str) -> i64 {
    let id = app.add_user(email, Role::Trainee, None).await;
    app.sql(&format!(
        "UPDATE users SET password_hash = '{django_hash}' WHERE id = {id}"
    ))
    .await;
    assert_eq!(stored_hash(app, id).await, django_hash);
    id
}

async fn stored_hash(app: &TestApp, id: i64) -> String {
    let mut rows = app
        .column(&format!("SELECT password_hash FROM users WHERE id = {id}"))
        .await;
    rows.pop().expect("the user's row")
}

/// A login's status and body, as any client sees them.
async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"email": email, "password": password});
    let raw = app
        .anon
        .raw(Method::POST, "api/auth/jwt/create/", Some(&body))
        .await
        .expect("an answer");
    (raw.status, raw.body)
}

fn refused() -> (StatusCode, Value) {
    let detail = "No active account found with the given credentials";
    let body = json!({"detail": detail, "code": "no_active_account"});
    (StatusCode::UNAUTHORIZED, body)
}

async fn logs_in(app: &TestApp, email: &str, id: i64) {
    let tokens = app.anon.login(email, PASSWORD).await;
    let tokens = tokens.unwrap_or_else(|e| panic!("{email} logs in: {e}"));
    let me = app.anon.with_token(tokens.access).me().await.unwrap();
    assert_eq!(me.id, id, "{email}");
}

async fn each_django_scheme_logs_in_with_its_password_and_not_with_another(app: TestApp) {
    for (i, (scheme, hash)) in SCHEMES.into_iter().enumerate() {
        let email = format!("adopted{i}@original.io");
        let id = imported(&app, &email, hash).await;
        let wrong = login(&app, &email, "correct-horse-batterY").await;
        assert_eq!(wrong, refused(), "{scheme}: a wrong password");
        assert_eq!(
            stored_hash(&app, id).await,
            hash,
            "{scheme}: kept after a miss"
        );
        logs_in(&app, &email, id).await;
        let now = stored_hash(&app, id).await;
        assert!(now.starts_with("$argon2id$"), "{scheme}: re-hashed: {now}");
    }
}

async fn pbkdf2_hashes_of_each_iteration_count_log_in(app: TestApp) {
    // The counts of Django 4.2, 5.0, 5.1 and 6.0: an import holds each, as users last logged in.
    for hash in [
        "pbkdf2_sha256$720000$dGxzcDNbqQE1KSmKrQEIZc$eP3QBaGGs0ey/JG+zvGtZhNbzFTioMWV3x8NRI+my54=",
        "pbkdf2_sha256$870000$COZGyUOLGkE7UQr4h3iJxH$9jbyVGzNzQ1pZ/SK27prpfgSNZj8joWnnzq9sXPPuPs=",
        "pbkdf2_sha256$1000000$pclT3CMbdoXcNiQmX2HoDR$nuxPl8PIT3KsSHqSdijb0NWGuOUZgOak//H5ztVbxgg=",
        "pbkdf2_sha256$1200000$mZsD8cKYwPwUx64s21P9XT$SI/HFksVhMpwNBjTSP0TbQzge/zNgCRq8RNywdxBAJE=",
    ] {
        let iterations = hash.split('$').nth(1).expect("a count");
        let email = format!("pbkdf2.{iterations}@original.io");
        let id = imported(&app, &email, hash).await;
        assert_eq!(
            login(&app, &email, "wrong").await,
            refused(),
            "{iterations}"
        );
        logs_in(&app, &email, id).await;
    }
}

async fn an_unusable_password_is_refused_exactly_like_a_wrong_one(app: TestApp) {
    // What Django's `set_unusable_password()` writes: `!` and 40 random characters.
    const UNUSABLE: &str = "!2Wy0y0VqyU3i5xqJYZd1OBwE9PKXDVUHmHNwzhqp";
    let unusable = imported(&app, "unusable@original.io", UNUSABLE).await;
    // `!` before a valid hash (how some projects disable an account) is unusable as well.
    let disabled = format!("!{}", SCHEMES[0].1);
    imported(&app, "disabled@original.io", &disabled).await;
    imported(&app, "usable@original.io", SCHEMES[0].1).await;
    for (email, password) in [
        ("unusable@original.io", PASSWORD),
        ("unusable@original.io", UNUSABLE),
        ("disabled@original.io", PASSWORD),
        ("usable@original.io", "wrong"),
        ("nobody@original.io", PASSWORD),
    ] {
        let answer = login(&app, email, password).await;
        assert_eq!(answer, refused(), "{email} with {password:?}");
    }
    assert_eq!(stored_hash(&app, unusable).await, UNUSABLE);
}

async fn a_django_hash_is_replaced_by_argon2id_at_the_first_login(app: TestApp) {
    let django = SCHEMES[0].1;
    let id = imported(&app, "mia@original.io", django).await;
    logs_in(&app, "mia@original.io", id).await;
    let argon2id = stored_hash(&app, id).await;
    assert!(argon2id.starts_with("$argon2id$"), "{argon2id}");
    let count = format!("SELECT COUNT(*) FROM users WHERE password_hash = '{django}'");
    assert_eq!(app.column(&count).await, ["0"], "the Django hash is gone");
    // The same password goes on working, against the new hash, which stays as it is.
    logs_in(&app, "mia@original.io", id).await;
    assert_eq!(stored_hash(&app, id).await, argon2id);
    assert_eq!(login(&app, "mia@original.io", "wrong").await, refused());
}

async fn the_rehash_does_not_overwrite_a_password_changed_meanwhile(app: TestApp) {
    let django = SCHEMES[0].1;
    let id = imported(&app, "noah@original.io", django).await;
    let store = &app.state.store;
    // A re-hash that read the hash before someone else changed it: nothing happens.
    let changed = spotter::auth::password::hash("a-new-password".to_owned()).await;
    let changed = changed.unwrap();
    let sql = format!("UPDATE users SET password_hash = '{changed}' WHERE id = {id}");
    app.sql(&sql).await;
    let replaced = store.replace_password_hash(UserId(id), django, "$argon2id$late");
    assert!(!replaced.await.unwrap());
    assert_eq!(stored_hash(&app, id).await, changed);
    // Against the hash it read, it replaces it.
    let replaced = store.replace_password_hash(UserId(id), &changed, "$argon2id$next");
    assert!(replaced.await.unwrap());
    assert_eq!(stored_hash(&app, id).await, "$argon2id$next");
}

async fn a_failed_rehash_write_does_not_fail_the_login(app: TestApp) {
    let django = SCHEMES[0].1;
    let id = imported(&app, "lea@original.io", django).await;
    // The database refuses to change any password hash from now on.
    if app.config.database_url.is_some() {
        app.sql(
            "CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql \
             AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
        )
        .await;
        app.sql(
            "CREATE TRIGGER refuse_write BEFORE UPDATE OF password_hash ON users \
             FOR EACH ROW EXECUTE FUNCTION refuse_write()",
        )
        .await;
    } else {
        app.sql(
            "CREATE TRIGGER refuse_write BEFORE UPDATE OF password_hash ON users \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await;
    }
    logs_in(&app, "lea@original.io", id).await;
    assert_eq!(
        stored_hash(&app, id).await,
        django,
        "checked again next time"
    );
    logs_in(&app, "lea@original.io", id).await;
}

async fn an_inactive_user_with_a_valid_django_hash_is_refused(app: TestApp) {
    let django = SCHEMES[0].1;
    let id = imported(&app, "gone@original.io", django).await;
    app.deactivate(id).await;
    assert_eq!(login(&app, "gone@original.io", PASSWORD).await, refused());
    assert_eq!(stored_hash(&app, id).await, django, "not re-hashed either");
}

/// A token as the original's SimpleJWT signs it: HS256 with its `SECRET_KEY`, no `fam`.
fn original_token(claims: Value) -> String {
    let key = EncodingKey::from_secret(ORIGINAL_SECRET_KEY.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).expect("signed")
}

/// SimpleJWT's claims: a token of `kind` for `user_id`, issued at `iat`, lasting `ttl` seconds.
fn simplejwt(kind: &str, user_id: Value, iat: i64, ttl: i64) -> Value {
    let jti = uuid::Uuid::new_v4().simple().to_string();
    json!({"token_type": kind, "exp": iat + ttl, "iat": iat, "jti": jti, "user_id": user_id})
}

/// The first frame matching `pred`; fails after a generous wait.
async fn until(sock: &mut Socket, pred: impl Fn(&ServerFrame) -> bool) -> ServerFrame {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), sock.next()).await;
        match next.expect("a frame in time") {
            Some(Incoming::Frame(f)) if pred(&f) => return f,
            Some(Incoming::Frame(_) | Incoming::Unknown(_)) => continue,
            other => panic!("the socket ended while waiting: {other:?}"),
        }
    }
}

/// The close code the socket gets, skipping any frame before it.
async fn closed(sock: &mut Socket) -> u16 {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), sock.next()).await;
        match next.expect("a close in time") {
            Some(Incoming::Closed(code, _)) => return code,
            Some(_) => continue,
            None => panic!("dropped without a close frame"),
        }
    }
}

async fn an_access_token_of_the_original_opens_rest_and_the_socket(app: TestApp) {
    let conv = app.conversation().await;
    let now = app.clock.now_secs();
    // Older SimpleJWT writes `user_id` as an integer, newer as a string.
    for user_id in [json!(app.trainee.id), json!(app.trainee.id.to_string())] {
        let token = original_token(simplejwt("access", user_id.clone(), now, 3600));
        let client = app.anon.with_token(&token);
        assert_eq!(client.me().await.unwrap().id, app.trainee.id, "{user_id}");
        let mut sock = live(&client, Some(conv)).await;
        let text = format!("for {user_id}");
        app.trainer.client.send(conv, &text, None).await.unwrap();
        until(
            &mut sock,
            |f| matches!(f, ServerFrame::NewMessage { message, .. } if message.content == text),
        )
        .await;
        // And it writes, as the trainee.
        let sent = client.send(conv, "from the original's token", None).await;
        let sender = sent.unwrap().1.sender.map(|s| s.id);
        assert_eq!(sender, Some(app.trainee.id));
    }
}

async fn an_expired_access_token_of_the_original_is_refused(app: TestApp) {
    let conv = app.conversation().await;
    let now = app.clock.now_secs();
    let issued = now - 3600 - 1;
    let stale = original_token(simplejwt("access", json!(app.trainee.id), issued, 3600));
    let client = app.anon.with_token(&stale);
    assert_eq!(status_of(client.me().await), StatusCode::UNAUTHORIZED);
    let mut sock = client.socket(Some(conv), None).await.unwrap();
    assert_eq!(closed(&mut sock).await, 4001);
    // One still valid goes stale with the clock, to the second.
    let fresh = original_token(simplejwt("access", json!(app.trainee.id), now, 3600));
    let client = app.anon.with_token(&fresh);
    app.advance(Duration::from_secs(3600));
    assert_eq!(client.me().await.unwrap().id, app.trainee.id);
    app.advance(Duration::from_secs(1));
    assert_eq!(status_of(client.me().await), StatusCode::UNAUTHORIZED);
}

async fn a_refresh_token_of_the_original_works_once_and_its_replay_revokes_the_new_chain(
    app: TestApp,
) {
    let now = app.clock.now_secs();
    let week = 7 * 24 * 3600;
    let refresh = original_token(simplejwt("refresh", json!(app.trainee.id), now - 60, week));
    let first = app.anon.refresh(&refresh).await.expect("the first use");
    let me = app.anon.with_token(&first.access).me().await.unwrap();
    assert_eq!(me.id, app.trainee.id);
    // The same token again (copied, or a second device): refused, and the chain it began too.
    assert_eq!(
        status_of(app.anon.refresh(&refresh).await),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(app.anon.refresh(&first.refresh).await),
        StatusCode::UNAUTHORIZED
    );
    // Another refresh token of the original's is another chain, unaffected.
    let other = original_token(simplejwt("refresh", json!(app.trainee.id), now, week));
    let next = app.anon.refresh(&other).await.expect("another chain");
    app.anon
        .refresh(&next.refresh)
        .await
        .expect("which rotates");
    // An expired one is refused.
    let stale = original_token(simplejwt(
        "refresh",
        json!(app.trainee.id),
        now - week - 1,
        week,
    ));
    assert_eq!(
        status_of(app.anon.refresh(&stale).await),
        StatusCode::UNAUTHORIZED
    );
}

async fn an_impersonation_token_of_the_original_is_read_only(app: TestApp) {
    let conv = app.conversation().await;
    let now = app.clock.now_secs();
    let acting = |kind: &str, ttl: i64| {
        let mut claims = simplejwt(kind, json!(app.trainee.id), now, ttl);
        claims["impersonating"] = json!(true);
        claims["original_user_id"] = json!(app.trainer.id);
        original_token(claims)
    };
    let as_trainee = app.anon.with_token(acting("access", 3600));
    let me = as_trainee.me().await.unwrap();
    assert!(me.is_impersonating);
    assert_eq!(me.original_user_id, Some(app.trainer.id));
    read_only(&as_trainee, conv).await;
    // Its refresh token of the original's gives Spotter tokens, just as read-only.
    let refreshed = app.anon.refresh(&acting("refresh", 7 * 24 * 3600)).await;
    let refreshed = app.anon.with_token(refreshed.unwrap().access);
    assert!(refreshed.me().await.unwrap().is_impersonating);
    read_only(&refreshed, conv).await;
}

/// Reads work; neither REST nor the socket writes.
async fn read_only(client: &Client, conv: i64) {
    assert_eq!(client.messages(conv, 1).await.unwrap().count, 1);
    let sent = client.send(conv, "pretending", None).await;
    assert_eq!(status_of(sent), StatusCode::FORBIDDEN);
    let mut sock = live(client, Some(conv)).await;
    let frame = json!({"type": "send", "content": "pretending", "client_message_id": "ro"});
    sock.send_json(&frame).await.unwrap();
    until(
        &mut sock,
        |f| matches!(f, ServerFrame::Error { code, .. } if code == "read_only"),
    )
    .await;
}
