//! Broadcasts and scheduled messages across a crash and a restart, with the real binary on
//! SQLite: a server killed (SIGKILL) in the middle of a broadcast's fan-out, and work that fell
//! due while the server was down. Every trainee gets each message exactly once.

use std::path::Path;
use std::time::Duration;

use spotter_client::{Client, Incoming, Recipients, ServerFrame};

use super::{free_port, helpers, spotter_with, wait_ready};

/// Adds `n` trainees of the demo trainer straight into the database (they never log in, so
/// no password hash is worth computing); returns their ids.
fn add_trainees(data: &Path, n: usize) -> Vec<i64> {
    let db = rusqlite::Connection::open(data.join("spotter.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let coach: i64 = db
        .query_row(
            "SELECT id FROM users WHERE email = 'coach@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (0..n)
        .map(|i| {
            db.query_row(
                "INSERT INTO users (email, password_hash, first_name, last_name, role, \
                 parent_trainer_id, created_at) VALUES (?1, '!', ?2, 'Bulk', 'trainee', ?3, 0) \
                 RETURNING id",
                rusqlite::params![format!("bulk{i}@example.com"), format!("Client{i}"), coach],
                |r| r.get(0),
            )
            .unwrap()
        })
        .collect()
}

fn db(data: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(data.join("spotter.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db
}

/// How many messages each of the trainer's conversations holds with `key` (Spotter's own
/// idempotency key of a broadcast or a scheduled message), by trainee.
fn copies(data: &Path, key: &str) -> Vec<(i64, String, i64)> {
    let db = db(data);
    let mut q = db
        .prepare(
            "SELECT c.trainee_id, u.first_name, \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id \
              AND m.client_message_id = ?1) \
             FROM conversations c JOIN users u ON u.id = c.trainee_id ORDER BY c.trainee_id",
        )
        .unwrap();
    q.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Waits for the broadcast to be done: its `broadcast_progress` frame on the trainer's user
/// socket, or, if it finished before the socket was up, its state read once after connecting
/// (the dispatcher takes over a dead node's claim once its lease ends, so this may take that
/// long).
async fn until_done(coach: &Client, id: i64) -> spotter_client::Broadcast {
    let mut sock = coach.socket(None, None).await.unwrap();
    helpers::round_trip(&mut sock).await;
    let now = coach.broadcast_detail(id).await.unwrap();
    if now.state == "done" {
        return now;
    }
    loop {
        match tokio::time::timeout(Duration::from_secs(90), sock.next()).await {
            Ok(Some(Incoming::Frame(ServerFrame::BroadcastProgress { broadcast })))
                if broadcast.id == id && broadcast.state == "done" =>
            {
                return coach.broadcast_detail(id).await.unwrap();
            }
            Ok(Some(Incoming::Closed(code, why))) => panic!("socket closed {code}: {why}"),
            Ok(Some(_)) => {}
            other => panic!("broadcast {id} never finished: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_killed_mid_fan_out_reaches_every_trainee_exactly_once_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/");
    // Paced (5 a second), so that the kill lands in the middle.
    let paced = [("SPOTTER_BROADCAST_PER_SECOND", "5")];
    let mut server = spotter_with(port, dir.path(), &paced);
    wait_ready(&base).await;
    add_trainees(dir.path(), 22);
    let anon = Client::new(&base).unwrap();
    let (coach, _, _) = helpers::demo_pair(&anon).await;
    let mut sock = coach.socket(None, None).await.unwrap();
    helpers::round_trip(&mut sock).await;
    let b = coach
        .broadcast(
            "Hi {first_name}, new plan is up",
            &Recipients::All,
            Some("plan-1"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(b.total, 25);
    // The first chunk recorded: kill the server before the next.
    loop {
        match tokio::time::timeout(Duration::from_secs(20), sock.next()).await {
            Ok(Some(Incoming::Frame(ServerFrame::BroadcastProgress { broadcast })))
                if broadcast.sent > 0 =>
            {
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no progress: {other:?}"),
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let (state, sent): (String, i64) = db(dir.path())
        .query_row("SELECT state, sent FROM broadcasts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(state, "sending");
    assert!(
        sent > 0 && sent < 25,
        "killed mid-way: {sent} of 25 recorded"
    );

    // Back, unpaced: it resumes when the dead claim's lease ends, and sends the rest.
    let mut server = spotter_with(port, dir.path(), &[]);
    wait_ready(&base).await;
    // A retry of the request in the meantime answers the same broadcast.
    let again = coach
        .broadcast(
            "Hi {first_name}, new plan is up",
            &Recipients::All,
            Some("plan-1"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(again.id, b.id);
    let done = until_done(&coach, b.id).await;
    assert_eq!((done.sent, done.failed, done.total), (25, 0, 25));
    let key = format!("spotter-broadcast-{}", b.id);
    let got = copies(dir.path(), &key);
    assert_eq!(got.len(), 25, "a conversation per trainee");
    for (trainee, name, n) in &got {
        assert_eq!(*n, 1, "trainee {trainee} ({name}) got it exactly once");
    }
    let texts: Vec<String> = {
        let db = db(dir.path());
        let mut q = db
            .prepare("SELECT content FROM messages WHERE client_message_id = ?1 ORDER BY id")
            .unwrap();
        q.query_map([&key], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for (_, name, _) in &got {
        let mine = format!("Hi {name}, new plan is up");
        assert_eq!(texts.iter().filter(|t| **t == mine).count(), 1, "{mine}");
    }
    server.kill().unwrap();
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_that_fell_due_while_the_server_was_down_goes_out_once_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/");
    let mut server = spotter_with(port, dir.path(), &[]);
    wait_ready(&base).await;
    let anon = Client::new(&base).unwrap();
    let (coach, _, ana_id) = helpers::demo_pair(&anon).await;
    let conversation = coach
        .start(ana_id, "Welcome!", None)
        .await
        .unwrap()
        .1
        .conversation_id;
    // A check-in to every trainee in a minute, and a reminder to Ana.
    let in_a_minute = spotter::wire::to_wire(spotter::clock::Clock::system().now() + 60_000_000);
    let b = coach
        .broadcast(
            "Check-in, {first_name}?",
            &Recipients::All,
            None,
            Some(&in_a_minute),
        )
        .await
        .unwrap();
    assert_eq!(b.state, "scheduled");
    let s = coach
        .schedule(conversation, "Stretch!", &in_a_minute)
        .await
        .unwrap();
    // Stopped before they are due...
    stop(&mut server);
    // ...and their time passes while it is down (moved into the past in its database: the
    // test waits for no clock).
    let db = db(dir.path());
    let passed = spotter::clock::Clock::system().now() - 30_000_000;
    db.execute("UPDATE broadcasts SET send_at = ?1, due_at = ?1", [passed])
        .unwrap();
    db.execute("UPDATE scheduled_messages SET send_at = ?1", [passed])
        .unwrap();
    drop(db);
    let restarted = spotter::clock::Clock::system().now();
    let mut server = spotter_with(port, dir.path(), &[]);
    wait_ready(&base).await;
    let done = until_done(&coach, b.id).await;
    assert_eq!((done.sent, done.total), (3, 3));
    helpers::eventually("the reminder to go out", || async {
        coach
            .scheduled(conversation)
            .await
            .ok()
            .filter(Vec::is_empty)
    })
    .await;
    // Started again: nothing goes twice.
    stop(&mut server);
    let mut server = spotter_with(port, dir.path(), &[]);
    wait_ready(&base).await;
    let page = coach.messages(conversation, 1).await.unwrap();
    let texts: Vec<&str> = page
        .results
        .iter()
        .rev()
        .map(|m| m.content.as_str())
        .collect();
    // The two went out together (their order is the dispatcher's), each once.
    assert_eq!(texts.first(), Some(&"Welcome!"));
    let mut sorted = texts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["Check-in, Ana?", "Stretch!", "Welcome!"]);
    // Each sent at its real time (when the server was back), not the time it was due.
    for m in page.results.iter().filter(|m| m.content != "Welcome!") {
        let at = time::OffsetDateTime::parse(
            &m.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let at = (at.unix_timestamp_nanos() / 1_000) as i64;
        assert!(at >= restarted, "{} sent at its real time", m.content);
    }
    let key = format!("spotter-broadcast-{}", b.id);
    for (trainee, name, n) in copies(dir.path(), &key) {
        assert_eq!(
            n, 1,
            "trainee {trainee} ({name}) got the check-in exactly once"
        );
    }
    let state: String = self::db(dir.path())
        .query_row(
            "SELECT state FROM scheduled_messages WHERE id = ?1",
            [s.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "sent");
    server.kill().unwrap();
    let _ = server.wait();
}

/// Stops the server as an operator would (SIGTERM), and waits until it is gone.
fn stop(server: &mut std::process::Child) {
    let pid = server.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    server.wait().unwrap();
}
