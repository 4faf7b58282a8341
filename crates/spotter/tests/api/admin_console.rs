//! The admin console (Part D 6): admins browse conversations and messages read-only, search a
//! user's messages, and read the audit log; each read of message data is an entry about every
//! person whose data it shows, written before the answer (a read that cannot be logged is
//! refused); each person reads who read their data; `spotter audit verify` walks the chain.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spotter_client::{AuditQuery, Client};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    every_admin_read_is_one_entry_per_person_whose_data_it_shows,
    the_console_lists_every_conversation_and_reads_any_of_them_read_only,
    only_an_admin_with_their_own_token_reaches_the_console_and_the_log,
    the_audit_log_is_filtered_paged_newest_first_and_only_read,
    the_access_log_shows_each_person_who_read_their_data_and_nothing_else,
    a_read_that_cannot_be_logged_is_refused,
    spotter_audit_verify_walks_the_chain_beside_a_running_server,
);

const ENTRIES: &str =
    "SELECT actor_id, action, subject_user_id, conversation_id, ip FROM audit_log ORDER BY id";

fn entry(actor: i64, action: &str, subject: Option<i64>, conv: Option<i64>) -> Vec<String> {
    let opt = |v: Option<i64>| v.map_or_else(|| "NULL".to_owned(), |v| v.to_string());
    vec![
        actor.to_string(),
        action.to_owned(),
        opt(subject),
        opt(conv),
        "127.0.0.1".to_owned(),
    ]
}

async fn call(c: &Client, method: Method, path: &str) -> (StatusCode, Value) {
    let r = c.raw(method, path, None).await.unwrap();
    (r.status, r.body)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

async fn every_admin_read_is_one_entry_per_person_whose_data_it_shows(app: TestApp) {
    let conv = app.conversation().await;
    app.trainee
        .client
        .send(conv, "Squats done", None)
        .await
        .unwrap();
    let admin = &app.admin.client;
    let (a, trainer, trainee) = (app.admin.id, app.trainer.id, app.trainee.id);

    let all = admin.admin_conversations(None, None, 1).await.unwrap();
    assert_eq!(all.count, 1);
    admin
        .admin_conversations(Some(trainee), None, 1)
        .await
        .unwrap();
    let page = admin.admin_messages(conv, 1).await.unwrap();
    assert_eq!(page.count, 2);
    let cursor = admin.admin_messages_before(conv, None, 1).await.unwrap();
    assert_eq!((cursor.results.len(), cursor.has_more), (1, true));
    let found = admin
        .admin_search(trainer, "squats", 1, None)
        .await
        .unwrap();
    assert_eq!(found.count, 1);
    assert_eq!(found.results[0].other_participant_id, Some(trainee));
    // Finding accounts and reading the log show no message: not logged.
    admin.admin_users(Some("tia"), 1).await.unwrap();
    admin.audit_log(&AuditQuery::default()).await.unwrap();

    let read = "admin.read_messages";
    assert_eq!(
        app.sql(ENTRIES).await,
        [
            entry(a, "admin.read_conversations", None, None),
            entry(a, "admin.read_conversations", Some(trainee), None),
            entry(a, read, Some(trainee), Some(conv)),
            entry(a, read, Some(trainer), Some(conv)),
            entry(a, read, Some(trainee), Some(conv)),
            entry(a, read, Some(trainer), Some(conv)),
            entry(a, "admin.search_messages", Some(trainer), None),
            entry(a, "admin.search_messages", Some(trainee), Some(conv)),
        ]
    );
    // A search that finds nothing shows no one else.
    admin
        .admin_search(trainee, "deadlift", 1, Some(conv))
        .await
        .unwrap();
    let last = app.sql(ENTRIES).await.pop().unwrap();
    assert_eq!(
        last,
        entry(a, "admin.search_messages", Some(trainee), Some(conv))
    );
    assert_eq!(app.sql(ENTRIES).await.len(), 9);
    let v = app.state.audit.verify().await.unwrap();
    assert_eq!((v.entries, v.broken), (9, None));
}

async fn the_console_lists_every_conversation_and_reads_any_of_them_read_only(app: TestApp) {
    let admin = &app.admin.client;
    let live = app.conversation().await;
    app.advance(Duration::from_secs(1));
    let (_, gone) = app
        .trainer
        .client
        .start(app.trainee2.id, "Hello Theo", None)
        .await
        .unwrap();
    let removed = gone.conversation_id;
    let (_, deleted) = app
        .trainer
        .client
        .send(removed, "a slip", None)
        .await
        .unwrap();
    app.trainer
        .client
        .delete_message(removed, deleted.id)
        .await
        .unwrap();
    app.trainer
        .client
        .remove_trainee(app.trainee2.id)
        .await
        .unwrap();
    app.advance(Duration::from_secs(1));
    let (_, other) = app
        .other_trainer
        .client
        .start(app.other_trainee.id, "Hi Olga", None)
        .await
        .unwrap();
    let other = other.conversation_id;

    let ids = |p: spotter_client::Page<spotter_client::AdminConversation>| {
        p.results.iter().map(|c| c.id).collect::<Vec<_>>()
    };
    let all = admin.admin_conversations(None, None, 1).await.unwrap();
    assert_eq!(all.count, 3);
    assert_eq!(
        ids(all.clone()),
        [other, removed, live],
        "newest activity first"
    );
    let archived = &all.results[1];
    assert!(archived.is_archived && archived.archived_at.is_some());
    assert_eq!(archived.message_count, 2);
    // The list shows who and when, never what was written.
    let (status, raw) = call(admin, Method::GET, "api/admin/conversations/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&raw["results"][0]),
        [
            "archived_at",
            "created_at",
            "id",
            "is_archived",
            "last_message_at",
            "message_count",
            "trainee",
            "trainer"
        ]
    );
    let (t, t2) = (Some(app.trainer.id), Some(app.trainee2.id));
    assert_eq!(
        ids(admin.admin_conversations(t, None, 1).await.unwrap()),
        [removed, live]
    );
    assert_eq!(
        ids(admin.admin_conversations(t2, None, 1).await.unwrap()),
        [removed]
    );
    assert_eq!(
        ids(admin
            .admin_conversations(None, Some("OLGA"), 1)
            .await
            .unwrap()),
        [other]
    );
    let by_email = Some("trainee2@TEST");
    assert_eq!(
        ids(admin.admin_conversations(None, by_email, 1).await.unwrap()),
        [removed]
    );
    assert_eq!(
        ids(admin.admin_conversations(t, Some("olga"), 1).await.unwrap()),
        Vec::<i64>::new()
    );
    assert_eq!(
        call(admin, Method::GET, "api/admin/conversations/?user=abc").await,
        (
            StatusCode::BAD_REQUEST,
            json!({"user": ["A valid integer is required."]})
        )
    );

    // An archived conversation reads whole, a deleted message as its tombstone.
    let page = admin.admin_messages(removed, 1).await.unwrap();
    assert_eq!(page.count, 2);
    let tomb = &page.results[0];
    assert!(tomb.is_deleted && tomb.content.is_empty());
    assert_eq!(page.results[1].content, "Hello Theo");
    // Read-only: nothing marked read for anyone.
    assert!(page.results.iter().all(|m| !m.is_read));
    assert_eq!(admin.admin_messages(live, 1).await.unwrap().count, 1);
    assert_eq!(app.trainee.client.unread_count().await.unwrap(), 1);
    let before = app.sql(ENTRIES).await.len();
    assert_eq!(
        call(
            admin,
            Method::GET,
            "api/admin/conversations/999999/messages/"
        )
        .await,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Conversation not found."})
        )
    );
    assert_eq!(
        app.sql(ENTRIES).await.len(),
        before,
        "nothing read, nothing logged"
    );

    // The user finder.
    let found = admin.admin_users(Some("tia"), 1).await.unwrap();
    assert_eq!(
        found.results.iter().map(|u| u.id).collect::<Vec<_>>(),
        [app.trainee.id]
    );
    assert_eq!(admin.admin_users(None, 1).await.unwrap().count, 6);

    // Search: whose, what, and the user must exist.
    let search = |q: &str| format!("api/admin/search/?{q}");
    assert_eq!(
        call(admin, Method::GET, &search("q=hello")).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"user": ["This field is required."]})
        )
    );
    assert_eq!(
        call(
            admin,
            Method::GET,
            &search(&format!("user={}&q=h", app.trainer.id))
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "Search query must be at least 2 characters."})
        )
    );
    assert_eq!(
        call(admin, Method::GET, &search("user=999999&q=hello"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let olga = admin
        .admin_search(app.other_trainee.id, "olga", 1, None)
        .await
        .unwrap();
    assert_eq!(olga.count, 1);
    assert_eq!(
        olga.results[0].other_participant_id,
        Some(app.other_trainer.id)
    );
}

async fn only_an_admin_with_their_own_token_reaches_the_console_and_the_log(app: TestApp) {
    let conv = app.conversation().await;
    let as_trainee = app.trainer_as_trainee().await;
    let as_trainer = app.admin_as_trainer().await;
    let paths = [
        "api/admin/users/".to_owned(),
        "api/admin/conversations/".to_owned(),
        format!("api/admin/conversations/?user={}", app.trainee.id),
        format!("api/admin/conversations/{conv}/messages/"),
        format!("api/admin/conversations/{conv}/messages/?before=&limit=5"),
        format!("api/admin/search/?user={}&q=welcome", app.trainee.id),
        "api/admin/audit-log/".to_owned(),
        "api/admin/audit-log/?actor=abc".to_owned(),
    ];
    let before = app.sql(ENTRIES).await.len();
    let denied = json!({"detail": "You do not have permission to perform this action."});
    for (who, c) in [
        ("trainer", &app.trainer.client),
        ("trainee", &app.trainee.client),
        ("trainer as trainee", &as_trainee),
        ("admin as trainer", &as_trainer),
    ] {
        for path in &paths {
            assert_eq!(
                call(c, Method::GET, path).await,
                (StatusCode::FORBIDDEN, denied.clone()),
                "{who} GET {path}"
            );
        }
    }
    for path in &paths {
        assert_eq!(
            call(&app.anon, Method::GET, path).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.sql(ENTRIES).await.len(),
        before,
        "refused reads log nothing"
    );
}

async fn the_audit_log_is_filtered_paged_newest_first_and_only_read(app: TestApp) {
    let conv = app.conversation().await;
    let admin = &app.admin.client;
    admin.admin_messages(conv, 1).await.unwrap(); // entries 1 (trainee), 2 (trainer)
    app.advance(Duration::from_secs(60));
    let imp = app.trainer_as_trainee().await; // 3
    imp.end_trainee_impersonation().await.unwrap(); // 4
    app.advance(Duration::from_secs(60));
    admin
        .admin_conversations(Some(app.trainer.id), None, 1)
        .await
        .unwrap(); // 5

    let all = admin.audit_log(&AuditQuery::default()).await.unwrap();
    let ids = |p: &spotter_client::Page<spotter_client::AuditEntry>| {
        p.results.iter().map(|e| e.id).collect::<Vec<_>>()
    };
    assert_eq!((all.count, ids(&all)), (5, vec![5, 4, 3, 2, 1]));
    let first = &all.results[4];
    assert_eq!(
        (
            first.actor_id,
            first.action.as_str(),
            first.subject_user_id,
            first.conversation_id
        ),
        (
            app.admin.id,
            "admin.read_messages",
            Some(app.trainee.id),
            Some(conv)
        )
    );
    assert_eq!(
        (first.ip.as_deref(), first.hash.len()),
        (Some("127.0.0.1"), 64)
    );
    let (_, raw) = call(admin, Method::GET, "api/admin/audit-log/").await;
    assert_eq!(
        keys(&raw["results"][0]),
        [
            "action",
            "actor_id",
            "conversation_id",
            "created_at",
            "hash",
            "id",
            "ip",
            "subject_user_id"
        ]
    );

    let q = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    let mut by_trainer = q(|_| {});
    by_trainer.actor = Some(app.trainer.id);
    assert_eq!(ids(&admin.audit_log(&by_trainer).await.unwrap()), [4, 3]);
    let mut about_trainee = q(|_| {});
    about_trainee.subject = Some(app.trainee.id);
    assert_eq!(
        ids(&admin.audit_log(&about_trainee).await.unwrap()),
        [4, 3, 1]
    );
    about_trainee.actor = Some(app.admin.id);
    assert_eq!(ids(&admin.audit_log(&about_trainee).await.unwrap()), [1]);
    // Times are inclusive, in ISO 8601 (an offset's `+` encoded by the client).
    let at3 = all.results[2].created_at.clone();
    let since = AuditQuery {
        since: Some(at3.clone()),
        ..AuditQuery::default()
    };
    assert_eq!(ids(&admin.audit_log(&since).await.unwrap()), [5, 4, 3]);
    let until = AuditQuery {
        until: Some(at3.clone()),
        ..AuditQuery::default()
    };
    assert_eq!(ids(&admin.audit_log(&until).await.unwrap()), [4, 3, 2, 1]);
    let window = AuditQuery {
        since: Some(at3.replace('Z', "+00:00")),
        until: Some(at3),
        ..AuditQuery::default()
    };
    assert_eq!(ids(&admin.audit_log(&window).await.unwrap()), [4, 3]);
    let (status, body) = call(
        admin,
        Method::GET,
        "api/admin/audit-log/?actor=x&subject=2.5&since=yesterday&until=2026-13-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(keys(&body), ["actor", "since", "subject", "until"]);
    assert_eq!(body["actor"], json!(["A valid integer is required."]));
    assert!(
        body["since"][0]
            .as_str()
            .unwrap()
            .starts_with("Datetime has wrong format.")
    );

    // 50 a page.
    for _ in 0..50 {
        admin.admin_conversations(None, None, 1).await.unwrap();
    }
    let page1 = admin.audit_log(&AuditQuery::default()).await.unwrap();
    assert_eq!((page1.count, page1.results.len()), (55, 50));
    assert_eq!(page1.results[0].id, 55);
    assert!(
        page1
            .next
            .as_deref()
            .unwrap()
            .ends_with("/api/admin/audit-log/?page=2")
    );
    let page2 = admin
        .audit_log(&AuditQuery {
            page: 2,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&page2), [5, 4, 3, 2, 1]);
    assert_eq!(
        call(admin, Method::GET, "api/admin/audit-log/?page=3").await,
        (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."}))
    );

    // Only GET exists on the log, and on one's access log.
    let not_allowed = json!({"detail": "Method not allowed."});
    for path in ["api/admin/audit-log/", "api/users/access-log/"] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(
                call(admin, method.clone(), path).await,
                (StatusCode::METHOD_NOT_ALLOWED, not_allowed.clone()),
                "{method} {path}"
            );
        }
    }
    assert_eq!(
        admin.audit_log(&AuditQuery::default()).await.unwrap().count,
        55
    );
}

async fn the_access_log_shows_each_person_who_read_their_data_and_nothing_else(app: TestApp) {
    let conv = app.conversation().await;
    let (_, other) = app
        .other_trainer
        .client
        .start(app.other_trainee.id, "Hi Olga", None)
        .await
        .unwrap();
    let admin = &app.admin.client;
    admin.admin_messages(conv, 1).await.unwrap();
    admin
        .admin_messages(other.conversation_id, 1)
        .await
        .unwrap();
    app.advance(Duration::from_secs(1));
    let imp = app.trainer_as_trainee().await;

    let mine = app.trainee.client.access_log(1).await.unwrap();
    assert_eq!(mine.count, 2);
    let (newest, read) = (&mine.results[0], &mine.results[1]);
    assert_eq!(
        (
            newest.action.as_str(),
            newest.actor_id,
            newest.actor_name.as_str(),
            newest.actor_role.as_deref()
        ),
        (
            "impersonation.start",
            app.trainer.id,
            "Tess Test",
            Some("trainer")
        )
    );
    assert_eq!(
        (
            read.action.as_str(),
            read.actor_name.as_str(),
            read.actor_role.as_deref(),
            read.conversation_id,
            read.subject_user_id
        ),
        (
            "admin.read_messages",
            "Ada Test",
            Some("admin"),
            Some(conv),
            Some(app.trainee.id)
        )
    );
    let (_, raw) = call(&app.trainee.client, Method::GET, "api/users/access-log/").await;
    assert_eq!(
        keys(&raw["results"][0]),
        [
            "action",
            "actor_id",
            "actor_name",
            "actor_role",
            "conversation_id",
            "created_at",
            "id",
            "subject_user_id"
        ]
    );
    // The trainer's messages were read too: in their log. Others see only their own.
    let trainer = app.trainer.client.access_log(1).await.unwrap();
    assert_eq!(trainer.count, 1);
    assert_eq!(trainer.results[0].conversation_id, Some(conv));
    let olga = app.other_trainee.client.access_log(1).await.unwrap();
    assert_eq!(olga.count, 1);
    assert_eq!(olga.results[0].conversation_id, Some(other.conversation_id));
    assert_eq!(app.trainee2.client.access_log(1).await.unwrap().count, 0);
    assert_eq!(app.admin.client.access_log(1).await.unwrap().count, 0);
    // One's own: an impersonation token may not read it.
    assert_eq!(
        call(&imp, Method::GET, "api/users/access-log/").await,
        (
            StatusCode::FORBIDDEN,
            json!({"detail": "This action is not allowed during impersonation."})
        )
    );
    // An actor whose account is gone stays a number, named as removed.
    app.delete_user(app.admin.id).await;
    let read = &app.trainee.client.access_log(1).await.unwrap().results[1];
    assert_eq!(
        (
            read.actor_id,
            read.actor_name.as_str(),
            read.actor_role.as_deref()
        ),
        (app.admin.id, "[removed]", None)
    );
    // What an operator did on the command line has no account behind it.
    let (operator, export) = (spotter::domain::audit::OPERATOR, "export");
    let subject = Some(spotter::domain::model::UserId(app.trainee.id));
    app.state
        .audit
        .record(operator, export, subject, None, None)
        .await
        .unwrap();
    let newest = &app.trainee.client.access_log(1).await.unwrap().results[0];
    assert_eq!(
        (
            newest.actor_name.as_str(),
            newest.actor_role.as_deref(),
            newest.action.as_str()
        ),
        ("Spotter operator", None, export)
    );
}

async fn a_read_that_cannot_be_logged_is_refused(app: TestApp) {
    let conv = app.conversation().await;
    let pg = app.config.database_url.is_some();
    // The log refuses every new entry (a full disk, a lost table: whatever stops the append).
    let (refuse, allow) = if pg {
        (
            "CREATE TRIGGER audit_log_refuse BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
            "DROP TRIGGER audit_log_refuse ON audit_log",
        )
    } else {
        (
            "CREATE TRIGGER audit_log_refuse BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
            "DROP TRIGGER audit_log_refuse",
        )
    };
    app.sql(refuse).await;
    let admin = &app.admin.client;
    for path in [
        format!("api/admin/conversations/{conv}/messages/"),
        format!("api/admin/conversations/{conv}/messages/?before=&limit=5"),
        "api/admin/conversations/".to_owned(),
        format!("api/admin/search/?user={}&q=welcome", app.trainee.id),
    ] {
        let (status, body) = call(admin, Method::GET, &path).await;
        assert!(status.is_server_error(), "{path}: {status}");
        assert!(body.get("results").is_none(), "{path}: {body}");
        assert!(!body.to_string().contains("Welcome"), "{path}: {body}");
    }
    assert!(app.sql(ENTRIES).await.is_empty());
    app.sql(allow).await;
    assert_eq!(admin.admin_messages(conv, 1).await.unwrap().count, 1);
    assert_eq!(app.sql(ENTRIES).await.len(), 2);
}

async fn spotter_audit_verify_walks_the_chain_beside_a_running_server(app: TestApp) {
    let conv = app.conversation().await;
    for _ in 0..2 {
        app.admin.client.admin_messages(conv, 1).await.unwrap();
    }
    assert_eq!(
        verify(&app).await,
        (true, "audit log: 4 entries, chain intact\n".to_owned())
    );
    // Someone with the database's keys drops the guard and rewrites whose data was read.
    let unguard: &[&str] = if app.config.database_url.is_some() {
        &["ALTER TABLE audit_log DISABLE TRIGGER USER"]
    } else {
        &["DROP TRIGGER audit_log_no_update"]
    };
    for q in unguard {
        app.sql(q).await;
    }
    app.sql(&format!(
        "UPDATE audit_log SET subject_user_id = {} WHERE id = 3",
        app.trainee2.id
    ))
    .await;
    let (ok, out) = verify(&app).await;
    assert!(!ok, "{out}");
    assert_eq!(
        out,
        "audit log: entry 3 is broken (its fields do not match its hash)\n"
    );
}

/// Runs `spotter audit verify` on the test's database as an operator would, while the test's
/// server serves it: whether it succeeded, and what it printed.
async fn verify(app: &TestApp) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spotter"));
    cmd.args(["audit", "verify", "--data-dir"])
        .arg(&app.config.data_dir)
        .env_remove("SPOTTER_DATABASE_URL")
        .env("RUST_LOG", "off");
    if let Some(url) = &app.config.database_url {
        cmd.args(["--database-url", url]);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("waited")
        .expect("spotter runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "stderr: {stderr}");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
