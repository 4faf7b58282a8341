//! Part C: search. Validation and its order, substring semantics (case, `%`, `_`, `\`),
//! what is left out (deleted messages, archived conversations, other people's), paging edges,
//! the result's shape from each side, and Spotter's `conversation_id`, `highlights` and
//! `?around=`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    search_validates_the_query_in_the_contracts_order,
    search_finds_substrings_case_insensitively_and_literally,
    search_leaves_out_deleted_archived_and_other_peoples_messages,
    search_pages_twenty_and_clamps_the_page,
    a_result_opens_in_place_with_around,
);

async fn get(c: &spotter_client::Client, query: &str) -> (StatusCode, Value) {
    let r = c
        .raw(
            Method::GET,
            &format!("/api/messaging/search/?{query}"),
            None,
        )
        .await
        .unwrap();
    (r.status, r.body)
}

async fn search_validates_the_query_in_the_contracts_order(app: TestApp) {
    let c = &app.trainee.client;
    let error = |m: &str| (StatusCode::BAD_REQUEST, json!({ "error": m }));
    assert_eq!(get(c, "").await, error("Search query is required."));
    assert_eq!(get(c, "q=%20%20").await, error("Search query is required."));
    assert_eq!(
        get(c, "q=%20a%20").await,
        error("Search query must be at least 2 characters.")
    );
    // Admins: after the query's own checks.
    let admin = &app.admin.client;
    assert_eq!(
        get(admin, "q=a").await,
        error("Search query must be at least 2 characters.")
    );
    assert_eq!(
        get(admin, "q=ab").await,
        error("Only trainers and trainees can search messages.")
    );
    // Read-only tokens may search: it changes nothing.
    let imp = app.trainer_as_trainee().await;
    assert_eq!(get(&imp, "q=ab").await.0, StatusCode::OK);
    let none = get(c, "q=nothing-like-this").await.1;
    assert_eq!(
        none,
        json!({"count": 0, "num_pages": 1, "page": 1, "has_next": false, "has_previous": false, "results": []})
    );
    assert_eq!(
        get(c, "q=ab&conversation_id=x").await.0,
        StatusCode::BAD_REQUEST
    );
    // NUL matches nothing (no stored text holds one), on PostgreSQL too.
    let (status, body) = get(c, "q=a%00b&page=3").await;
    assert_eq!((status, &body["count"]), (StatusCode::OK, &json!(0)));
}

async fn search_finds_substrings_case_insensitively_and_literally(app: TestApp) {
    let conv = app.conversation().await;
    let t = &app.trainee.client;
    for text in [
        "Deadlift PR today",
        "100% effort",
        "a_b",
        "a\\b",
        "ab",
        "deadLIFTS next week",
    ] {
        t.send(conv, text, None).await.unwrap();
    }
    let contents = |page: spotter_client::model::SearchPage| -> Vec<String> {
        page.results.into_iter().map(|r| r.content).collect()
    };
    // Newest first.
    assert_eq!(
        contents(t.search("DEADLIFT", 1, None).await.unwrap()),
        ["deadLIFTS next week", "Deadlift PR today"]
    );
    assert_eq!(
        contents(t.search("0%", 1, None).await.unwrap()),
        ["100% effort"]
    );
    assert_eq!(contents(t.search("a_", 1, None).await.unwrap()), ["a_b"]);
    assert_eq!(contents(t.search("a\\", 1, None).await.unwrap()), ["a\\b"]);
    assert_eq!(
        contents(t.search("%%", 1, None).await.unwrap()),
        Vec::<String>::new()
    );
    // Two characters (no trigram): still found, still literal.
    assert_eq!(contents(t.search("_b", 1, None).await.unwrap()), ["a_b"]);
    // The result's shape, from the trainee's side and the trainer's.
    let r = &t.search("pr to", 1, None).await.unwrap().results[0];
    assert_eq!(r.other_participant_id, Some(app.trainer.id));
    assert_eq!(r.sender_id, Some(app.trainee.id));
    assert_eq!(r.conversation_id, conv);
    assert_eq!(r.image_url, None);
    assert_eq!(
        r.highlights,
        [spotter_client::model::Highlight { start: 9, end: 14 }]
    );
    let r = &app
        .trainer
        .client
        .search("pr to", 1, None)
        .await
        .unwrap()
        .results[0];
    assert_eq!(r.other_participant_id, Some(app.trainee.id));
    let raw = get(t, "q=effort").await.1;
    let keys: Vec<&str> = raw["results"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "message_id",
        "conversation_id",
        "sender_id",
        "sender_first_name",
        "sender_last_name",
        "content",
        "image_url",
        "created_at",
        "other_participant_id",
        "other_participant_first_name",
        "other_participant_last_name",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}

async fn search_leaves_out_deleted_archived_and_other_peoples_messages(app: TestApp) {
    let conv = app.conversation().await;
    let (_, gone) = app
        .trainee
        .client
        .send(conv, "squat form check", None)
        .await
        .unwrap();
    app.trainee
        .client
        .send(conv, "squat depth ok?", None)
        .await
        .unwrap();
    app.trainee
        .client
        .delete_message(conv, gone.id)
        .await
        .unwrap();
    app.other_trainer
        .client
        .start(app.other_trainee.id, "squat plan for others", None)
        .await
        .unwrap();
    let found = app.trainer.client.search("squat", 1, None).await.unwrap();
    assert_eq!(found.count, 1);
    assert_eq!(found.results[0].content, "squat depth ok?");
    // Archived: out of the trainer's search too, as out of their list.
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    assert_eq!(
        app.trainer
            .client
            .search("squat", 1, None)
            .await
            .unwrap()
            .count,
        0
    );
    // A deleted trainee's conversation: the other side shows as removed.
    let bulk = app
        .add_user(
            "gone@example.com",
            spotter::domain::model::Role::Trainee,
            Some(app.trainer.id),
        )
        .await;
    app.store_start(bulk, "squat with the removed one").await;
    app.delete_user(bulk).await;
    let r = &app
        .trainer
        .client
        .search("squat", 1, None)
        .await
        .unwrap()
        .results[0];
    assert_eq!(
        (
            r.other_participant_id,
            r.other_participant_first_name.as_str(),
            r.other_participant_last_name.as_str()
        ),
        (None, "", "[removed]")
    );
}

async fn search_pages_twenty_and_clamps_the_page(app: TestApp) {
    let conv = app.conversation().await;
    for i in 0..45 {
        // A slot of the bucket comes back every two seconds.
        app.advance(std::time::Duration::from_secs(2));
        app.trainee
            .client
            .send(conv, &format!("rep {i:02}"), None)
            .await
            .unwrap();
    }
    let client = &app.trainee.client;
    let page = |p: &str| {
        let query = format!("q=rep&page={p}");
        async move { get(client, &query).await }
    };
    let (_, first) = page("x").await;
    assert_eq!(
        (
            first["count"].as_i64(),
            first["num_pages"].as_i64(),
            first["page"].as_i64()
        ),
        (Some(45), Some(3), Some(1))
    );
    assert_eq!(first["results"].as_array().unwrap().len(), 20);
    assert_eq!(first["results"][0]["content"], "rep 44");
    assert_eq!(
        (first["has_next"].as_bool(), first["has_previous"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(page("0").await.1["page"], 1);
    assert_eq!(page("-2").await.1["page"], 1);
    let (_, last) = page("99").await;
    assert_eq!(
        (
            last["page"].as_i64(),
            last["results"].as_array().unwrap().len()
        ),
        (Some(3), 5)
    );
    assert_eq!(last["results"][4]["content"], "rep 00");
    assert_eq!(
        (last["has_next"].as_bool(), last["has_previous"].as_bool()),
        (Some(false), Some(true))
    );
}

async fn a_result_opens_in_place_with_around(app: TestApp) {
    let conv = app.conversation().await;
    let t = &app.trainee.client;
    let mut ids = Vec::new();
    for i in 0..9 {
        ids.push(t.send(conv, &format!("note {i}"), None).await.unwrap().1.id);
    }
    let other = app
        .other_trainer
        .client
        .start(app.other_trainee.id, "note x", None)
        .await
        .unwrap()
        .1;
    let hit = t.search("note 4", 1, Some(conv)).await.unwrap();
    assert_eq!(hit.count, 1);
    let target = hit.results[0].message_id;
    assert_eq!(
        app.other_trainer
            .client
            .search("note", 1, Some(conv))
            .await
            .unwrap()
            .count,
        0,
        "a conversation of someone else's narrows to nothing"
    );
    let around = t.messages_around(conv, target, 4).await.unwrap();
    let shown: Vec<i64> = around.results.iter().map(|m| m.id).collect();
    // Newest first: two newer, the message, one older.
    assert_eq!(shown, [ids[6], ids[5], ids[4], ids[3]]);
    assert!(around.has_older && around.has_newer);
    let edge = t.messages_around(conv, ids[8], 4).await.unwrap();
    assert!(!edge.has_newer && edge.has_older);
    assert_eq!(edge.results[0].id, ids[8]);
    let r = t
        .raw(
            Method::GET,
            &format!(
                "/api/messaging/conversations/{conv}/messages/?around={}",
                other.message.id
            ),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "Message not found."})
        )
    );
}

/// SQLite indexes new messages in the background, when its writer is idle: the index catches
/// up with every message, and searches find the same before and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_indexes_new_messages_when_its_writer_is_idle() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let conv = app.conversation().await;
    for i in 0..25 {
        app.trainee
            .client
            .send(conv, &format!("tempo squat {i}"), None)
            .await
            .unwrap();
    }
    let newest = app.column("SELECT max(id) FROM messages").await;
    crate::helpers::eventually("the search index to catch up", || async {
        let indexed = app
            .column("SELECT indexed_up_to FROM search_progress")
            .await;
        (indexed == newest).then_some(())
    })
    .await;
    let found = app
        .trainer
        .client
        .search("tempo squat", 1, Some(conv))
        .await
        .unwrap();
    assert_eq!(found.count, 25);
    assert_eq!(found.results[0].content, "tempo squat 24");
}
