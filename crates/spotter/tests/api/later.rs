//! Part D 1 and 2: broadcasts and scheduled messages through the API and the user socket, on
//! the server's manual clock (a message is due when the test moves the clock past its time).
//! Exactly once across crashes is `tests/faults`'s; across two nodes, here on PostgreSQL.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spotter_client::{Client, Incoming, Recipients, ServerFrame, Socket};

use crate::helpers::{Backend, TestApp, eventually, live, status_of};

/// Each test on both backends, with sockets that never go idle: the tests move the clock by
/// minutes at once, which no ping could keep up with.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(spawn(Backend::Sqlite, |_| {}).await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(spawn(Backend::Postgres, |_| {}).await).await
            }
        }
    )*};
}

async fn spawn(backend: Backend, tweak: impl FnOnce(&mut spotter::Config)) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.ws_ping_secs = 100_000_000;
        c.ws_idle_secs = 100_000_000;
        tweak(c);
    })
    .await
}

on_both!(
    a_broadcast_reaches_each_trainee_once_by_name_with_progress_live,
    a_broadcast_retry_answers_the_first_and_sends_nothing_more,
    broadcasts_are_a_trainers_and_reach_only_their_own_trainees,
    a_scheduled_broadcast_waits_for_its_time_and_can_be_cancelled_until_then,
    a_scheduled_message_goes_out_once_at_its_time_as_an_ordinary_message,
    scheduled_messages_are_validated_and_each_authors_own,
    a_scheduled_message_that_cannot_go_fails_with_its_reason,
    sends_made_but_not_recorded_are_found_again_not_repeated,
);

const BROADCASTS: &str = "api/messaging/broadcasts/";

fn scheduled_path(conversation: i64) -> String {
    format!("api/messaging/conversations/{conversation}/scheduled/")
}

async fn call(c: &Client, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let r = c.raw(method, path, body.as_ref()).await.unwrap();
    (r.status, r.body)
}

/// The server's time `ahead` from now, as the API writes times.
fn at(app: &TestApp, ahead: Duration) -> String {
    spotter::wire::to_wire(app.clock.now() + ahead.as_micros() as i64)
}

/// Reads frames until one `pick` takes; fails if the socket ends first.
async fn next_frame<T>(sock: &mut Socket, mut pick: impl FnMut(ServerFrame) -> Option<T>) -> T {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), sock.next())
            .await
            .expect("a frame in time");
        match next {
            Some(Incoming::Frame(f)) => {
                if let Some(t) = pick(f) {
                    return t;
                }
            }
            Some(_) => {}
            None => panic!("the socket ended"),
        }
    }
}

/// Waits for the broadcast's `broadcast_progress` frame in `state`.
async fn progress(sock: &mut Socket, id: i64, state: &str) -> spotter_client::Broadcast {
    next_frame(sock, |f| match f {
        ServerFrame::BroadcastProgress { broadcast } if broadcast.id == id => {
            (broadcast.state == state).then_some(broadcast)
        }
        _ => None,
    })
    .await
}

/// The trainer's conversation with `trainee`, and its messages' texts (oldest first).
async fn texts_with(app: &TestApp, trainee: i64) -> Vec<String> {
    let list = app.trainer.client.conversations(1).await.unwrap();
    let Some(c) = list
        .results
        .iter()
        .find(|c| c.trainee.as_ref().is_some_and(|t| t.id == trainee))
    else {
        return Vec::new();
    };
    let page = app.trainer.client.messages(c.id, 1).await.unwrap();
    page.results
        .iter()
        .rev()
        .map(|m| m.content.clone())
        .collect()
}

async fn a_broadcast_reaches_each_trainee_once_by_name_with_progress_live(app: TestApp) {
    // Tia has a conversation; Theo has none yet (the broadcast starts it).
    app.conversation().await;
    let mut trainer_sock = live(&app.trainer.client, None).await;
    let mut theo_sock = live(&app.trainee2.client, None).await;
    let (status, body) = call(
        &app.trainer.client,
        Method::POST,
        BROADCASTS,
        Some(json!({"content": "  Hi {first_name}, how was the week? ", "trainee_ids": "all"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "id",
        "state",
        "total",
        "sent",
        "failed",
        "created_at",
        "send_at",
    ] {
        assert!(keys.contains(&k), "{k} in {body}");
    }
    assert_eq!(body["total"], 2);
    assert_eq!(body["send_at"], Value::Null);
    let id = body["id"].as_i64().unwrap();

    // The trainer's user socket gets the progress, not an echo of each copy.
    let mut echoes = 0;
    let done = next_frame(&mut trainer_sock, |f| match f {
        ServerFrame::BroadcastProgress { broadcast } if broadcast.state == "done" => {
            Some(broadcast)
        }
        ServerFrame::NewMessage { .. } => {
            echoes += 1;
            None
        }
        _ => None,
    })
    .await;
    crate::helpers::quiet(&mut trainer_sock, |f| {
        matches!(f, ServerFrame::NewMessage { .. })
    })
    .await;
    assert_eq!(echoes, 0);
    assert_eq!((done.sent, done.failed, done.total), (2, 0, 2));
    assert!(done.finished_at.is_some());
    // Theo sees an ordinary new message, in a conversation the broadcast started.
    let m = next_frame(&mut theo_sock, |f| match f {
        ServerFrame::NewMessage { message, .. } => Some(message),
        _ => None,
    })
    .await;
    assert_eq!(m.content, "Hi Theo, how was the week?");
    assert_eq!(m.sender.as_ref().map(|s| s.id), Some(app.trainer.id));

    assert_eq!(
        texts_with(&app, app.trainee.id).await,
        ["Welcome!", "Hi Tia, how was the week?"]
    );
    assert_eq!(
        texts_with(&app, app.trainee2.id).await,
        ["Hi Theo, how was the week?"]
    );
    let detail = app.trainer.client.broadcast_detail(id).await.unwrap();
    assert_eq!((detail.state.as_str(), detail.sent), ("done", 2));
    assert!(detail.failures.is_empty());
    let list = app.trainer.client.broadcasts(1).await.unwrap();
    assert_eq!(list.count, 1);
    assert_eq!(
        list.results[0].content,
        "Hi {first_name}, how was the week?"
    );
    // A broadcast message answers the trainee's waiting like any reply: off the inbox.
    let waiting = app
        .trainer
        .client
        .conversations_needing_reply(1)
        .await
        .unwrap();
    assert_eq!(waiting.count, 0);
}

async fn a_broadcast_retry_answers_the_first_and_sends_nothing_more(app: TestApp) {
    let c = &app.trainer.client;
    let mut sock = live(c, None).await;
    let to = Recipients::Trainees(vec![app.trainee.id]);
    let first = c
        .broadcast("Rest day!", &to, Some("monday-1"), None)
        .await
        .unwrap();
    progress(&mut sock, first.id, "done").await;
    let (status, again) = call(
        c,
        Method::POST,
        BROADCASTS,
        Some(json!({"content": "Rest day!", "trainee_ids": [app.trainee.id], "client_broadcast_id": "monday-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first.id);
    assert_eq!(again["state"], "done");
    assert_eq!(texts_with(&app, app.trainee.id).await, ["Rest day!"]);
    assert_eq!(c.broadcasts(1).await.unwrap().count, 1);
}

async fn broadcasts_are_a_trainers_and_reach_only_their_own_trainees(app: TestApp) {
    let body = |ids: Value| Some(json!({"content": "Hi", "trainee_ids": ids}));
    let error = |m: &str| json!({ "error": m });
    let (s, b) = call(
        &app.trainee.client,
        Method::POST,
        BROADCASTS,
        body(json!("all")),
    )
    .await;
    assert_eq!(
        (s, b),
        (
            StatusCode::FORBIDDEN,
            error("Only trainers can send broadcasts.")
        )
    );
    let (s, _) = call(&app.trainee.client, Method::GET, BROADCASTS, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let imp = app.admin_as_trainer().await;
    let (s, b) = call(&imp, Method::POST, BROADCASTS, body(json!("all"))).await;
    assert_eq!(
        (s, b),
        (
            StatusCode::FORBIDDEN,
            error("Cannot send messages during impersonation.")
        )
    );
    // Someone else's trainee, an unknown id, a trainer: refused whole, nothing sent.
    for ids in [
        json!([app.trainee.id, app.other_trainee.id]),
        json!([987_654]),
        json!([app.other_trainer.id]),
    ] {
        let (s, b) = call(&app.trainer.client, Method::POST, BROADCASTS, body(ids)).await;
        assert_eq!(
            (s, b),
            (
                StatusCode::BAD_REQUEST,
                error("Trainee not found or not assigned to you.")
            )
        );
    }
    // A deactivated trainee is not the trainer's to message any more.
    app.deactivate(app.trainee2.id).await;
    let (s, _) = call(
        &app.trainer.client,
        Method::POST,
        BROADCASTS,
        body(json!([app.trainee2.id])),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, b) = call(
        &app.trainer.client,
        Method::POST,
        BROADCASTS,
        Some(json!({"content": " ", "trainee_ids": [], "send_at": "soon", "client_broadcast_id": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for field in ["content", "trainee_ids", "send_at", "client_broadcast_id"] {
        assert!(b.get(field).is_some(), "{field} in {b}");
    }
    assert!(
        app.trainer
            .client
            .broadcasts(1)
            .await
            .unwrap()
            .results
            .is_empty()
    );
    assert!(texts_with(&app, app.trainee.id).await.is_empty());
    // Another trainer's broadcast is not found.
    let mine = app
        .other_trainer
        .client
        .broadcast(
            "Olga only",
            &Recipients::All,
            None,
            Some(&at(&app, Duration::from_secs(600))),
        )
        .await
        .unwrap();
    let path = format!("{BROADCASTS}{}/", mine.id);
    let (s, b) = call(&app.trainer.client, Method::GET, &path, None).await;
    assert_eq!(
        (s, b),
        (StatusCode::NOT_FOUND, error("Broadcast not found."))
    );
    let (s, _) = call(&app.trainer.client, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

mod a_broadcast_takes_one_slot_of_the_rate_limit {
    use super::*;

    async fn run(backend: Backend) {
        let app = spawn(backend, |c| c.send_rate_per_minute = 2).await;
        let c = &app.trainer.client;
        let mut sock = live(c, None).await;
        let b = c
            .broadcast("Hi {first_name}", &Recipients::All, None, None)
            .await
            .unwrap();
        progress(&mut sock, b.id, "done").await;
        // Two messages went out on one slot: one more send fits, the next does not.
        let conversation = c.conversations(1).await.unwrap().results[0].id;
        c.send(conversation, "and one more", None).await.unwrap();
        let refused = c.send(conversation, "too many", None).await;
        assert_eq!(status_of(refused), StatusCode::TOO_MANY_REQUESTS);
        let refused = c.broadcast("again", &Recipients::All, None, None).await;
        assert_eq!(status_of(refused), StatusCode::TOO_MANY_REQUESTS);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres).await;
    }
}

async fn a_scheduled_broadcast_waits_for_its_time_and_can_be_cancelled_until_then(app: TestApp) {
    let c = &app.trainer.client;
    let mut sock = live(c, None).await;
    let soon = c
        .broadcast(
            "Check-in, {first_name}!",
            &Recipients::All,
            None,
            Some(&at(&app, Duration::from_secs(60))),
        )
        .await
        .unwrap();
    assert_eq!((soon.state.as_str(), soon.sent), ("scheduled", 0));
    assert!(soon.send_at.is_some());
    let later = c
        .broadcast(
            "Never mind",
            &Recipients::All,
            None,
            Some(&at(&app, Duration::from_secs(120))),
        )
        .await
        .unwrap();
    assert_eq!(
        c.cancel_broadcast(later.id).await.unwrap(),
        StatusCode::NO_CONTENT
    );
    let cancelled = progress(&mut sock, later.id, "cancelled").await;
    assert!(cancelled.finished_at.is_some());
    let again = c.cancel_broadcast(later.id).await;
    assert_eq!(status_of(again), StatusCode::BAD_REQUEST);

    app.advance(Duration::from_secs(61));
    let done = progress(&mut sock, soon.id, "done").await;
    assert_eq!(done.sent, 2);
    let refused = c.cancel_broadcast(soon.id).await;
    let Err(spotter_client::Error::Api { status, body }) = refused else {
        panic!("a sent broadcast was cancelled");
    };
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "This broadcast is no longer scheduled."})
    );
    app.advance(Duration::from_secs(120));
    assert_eq!(texts_with(&app, app.trainee.id).await, ["Check-in, Tia!"]);
    assert_eq!(texts_with(&app, app.trainee2.id).await, ["Check-in, Theo!"]);
    // Sent at the time it was due, not when it was written.
    let sent_at = app.column("SELECT MIN(created_at) FROM messages").await;
    let due: i64 = app
        .column("SELECT due_at FROM broadcasts ORDER BY id LIMIT 1")
        .await[0]
        .parse()
        .unwrap();
    assert!(sent_at[0].parse::<i64>().unwrap() >= due);
}

async fn a_scheduled_message_goes_out_once_at_its_time_as_an_ordinary_message(app: TestApp) {
    let conversation = app.conversation().await;
    let c = &app.trainer.client;
    let mut mine = live(c, None).await;
    let mut tia = live(&app.trainee.client, Some(conversation)).await;
    let s = c
        .schedule(
            conversation,
            "6 am: time to train",
            &at(&app, Duration::from_secs(60)),
        )
        .await
        .unwrap();
    assert_eq!(
        (s.state.as_str(), s.failure_reason.clone(), s.message_id),
        ("pending", None, None)
    );
    let created = next_frame(&mut mine, |f| match f {
        ServerFrame::ScheduledMessage { scheduled } => Some(scheduled),
        _ => None,
    })
    .await;
    assert_eq!(created, s);
    // Moved to later, and a second one due in between: when that one has gone out, the first
    // (due later) is still pending.
    let moved = c
        .reschedule(
            conversation,
            s.id,
            Some("7 am: time to train"),
            Some(&at(&app, Duration::from_secs(120))),
        )
        .await
        .unwrap();
    assert_eq!(moved.content, "7 am: time to train");
    let between = c
        .schedule(
            conversation,
            "stretch first",
            &at(&app, Duration::from_secs(90)),
        )
        .await
        .unwrap();
    let listed = c.scheduled(conversation).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        [between.id, s.id],
        "soonest first"
    );
    assert!(
        c.scheduled(conversation)
            .await
            .unwrap()
            .iter()
            .all(|s| s.state == "pending")
    );
    // Tia sees nothing of pending messages.
    assert!(
        app.trainee
            .client
            .scheduled(conversation)
            .await
            .unwrap()
            .is_empty()
    );

    app.advance(Duration::from_secs(100));
    let sent = next_frame(&mut mine, |f| match f {
        ServerFrame::ScheduledMessage { scheduled } if scheduled.state == "sent" => Some(scheduled),
        _ => None,
    })
    .await;
    assert_eq!(sent.id, between.id);
    assert_eq!(
        c.scheduled(conversation)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        [s.id]
    );
    app.advance(Duration::from_secs(30));
    let sent = next_frame(&mut mine, |f| match f {
        ServerFrame::ScheduledMessage { scheduled } if scheduled.state == "sent" => Some(scheduled),
        _ => None,
    })
    .await;
    assert_eq!(sent.id, s.id);
    let message_id = sent.message_id.expect("the message it became");
    let mut got = Vec::new();
    while got.len() < 2 {
        got.push(
            next_frame(&mut tia, |f| match f {
                ServerFrame::NewMessage { message, .. } => Some(message),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(got[1].id, message_id);
    assert_eq!(got[1].content, "7 am: time to train");
    assert_eq!(got[1].sender.as_ref().map(|s| s.id), Some(app.trainer.id));
    assert_eq!(
        texts_with(&app, app.trainee.id).await,
        ["Welcome!", "stretch first", "7 am: time to train"]
    );
    // Once sent, it is no longer pending.
    let error = json!({"error": "This message is no longer pending."});
    let path = format!("{}{}/", scheduled_path(conversation), s.id);
    let (st, b) = call(c, Method::PATCH, &path, Some(json!({"content": "x"}))).await;
    assert_eq!((st, b), (StatusCode::BAD_REQUEST, error.clone()));
    let (st, b) = call(c, Method::DELETE, &path, None).await;
    assert_eq!((st, b), (StatusCode::BAD_REQUEST, error));
}

async fn scheduled_messages_are_validated_and_each_authors_own(app: TestApp) {
    let conversation = app.conversation().await;
    let path = scheduled_path(conversation);
    let c = &app.trainer.client;
    let post = |body: Value| call(c, Method::POST, &path, Some(body));
    let (s, b) = post(json!({"content": "x", "send_at": at(&app, Duration::ZERO)})).await;
    assert_eq!(
        (s, b),
        (
            StatusCode::BAD_REQUEST,
            json!({"send_at": ["Must be in the future."]})
        )
    );
    let (s, b) =
        post(json!({"content": "x", "send_at": at(&app, Duration::from_secs(367 * 86_400))})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        b["send_at"][0].as_str().unwrap().contains("366 days"),
        "{b}"
    );
    let (s, b) = post(json!({"send_at": "next monday"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        b.get("content").is_some() && b.get("send_at").is_some(),
        "{b}"
    );
    let in_an_hour = at(&app, Duration::from_secs(1800));
    // Impersonation is read-only; a stranger to the conversation is refused.
    let imp = app.trainer_as_trainee().await;
    let (s, b) = call(
        &imp,
        Method::POST,
        &path,
        Some(json!({"content": "x", "send_at": in_an_hour})),
    )
    .await;
    assert_eq!(
        (s, b),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "Cannot send messages during impersonation."})
        )
    );
    let (s, _) = call(
        &app.other_trainee.client,
        Method::POST,
        &path,
        Some(json!({"content": "x", "send_at": in_an_hour})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(
        c,
        Method::POST,
        &scheduled_path(987_654),
        Some(json!({"content": "x", "send_at": in_an_hour})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The trainee schedules too, in their own conversation; each sees only their own.
    let theirs = app
        .trainee
        .client
        .schedule(conversation, "done!", &in_an_hour)
        .await
        .unwrap();
    let mine = c
        .schedule(conversation, "how was it?", &in_an_hour)
        .await
        .unwrap();
    assert_eq!(c.scheduled(conversation).await.unwrap(), vec![mine.clone()]);
    assert_eq!(
        app.trainee.client.scheduled(conversation).await.unwrap(),
        vec![theirs.clone()]
    );
    let not_found = json!({"error": "Scheduled message not found."});
    let theirs_path = format!("{path}{}/", theirs.id);
    let (s, b) = call(
        c,
        Method::PATCH,
        &theirs_path,
        Some(json!({"content": "x"})),
    )
    .await;
    assert_eq!((s, b), (StatusCode::NOT_FOUND, not_found.clone()));
    let (s, b) = call(c, Method::DELETE, &theirs_path, None).await;
    assert_eq!((s, b), (StatusCode::NOT_FOUND, not_found));
    // A PATCH is checked as a POST is, and needs a field.
    let mine_path = format!("{path}{}/", mine.id);
    let (s, b) = call(c, Method::PATCH, &mine_path, Some(json!({"content": null}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, _) = call(c, Method::PATCH, &mine_path, Some(json!({}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(&imp, Method::DELETE, &theirs_path, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Cancelled: gone from the list, and no longer pending.
    assert_eq!(
        c.unschedule(conversation, mine.id).await.unwrap(),
        StatusCode::NO_CONTENT
    );
    assert!(c.scheduled(conversation).await.unwrap().is_empty());
    assert_eq!(
        status_of(c.unschedule(conversation, mine.id).await),
        StatusCode::BAD_REQUEST
    );
    app.advance(Duration::from_secs(1801));
    eventually("the trainee's scheduled message to go out", || async {
        let texts = texts_with(&app, app.trainee.id).await;
        (texts.len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        texts_with(&app, app.trainee.id).await,
        ["Welcome!", "done!"]
    );
}

async fn a_scheduled_message_that_cannot_go_fails_with_its_reason(app: TestApp) {
    let conversation = app.conversation().await;
    let soon = at(&app, Duration::from_secs(60));
    let mut mine = live(&app.trainer.client, None).await;
    let archived = app
        .trainer
        .client
        .schedule(conversation, "see you", &soon)
        .await
        .unwrap();
    let by_tia = app
        .trainee
        .client
        .schedule(conversation, "on my way", &soon)
        .await
        .unwrap();
    // The trainee leaves the trainer: the conversation is archived.
    app.trainer
        .client
        .remove_trainee(app.trainee.id)
        .await
        .unwrap();
    app.advance(Duration::from_secs(61));
    let failed = next_frame(&mut mine, |f| match f {
        ServerFrame::ScheduledMessage { scheduled }
            if scheduled.id == archived.id && scheduled.state != "pending" =>
        {
            Some(scheduled)
        }
        _ => None,
    })
    .await;
    assert_eq!(failed.state, "failed");
    assert_eq!(
        failed.failure_reason.as_deref(),
        Some("The conversation is archived.")
    );
    assert_eq!(failed.message_id, None);
    let state = |id: i64| {
        let app = &app;
        async move {
            let q = format!("SELECT state, failure_reason FROM scheduled_messages WHERE id = {id}");
            app.sql(&q).await.remove(0)
        }
    };
    let tia = eventually("Tia's message to fail", || async {
        let row = state(by_tia.id).await;
        (row[0] != "pending").then_some(row)
    })
    .await;
    assert_eq!(tia, ["failed", "The conversation is archived."]);

    // A deactivated author's message fails too.
    let (_, started) = app
        .other_trainer
        .client
        .start(app.other_trainee.id, "hello", None)
        .await
        .unwrap();
    let olga = app
        .other_trainee
        .client
        .schedule(
            started.conversation_id,
            "bye",
            &at(&app, Duration::from_secs(60)),
        )
        .await
        .unwrap();
    app.deactivate(app.other_trainee.id).await;
    app.advance(Duration::from_secs(61));
    let row = eventually("Olga's message to fail", || async {
        let row = state(olga.id).await;
        (row[0] != "pending").then_some(row)
    })
    .await;
    assert_eq!(row, ["failed", "The sender's account is deactivated."]);
    let texts: HashMap<String, usize> = app
        .column("SELECT content FROM messages")
        .await
        .into_iter()
        .fold(HashMap::new(), |mut m, t| {
            *m.entry(t).or_default() += 1;
            m
        });
    assert!(
        !texts.contains_key("see you") && !texts.contains_key("bye"),
        "{texts:?}"
    );
}

/// Two nodes on one PostgreSQL database claim the same due work at once (both dispatchers wake
/// on the same clock move): every broadcast reaches every trainee once, every scheduled
/// message goes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_due_work_and_send_each_message_exactly_once() {
    let app = spawn(Backend::Postgres, |c| c.send_rate_per_minute = 100_000).await;
    let node = app.node().await;
    for i in 0..30 {
        let email = format!("bulk{i}@test.io");
        app.add_user(
            &email,
            spotter::domain::model::Role::Trainee,
            Some(app.trainer.id),
        )
        .await;
    }
    let conversation = app.conversation().await;
    let due = at(&app, Duration::from_secs(60));
    let c = &app.trainer.client;
    let mut broadcasts = Vec::new();
    for i in 0..4 {
        let b = c
            .broadcast(
                &format!("Week {i}, {{first_name}}"),
                &Recipients::All,
                None,
                Some(&due),
            )
            .await
            .unwrap();
        assert_eq!(b.total, 32);
        broadcasts.push(b.id);
    }
    for i in 0..20 {
        c.schedule(conversation, &format!("reminder {i}"), &due)
            .await
            .unwrap();
    }
    app.advance(Duration::from_secs(61));
    for id in &broadcasts {
        eventually("every broadcast to finish", || async {
            let b = c.broadcast_detail(*id).await.ok()?;
            (b.state == "done").then_some(())
        })
        .await;
    }
    eventually("every reminder to go out", || async {
        c.scheduled(conversation).await.ok().filter(Vec::is_empty)
    })
    .await;
    for id in &broadcasts {
        let b = c.broadcast_detail(*id).await.unwrap();
        assert_eq!((b.sent, b.failed), (32, 0));
        let per_conversation = app
            .column(&format!(
                "SELECT COUNT(*) FROM messages WHERE client_message_id = 'spotter-broadcast-{id}' \
                 GROUP BY conversation_id"
            ))
            .await;
        assert_eq!(per_conversation.len(), 32);
        assert!(
            per_conversation.iter().all(|n| n == "1"),
            "{per_conversation:?}"
        );
    }
    let reminders = app
        .column("SELECT COUNT(*) FROM messages WHERE content LIKE 'reminder %' GROUP BY content")
        .await;
    assert_eq!(reminders.len(), 20);
    assert!(reminders.iter().all(|n| n == "1"), "{reminders:?}");
    node.stop().await;
}

/// The window a crash leaves: messages committed, the record of them lost (the node died in
/// between). Put back as it would be found, the work is done again, and every second attempt
/// finds the first one's message by its key: recorded as sent, nothing sent twice.
async fn sends_made_but_not_recorded_are_found_again_not_repeated(app: TestApp) {
    let conversation = app.conversation().await;
    let c = &app.trainer.client;
    let mut sock = live(c, None).await;
    let b = c
        .broadcast("Hi {first_name}", &Recipients::All, None, None)
        .await
        .unwrap();
    let first = progress(&mut sock, b.id, "done").await;
    let s = c
        .schedule(conversation, "reminder", &at(&app, Duration::from_secs(60)))
        .await
        .unwrap();
    app.advance(Duration::from_secs(61));
    eventually("the reminder to go out", || async {
        c.scheduled(conversation).await.ok().filter(Vec::is_empty)
    })
    .await;
    let before = app.column("SELECT id FROM messages ORDER BY id").await;
    // As a crash after the commits would leave them: still pending, no lease.
    for q in [
        "UPDATE broadcast_recipients SET state = 'pending', message_id = NULL",
        "UPDATE broadcasts SET state = 'sending', sent = 0, claimed_until = NULL, \
         finished_at = NULL",
        "UPDATE scheduled_messages SET state = 'pending', message_id = NULL, claimed_until = NULL",
    ] {
        app.sql(q).await;
    }
    app.advance(Duration::from_secs(2));
    let again = progress(&mut sock, b.id, "done").await;
    assert_eq!((again.sent, again.total), (first.sent, first.total));
    eventually("the reminder to be recorded again", || async {
        let row = app
            .column(&format!(
                "SELECT state FROM scheduled_messages WHERE id = {}",
                s.id
            ))
            .await;
        (row[0] == "sent").then_some(())
    })
    .await;
    assert_eq!(
        app.column("SELECT id FROM messages ORDER BY id").await,
        before
    );
    assert_eq!(
        texts_with(&app, app.trainee.id).await,
        ["Welcome!", "Hi Tia", "reminder"]
    );
}
