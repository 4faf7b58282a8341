//! Part D 5: exports. The JSON document (conversations by id, messages oldest first, each one
//! exactly as the API shows it, tombstones, images as signed links, archived conversations
//! too), the CSV (header, RFC 4180 quoting), who may export whose data, the audit entry
//! every export writes (one, before any byte), and a body written as it is read.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spotter_client::Client;
use spotter_client::model::Photo;

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    a_json_export_holds_every_conversation_by_id_with_each_message_as_the_api_shows_it,
    a_csv_export_quotes_commas_quotes_and_line_breaks,
    exports_are_refused_to_impersonators_non_admins_and_bad_formats_and_write_nothing,
    exports_are_limited_to_ten_an_hour_per_caller,
    an_export_whose_audit_entry_cannot_be_written_sends_nothing,
    an_export_is_written_while_it_is_read_not_before,
);

const EXPORTS: &str = "SELECT actor_id, subject_user_id, ip FROM audit_log \
    WHERE action = 'export' ORDER BY id";

/// An export's status, headers and body text.
async fn export(c: &Client, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let url = c.base().join(path).unwrap();
    let resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(c.token().unwrap())
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.text().await.unwrap())
}

/// The messages of a conversation as the API lists them, oldest first.
async fn listed(c: &Client, conversation: i64) -> Vec<Value> {
    let path = format!("api/messaging/conversations/{conversation}/messages/?page=1");
    let r = c.raw(Method::GET, &path, None).await.unwrap();
    let mut all = r.body["results"].as_array().unwrap().clone();
    all.sort_by_key(|m| m["seq"].as_i64());
    all
}

fn today(app: &TestApp) -> String {
    let now = spotter::wire::to_wire(app.clock.now());
    now[..10].to_owned()
}

async fn a_json_export_holds_every_conversation_by_id_with_each_message_as_the_api_shows_it(
    app: TestApp,
) {
    let (coach, tia) = (&app.trainer.client, &app.trainee.client);
    let first = app.conversation().await;
    tia.send(first, "Legs are sore", None).await.unwrap();
    let gone = coach.send(first, "typo", None).await.unwrap().1;
    coach.delete_message(first, gone.id).await.unwrap();
    let photo = Photo {
        bytes: &crate::images::jpeg(64, 48),
        content_type: "image/jpeg",
        file_name: "form.jpg",
    };
    coach
        .send_photo(first, Some("form check"), photo, None)
        .await
        .unwrap();
    let second = coach
        .start(app.trainee2.id, "Hi Theo", None)
        .await
        .unwrap()
        .1;
    // The trainer lets Theo go: the archived conversation is still the trainer's data.
    coach.remove_trainee(app.trainee2.id).await.unwrap();

    let (status, headers, text) = export(coach, "api/messaging/export/").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "application/json");
    let file = format!(
        "attachment; filename=\"spotter-export-{}-{}.json\"",
        app.trainer.id,
        today(&app)
    );
    assert_eq!(headers["content-disposition"], file.as_str());
    let doc: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(doc["user"]["id"], app.trainer.id);
    assert_eq!(doc["user"]["email"], app.trainer.email.as_str());
    assert_eq!(doc["exported_at"].as_str().unwrap()[..10], today(&app));
    let conversations = doc["conversations"].as_array().unwrap();
    let ids: Vec<i64> = conversations
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [first, second.conversation_id]);
    assert_eq!(conversations[0]["other_participant"]["id"], app.trainee.id);
    assert_eq!(conversations[1]["other_participant"]["id"], app.trainee2.id);
    assert_eq!(conversations[1]["messages"].as_array().unwrap().len(), 1);

    // Each message exactly as the messages endpoint shows it, oldest first.
    let messages = conversations[0]["messages"].as_array().unwrap();
    assert_eq!(messages, &listed(coach, first).await);
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let tombstone = &messages[2];
    assert_eq!(tombstone["id"], gone.id);
    assert_eq!(
        (
            &tombstone["is_deleted"],
            &tombstone["content"],
            &tombstone["image"]
        ),
        (&json!(true), &json!(""), &Value::Null)
    );
    let link = messages[3]["image"].as_str().unwrap();
    assert!(link.starts_with(&format!("{}media/", app.url)), "{link}");
    let image = reqwest::get(link).await.unwrap();
    assert_eq!(
        image.status(),
        StatusCode::OK,
        "the link loads without a token"
    );

    // The trainee's: their one conversation, the trainer on the other side.
    let (_, _, text) = export(tia, "api/messaging/export/?format=json").await;
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["conversations"][0]["other_participant"]["id"],
        app.trainer.id
    );
    // An admin takes part in no conversation: their own export is empty.
    let (_, _, text) = export(&app.admin.client, "api/messaging/export/").await;
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["conversations"], json!([]));
    assert_eq!(doc["user"]["role"], "admin");

    // One entry per export: who, whose, from where.
    let (t, e, a) = (app.trainer.id, app.trainee.id, app.admin.id);
    let expected: Vec<Vec<String>> = [(t, t), (e, e), (a, a)]
        .iter()
        .map(|(who, whose)| vec![who.to_string(), whose.to_string(), "127.0.0.1".to_owned()])
        .collect();
    assert_eq!(app.sql(EXPORTS).await, expected);
}

/// Rows of an RFC 4180 document (quoted fields may hold commas, quotes and line breaks).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => assert_eq!(chars.next(), Some('\n'), "CRLF line ends"),
            (false, '\n') => panic!("a bare LF ends a row"),
            (false, c) => field.push(c),
        }
        if !quoted && c == '\r' {
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

async fn a_csv_export_quotes_commas_quotes_and_line_breaks(app: TestApp) {
    let (coach, tia) = (&app.trainer.client, &app.trainee.client);
    let conv = app.conversation().await;
    let tricky = "Squats, lunges and \"easy\" runs\nthen rest,\r\nok?";
    tia.send(conv, tricky, None).await.unwrap();
    let gone = coach.send(conv, "oops, wrong chat", None).await.unwrap().1;
    coach.delete_message(conv, gone.id).await.unwrap();
    let photo = Photo {
        bytes: &crate::images::jpeg(32, 32),
        content_type: "image/jpeg",
        file_name: "p.jpg",
    };
    coach.send_photo(conv, None, photo, None).await.unwrap();

    let (status, headers, text) = export(tia, "api/messaging/export/?format=csv").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let file = format!("spotter-export-{}-{}.csv\"", app.trainee.id, today(&app));
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(&file)
    );
    let rows = csv_rows(&text);
    assert_eq!(
        rows[0],
        [
            "conversation_id",
            "message_id",
            "sender_id",
            "sender_name",
            "created_at",
            "edited_at",
            "is_deleted",
            "content",
            "image"
        ]
    );
    let api = listed(tia, conv).await;
    assert_eq!(rows.len(), 1 + api.len());
    for (row, m) in rows[1..].iter().zip(&api) {
        assert_eq!(row.len(), 9, "{row:?}");
        assert_eq!(row[0], conv.to_string());
        assert_eq!(row[1], m["id"].to_string());
        assert_eq!(row[2], m["sender"]["id"].to_string());
        assert_eq!(row[4], m["created_at"].as_str().unwrap());
        assert_eq!(row[5], "");
        assert_eq!(row[6], m["is_deleted"].to_string());
        assert_eq!(row[7], m["content"].as_str().unwrap());
        assert_eq!(row[8], m["image"].as_str().unwrap_or(""));
    }
    assert_eq!(rows[1][3], "Tess Test");
    assert!(rows[2][7].contains("Squats, lunges and \"easy\" runs\nthen rest,"));
    assert_eq!((rows[3][6].as_str(), rows[3][7].as_str()), ("true", ""));
    assert!(rows[4][8].starts_with(&format!("{}media/", app.url)));
    assert_eq!(app.sql(EXPORTS).await.len(), 1);
}

async fn exports_are_refused_to_impersonators_non_admins_and_bad_formats_and_write_nothing(
    app: TestApp,
) {
    app.conversation().await;
    let own = "api/messaging/export/";
    let theirs = format!("api/admin/users/{}/export/", app.trainee.id);
    let refused = json!({"detail": "This action is not allowed during impersonation."});
    let as_trainee = app.trainer_as_trainee().await;
    let as_trainer = app.admin_as_trainer().await;
    for (who, path) in [
        (&as_trainee, own),
        (&as_trainer, own),
        (&as_trainer, &theirs),
    ] {
        let r = who.raw(Method::GET, path, None).await.unwrap();
        assert_eq!(
            (r.status, &r.body),
            (StatusCode::FORBIDDEN, &refused),
            "{path}"
        );
    }
    let r = app
        .trainer
        .client
        .raw(Method::GET, &theirs, None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .admin
        .client
        .raw(Method::GET, "api/admin/users/999999/export/", None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .trainee
        .client
        .raw(Method::GET, "api/messaging/export/?format=xml", None)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"format": ["\"xml\" is not a valid choice."]})
    );
    let r = app.anon.raw(Method::GET, own, None).await.unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .trainee
        .client
        .raw(Method::HEAD, own, None)
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "a HEAD would record an export"
    );
    assert!(
        app.sql(EXPORTS).await.is_empty(),
        "a refused export is not recorded"
    );

    // The admin's export of a user: the user's data, the admin as actor.
    let body = app
        .admin
        .client
        .admin_export(app.trainee.id, Some("json"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["user"]["id"], app.trainee.id);
    assert_eq!(
        doc["conversations"][0]["other_participant"]["id"],
        app.trainer.id
    );
    let (a, e) = (app.admin.id.to_string(), app.trainee.id.to_string());
    assert_eq!(app.sql(EXPORTS).await, [[a, e, "127.0.0.1".to_owned()]]);
}

async fn exports_are_limited_to_ten_an_hour_per_caller(app: TestApp) {
    let c = &app.trainee.client;
    for _ in 0..10 {
        c.export(Some("csv")).await.unwrap().bytes().await.unwrap();
    }
    let refused = c.export(None).await.unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    // Another caller has their own budget; one more comes every six minutes.
    app.trainee2.client.export(None).await.unwrap();
    app.advance(Duration::from_secs(6 * 60));
    c.export(None).await.unwrap();
    assert_eq!(app.sql(EXPORTS).await.len(), 12);
}

async fn an_export_whose_audit_entry_cannot_be_written_sends_nothing(app: TestApp) {
    let conv = app.conversation().await;
    app.trainee
        .client
        .send(conv, "private", None)
        .await
        .unwrap();
    // The log refuses every new entry (a full disk, a broken table: any failure to append).
    let refuse: &[&str] = if app.config.database_url.is_some() {
        &[
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no'; END $$ \
             LANGUAGE plpgsql",
            "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log FOR EACH ROW \
             EXECUTE FUNCTION refuse()",
        ]
    } else {
        &[
            "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log BEGIN \
           SELECT RAISE(ABORT, 'no'); END",
        ]
    };
    for q in refuse {
        app.sql(q).await;
    }
    for path in [
        "api/messaging/export/".to_owned(),
        format!("api/admin/users/{}/export/?format=csv", app.trainee.id),
    ] {
        let who = if path.contains("admin") {
            &app.admin
        } else {
            &app.trainee
        };
        let (status, headers, text) = export(&who.client, &path).await;
        assert!(status.is_server_error(), "{path}: {status}");
        assert!(headers.get("content-disposition").is_none());
        assert!(!text.contains("private"), "{text}");
    }
    assert!(app.sql(EXPORTS).await.is_empty());
}

/// Bulk messages (after the first) in a conversation, straight into the database.
fn bulk_messages(pg: bool, conv: i64, sender: i64, n: i64) -> String {
    let text = "'Message ' || n || ': squats, lunges and a long note about sleep, protein, \
                steps and the plan for the week ahead, to make each row a few hundred bytes'";
    let rows = if pg {
        format!("SELECT n FROM generate_series(2, {n}) n")
    } else {
        format!(
            "WITH RECURSIVE i(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM i WHERE n < {n}) \
             SELECT n FROM i"
        )
    };
    format!(
        "INSERT INTO messages (conversation_id, seq, sender_id, content, created_at) \
         SELECT {conv}, n, {sender}, {text}, 1700000000000000 + n FROM ({rows}) s"
    )
}

async fn an_export_is_written_while_it_is_read_not_before(app: TestApp) {
    // 60,000 messages: ~25 MB of JSON, several times what the sockets, hyper and the export's
    // channel can hold between the server's reads and the client's. If the server produced
    // the body before sending it, a conversation started after the first bytes arrived could
    // not be in it.
    let conv = app.conversation().await;
    let pg = app.config.database_url.is_some();
    app.sql(&bulk_messages(pg, conv, app.trainer.id, 60_000))
        .await;
    let mut resp = app.trainer.client.export(None).await.unwrap();
    let first = resp.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"{\"user\":"));
    let later = app
        .trainer
        .client
        .start(app.trainee2.id, "late", None)
        .await;
    let later = later.unwrap().1.conversation_id;
    let mut body = first.to_vec();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let conversations = doc["conversations"].as_array().unwrap();
    assert_eq!(
        conversations[0]["messages"].as_array().unwrap().len(),
        60_000
    );
    let ids: Vec<i64> = conversations
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [conv, later],
        "the conversation started mid-export is in it"
    );
}
