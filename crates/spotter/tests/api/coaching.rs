//! Part D 3 and 4: saved replies (every status and error of the contract, the validation a
//! trainer meets), the "needs reply" inbox and the response-time figures, on histories made
//! at known times with the server's clock.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spotter_client::Client;

use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    a_trainer_saves_lists_changes_and_deletes_replies_ordered_by_title,
    saved_replies_are_validated_like_a_serious_product,
    a_trainer_keeps_at_most_two_hundred_saved_replies,
    saved_replies_are_the_trainers_own_and_read_only_when_impersonating,
    needs_reply_lists_waiting_conversations_longest_first,
    messaging_stats_count_first_responses_of_the_window,
);

const TEMPLATES: &str = "api/messaging/templates/";

fn one(id: i64) -> String {
    format!("api/messaging/templates/{id}/")
}

async fn call(c: &Client, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let r = c.raw(method, path, body.as_ref()).await.unwrap();
    (r.status, r.body)
}

fn error(m: &str) -> Value {
    json!({ "error": m })
}

fn titles(list: &[spotter_client::Template]) -> Vec<&str> {
    list.iter().map(|t| t.title.as_str()).collect()
}

async fn a_trainer_saves_lists_changes_and_deletes_replies_ordered_by_title(app: TestApp) {
    let c = &app.trainer.client;
    let (status, body) = call(
        c,
        Method::POST,
        TEMPLATES,
        Some(json!({"title": "  monday check-in ", "content": " How did the week go? "})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5);
    for k in ["id", "title", "content", "created_at", "updated_at"] {
        assert!(keys.contains(&k), "{k} in {body}");
    }
    assert_eq!(body["title"], "monday check-in");
    assert_eq!(body["content"], "How did the week go?");
    assert_eq!(body["created_at"], body["updated_at"]);
    let monday = body["id"].as_i64().unwrap();
    c.create_template("Assessment", "Book your assessment.")
        .await
        .unwrap();
    c.create_template("zinc", "Take zinc.").await.unwrap();
    c.create_template("Zebra", "Stripes.").await.unwrap();
    assert_eq!(
        titles(&c.templates().await.unwrap()),
        ["Assessment", "monday check-in", "Zebra", "zinc"],
        "by title, whatever the case"
    );

    app.advance(Duration::from_secs(60));
    let changed = c
        .update_template(monday, Some("Weekly check-in"), None)
        .await
        .unwrap();
    assert_eq!(
        (changed.id, changed.title.as_str(), changed.content.as_str()),
        (monday, "Weekly check-in", "How did the week go?")
    );
    assert_eq!(changed.created_at, body["created_at"].as_str().unwrap());
    assert!(changed.updated_at > changed.created_at);
    let changed = c
        .update_template(monday, None, Some("New text"))
        .await
        .unwrap();
    assert_eq!(
        (changed.title.as_str(), changed.content.as_str()),
        ("Weekly check-in", "New text")
    );
    // A PATCH naming nothing changes nothing, and answers the whole reply.
    let (status, same) = call(c, Method::PATCH, &one(monday), Some(json!({}))).await;
    assert_eq!(
        (status, same["content"].as_str()),
        (StatusCode::OK, Some("New text"))
    );
    // The same title in another case is the same reply's own.
    let renamed = c
        .update_template(monday, Some("WEEKLY check-in"), None)
        .await
        .unwrap();
    assert_eq!(renamed.title, "WEEKLY check-in");
    assert_eq!(
        titles(&c.templates().await.unwrap()),
        ["Assessment", "WEEKLY check-in", "Zebra", "zinc"]
    );

    assert_eq!(
        c.delete_template(monday).await.unwrap(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        titles(&c.templates().await.unwrap()),
        ["Assessment", "Zebra", "zinc"]
    );
    let gone = error("Saved reply not found.");
    assert_eq!(
        call(c, Method::DELETE, &one(monday), None).await,
        (StatusCode::NOT_FOUND, gone.clone())
    );
    assert_eq!(
        call(c, Method::PATCH, &one(monday), Some(json!({"title": "x"}))).await,
        (StatusCode::NOT_FOUND, gone)
    );
    // Other methods on the collection, and junk ids.
    assert_eq!(
        call(c, Method::DELETE, TEMPLATES, None).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(c, Method::GET, &one(1), None).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(c, Method::DELETE, "api/messaging/templates/abc/", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

async fn saved_replies_are_validated_like_a_serious_product(app: TestApp) {
    let c = &app.trainer.client;
    let post = |body: Value| call(c, Method::POST, TEMPLATES, Some(body));
    let bad = StatusCode::BAD_REQUEST;
    assert_eq!(
        post(json!({})).await,
        (
            bad,
            json!({"title": ["This field is required."], "content": ["This field is required."]})
        )
    );
    assert_eq!(
        post(json!({"title": "  ", "content": " \n "})).await,
        (
            bad,
            json!({"title": ["This field may not be blank."], "content": ["This field may not be blank."]})
        )
    );
    assert_eq!(
        post(json!({"title": "t".repeat(101), "content": "x".repeat(2001)})).await,
        (
            bad,
            json!({
                "title": ["Ensure this field has no more than 100 characters."],
                "content": ["Ensure this field has no more than 2000 characters."]
            })
        )
    );
    assert_eq!(
        post(json!({"title": ["x"], "content": "ok"})).await,
        (bad, json!({"title": ["Not a valid string."]}))
    );
    assert_eq!(
        post(json!({"title": "a\u{0}b", "content": "ok"})).await,
        (bad, json!({"title": ["Null characters are not allowed."]}))
    );
    assert_eq!(
        call(c, Method::POST, TEMPLATES, None).await.0,
        bad,
        "no body: both required"
    );
    let (status, body) = c
        .raw(Method::POST, TEMPLATES, Some(&json!([1])))
        .await
        .map(|r| (r.status, r.body))
        .unwrap();
    assert_eq!((status, body["detail"].is_string()), (bad, true));
    // The limits themselves pass: 100 and 2000 characters, after trimming.
    let (status, body) =
        post(json!({"title": format!("  {}  ", "é".repeat(100)), "content": "x".repeat(2000)}))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let first = c.create_template("Welcome", "Hi!").await.unwrap();
    let taken = json!({"title": ["You already have a saved reply with this title."]});
    assert_eq!(
        post(json!({"title": " WELCOME ", "content": "Again"})).await,
        (bad, taken.clone())
    );
    let other = c.create_template("Other", "Text").await.unwrap();
    assert_eq!(
        call(
            c,
            Method::PATCH,
            &one(other.id),
            Some(json!({"title": "welcome"}))
        )
        .await,
        (bad, taken)
    );
    assert_eq!(
        call(
            c,
            Method::PATCH,
            &one(other.id),
            Some(json!({"content": null, "title": ""}))
        )
        .await,
        (
            bad,
            json!({"content": ["This field may not be null."], "title": ["This field may not be blank."]})
        )
    );
    // Another trainer's titles are theirs.
    app.other_trainer
        .client
        .create_template("Welcome", "Hello")
        .await
        .unwrap();
    let mine = c.templates().await.unwrap();
    assert_eq!(mine.iter().filter(|t| t.id == first.id).count(), 1);
    assert_eq!(mine.len(), 3, "nothing refused was stored");
}

async fn a_trainer_keeps_at_most_two_hundred_saved_replies(app: TestApp) {
    let c = &app.trainer.client;
    for i in 0..200 {
        c.create_template(&format!("Reply {i:03}"), "text")
            .await
            .unwrap();
    }
    let (status, body) = call(
        c,
        Method::POST,
        TEMPLATES,
        Some(json!({"title": "One more", "content": "x"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            error("You can keep at most 200 saved replies. Delete one to save another.")
        )
    );
    let all = c.templates().await.unwrap();
    assert_eq!((all.len(), all[0].title.as_str()), (200, "Reply 000"));
    c.delete_template(all[7].id).await.unwrap();
    c.create_template("One more", "x").await.unwrap();
    // The cap is each trainer's own.
    app.other_trainer
        .client
        .create_template("One more", "x")
        .await
        .unwrap();
}

async fn saved_replies_are_the_trainers_own_and_read_only_when_impersonating(app: TestApp) {
    let mine = app
        .trainer
        .client
        .create_template("Mine", "Text")
        .await
        .unwrap();
    let path = one(mine.id);
    let edit = json!({"title": "Theirs"});

    // Another trainer: not found, as if it did not exist.
    let other = &app.other_trainer.client;
    let gone = (StatusCode::NOT_FOUND, error("Saved reply not found."));
    assert_eq!(
        call(other, Method::PATCH, &path, Some(edit.clone())).await,
        gone
    );
    assert_eq!(call(other, Method::DELETE, &path, None).await, gone);
    assert!(other.templates().await.unwrap().is_empty());

    // Trainees, admins, ambassadors, and a trainer acting as a trainee: no saved replies.
    let ambassador = app
        .add_user(
            "amb@test.io",
            spotter::domain::model::Role::Ambassador,
            None,
        )
        .await;
    let _ = ambassador;
    let amb = app
        .anon
        .logged_in("amb@test.io", crate::helpers::PASSWORD)
        .await
        .unwrap();
    let as_trainee = app.trainer_as_trainee().await;
    let only = (
        StatusCode::FORBIDDEN,
        error("Only trainers have saved replies."),
    );
    for who in [&app.trainee.client, &app.admin.client, &amb, &as_trainee] {
        assert_eq!(call(who, Method::GET, TEMPLATES, None).await, only);
        assert_eq!(
            call(
                who,
                Method::POST,
                TEMPLATES,
                Some(json!({"title": "t", "content": "c"}))
            )
            .await,
            only
        );
        assert_eq!(
            call(who, Method::PATCH, &path, Some(edit.clone())).await,
            only
        );
        assert_eq!(call(who, Method::DELETE, &path, None).await, only);
    }

    // An admin impersonating the trainer reads, and writes nothing.
    let as_trainer = app.admin_as_trainer().await;
    assert_eq!(titles(&as_trainer.templates().await.unwrap()), ["Mine"]);
    let read_only = (
        StatusCode::FORBIDDEN,
        error("Cannot send messages during impersonation."),
    );
    assert_eq!(
        call(
            &as_trainer,
            Method::POST,
            TEMPLATES,
            Some(json!({"title": "t", "content": "c"}))
        )
        .await,
        read_only
    );
    assert_eq!(
        call(&as_trainer, Method::POST, TEMPLATES, Some(json!({}))).await,
        read_only,
        "before validation"
    );
    assert_eq!(
        call(&as_trainer, Method::PATCH, &path, Some(edit)).await,
        read_only
    );
    assert_eq!(
        call(&as_trainer, Method::DELETE, &path, None).await,
        read_only
    );
    assert_eq!(app.trainer.client.templates().await.unwrap(), [mine]);
    assert_eq!(
        call(&app.anon, Method::GET, TEMPLATES, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// The trainer's "needs reply" list: (conversation id, waiting_since) in order.
async fn waiting(app: &TestApp) -> Vec<(i64, String)> {
    let page = app
        .trainer
        .client
        .conversations_needing_reply(1)
        .await
        .unwrap();
    assert_eq!(page.count as usize, page.results.len());
    page.results
        .into_iter()
        .map(|c| (c.id, c.waiting_since.expect("waiting_since")))
        .collect()
}

async fn needs_reply_lists_waiting_conversations_longest_first(app: TestApp) {
    let minute = Duration::from_secs(60);
    let a = app.conversation().await;
    let t = &app.trainer.client;
    let b = t
        .start(app.trainee2.id, "Hi Theo", None)
        .await
        .unwrap()
        .1
        .conversation_id;
    assert!(
        waiting(&app).await.is_empty(),
        "the trainer wrote last everywhere"
    );

    app.advance(minute);
    let (_, b1) = app.trainee2.client.send(b, "Question", None).await.unwrap();
    app.advance(minute);
    let (_, a1) = app.trainee.client.send(a, "Done!", None).await.unwrap();
    app.advance(minute);
    // A second message from the same trainee: still waiting since the first.
    app.trainee2.client.send(b, "Hello?", None).await.unwrap();
    assert_eq!(
        waiting(&app).await,
        [(b, b1.created_at.clone()), (a, a1.created_at.clone())]
    );
    // The ordinary list is unchanged: no waiting_since there.
    let (_, list) = call(t, Method::GET, "api/messaging/conversations/", None).await;
    assert!(list["results"][0].get("waiting_since").is_none(), "{list}");

    // The trainer's reply takes the conversation off at once.
    app.advance(minute);
    t.send(b, "Answer", None).await.unwrap();
    assert_eq!(waiting(&app).await, [(a, a1.created_at.clone())]);
    app.advance(minute);
    let (_, b2) = app.trainee2.client.send(b, "Thanks", None).await.unwrap();
    assert_eq!(
        waiting(&app).await,
        [(a, a1.created_at.clone()), (b, b2.created_at.clone())]
    );

    // A deleted message still counts: the trainee is still waiting since it.
    app.trainee.client.delete_message(a, a1.id).await.unwrap();
    assert_eq!(waiting(&app).await[0], (a, a1.created_at.clone()));

    // Archived conversations leave the list.
    t.remove_trainee(app.trainee.id).await.unwrap();
    assert_eq!(waiting(&app).await, [(b, b2.created_at.clone())]);

    // A trainer's alone; contradicting flags; others' roles.
    assert!(
        app.other_trainer
            .client
            .conversations_needing_reply(1)
            .await
            .unwrap()
            .results
            .is_empty()
    );
    let both = "api/messaging/conversations/?needs_reply=true&archived=true";
    assert_eq!(
        call(t, Method::GET, both, None).await.0,
        StatusCode::BAD_REQUEST
    );
    let denied = json!({"detail": "You do not have permission to perform this action."});
    let path = "api/messaging/conversations/?needs_reply=true";
    assert_eq!(
        call(&app.trainee2.client, Method::GET, path, None).await,
        (StatusCode::FORBIDDEN, denied)
    );
    // An admin impersonating the trainer may look.
    let as_trainer = app.admin_as_trainer().await;
    assert_eq!(
        as_trainer
            .conversations_needing_reply(1)
            .await
            .unwrap()
            .count,
        1
    );
}

async fn stats(c: &Client, days: u32) -> spotter_client::MessagingStats {
    c.messaging_stats(days).await.unwrap()
}

/// Sends `text` after `secs` seconds more on the server's clock.
async fn at(app: &TestApp, secs: u64, who: &Client, conv: i64, text: &str) {
    app.advance(Duration::from_secs(secs));
    who.send(conv, text, None).await.unwrap();
}

async fn messaging_stats_count_first_responses_of_the_window(app: TestApp) {
    let (t, tia, theo) = (
        &app.trainer.client,
        &app.trainee.client,
        &app.trainee2.client,
    );
    let none = stats(t, 7).await;
    assert_eq!(
        (
            none.conversations,
            none.median_first_response_seconds,
            none.p90_first_response_seconds
        ),
        (0, None, None)
    );

    // Times in seconds from the first message (the trainer's, in A).
    let a = app.conversation().await; // 0
    app.advance(Duration::from_secs(1));
    let b = t
        .start(app.trainee2.id, "Hi Theo", None)
        .await
        .unwrap()
        .1
        .conversation_id; // 1
    at(&app, 599, tia, a, "A1 opens a wait").await; // 600
    at(&app, 300, tia, a, "more").await; // 900
    at(&app, 300, t, a, "answer: 600 s").await; // 1200
    at(&app, 60, t, a, "and more").await; // 1260
    at(&app, 60, tia, a, "A2 opens a wait").await; // 1320
    at(&app, 1800, t, a, "answer: 1800 s").await; // 3120
    at(&app, 80, theo, b, "B1 opens a wait").await; // 3200
    at(&app, 120, t, b, "answer: 120 s").await; // 3320
    at(&app, 80, theo, b, "B2 waits").await; // 3400

    let week = stats(t, 7).await;
    assert_eq!(
        week,
        spotter_client::MessagingStats {
            conversations: 2,
            messages_received: 5,
            messages_sent: 6,
            // 120, 600, 1800: the middle one; p90 at rank 1.8 = 600 + 0.8 × 1200.
            median_first_response_seconds: Some(600.0),
            p90_first_response_seconds: Some(1560.0),
            waiting_now: 1,
        }
    );
    assert_eq!(stats(t, 30).await, week);

    // Eight days on: B2 is answered (its wait began before the 7-day window), and A3 opens
    // after a trainer message from before the window.
    // (Tokens last an hour: both log in again.)
    app.advance(Duration::from_secs(691_200));
    let login = |email: &'static str| app.anon.logged_in(email, crate::helpers::PASSWORD);
    let (t, tia) = (
        &login("trainer@test.io").await.unwrap(),
        &login("trainee@test.io").await.unwrap(),
    );
    at(&app, 0, t, b, "answer: 8 days").await; // 694600
    at(&app, 60, tia, a, "A3 opens a wait").await; // 694660
    at(&app, 60, t, a, "answer: 60 s").await; // 694720
    assert_eq!(
        stats(t, 7).await,
        spotter_client::MessagingStats {
            conversations: 2,
            messages_received: 1,
            messages_sent: 2,
            median_first_response_seconds: Some(60.0),
            p90_first_response_seconds: Some(60.0),
            waiting_now: 0,
        }
    );
    // 60, 120, 600, 1800, 691200: p90 at rank 3.6 = 1800 + 0.6 × 689400.
    assert_eq!(
        stats(t, 30).await,
        spotter_client::MessagingStats {
            conversations: 2,
            messages_received: 6,
            messages_sent: 8,
            median_first_response_seconds: Some(600.0),
            p90_first_response_seconds: Some(415_440.0),
            waiting_now: 0,
        }
    );
    // Another trainer's figures are their own.
    let omar = login("other.trainer@test.io").await.unwrap();
    assert_eq!(stats(&omar, 30).await.messages_sent, 0);

    // The window is 7 (default) or 30 days; trainees may not ask.
    let (status, body) = call(t, Method::GET, "api/trainer/messaging-stats/", None).await;
    assert_eq!(
        (status, body["messages_received"].as_i64()),
        (StatusCode::OK, Some(1))
    );
    for bad in ["14", "abc", ""] {
        let (status, body) = call(
            t,
            Method::GET,
            &format!("api/trainer/messaging-stats/?days={bad}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body["days"][0].is_string(), "{body}");
    }
    let denied = json!({"detail": "You do not have permission to perform this action."});
    for who in [tia, &login("admin@test.io").await.unwrap()] {
        let answer = call(
            who,
            Method::GET,
            "api/trainer/messaging-stats/?days=7",
            None,
        )
        .await;
        assert_eq!(answer, (StatusCode::FORBIDDEN, denied.clone()));
    }
}
