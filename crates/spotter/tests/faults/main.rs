//! Faults with real processes: the server killed with SIGKILL under load, PostgreSQL stopped
//! and started under load, SQLite's disk filling up. Every acknowledged message survives, exactly
//! once; requests fail fast and clearly while a dependency is away, and recover on their own.

#[path = "../common/mod.rs"]
mod helpers;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use helpers::eventually;

mod backup;
mod later;
mod operations;
use spotter_client::{Client, LiveConversation, Update};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(base: &str) {
    let c = Client::new(base).unwrap();
    let what = format!("the server at {base} to be ready");
    eventually(&what, || async {
        let ready = c.raw(reqwest::Method::GET, "readyz", None).await;
        ready.is_ok_and(|r| r.status == 200).then_some(())
    })
    .await;
}

fn spotter(port: u16, data: &std::path::Path) -> Child {
    spotter_with(port, data, &[])
}

/// [`spotter`] with more of the environment set.
fn spotter_with(port: u16, data: &std::path::Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_spotter"))
        .args(["serve", "--demo"])
        .env("SPOTTER_BIND", format!("127.0.0.1:{port}"))
        .env("SPOTTER_DATA_DIR", data)
        .env("SPOTTER_SEND_RATE_PER_MINUTE", "100000")
        .env("SPOTTER_AUTH_RATE_PER_MINUTE", "100000")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_sustained_sends_loses_no_acknowledged_message_and_duplicates_none() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/");
    let mut server = spotter(port, dir.path());
    wait_ready(&base).await;
    let anon = Client::new(&base).unwrap();
    let (coach, ana, ana_id) = helpers::demo_pair(&anon).await;
    let conv = coach
        .start(ana_id, "let's go", None)
        .await
        .unwrap()
        .1
        .conversation_id;
    let mut follower = LiveConversation::open(ana.clone(), conv, None)
        .await
        .unwrap();

    // Four senders, each retrying every send with its idempotency key until it is acknowledged
    // (a failed send waits for the server to be back, then tries again).
    let per_sender = 40;
    let acks = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let c = if s % 2 == 0 {
                coach.clone()
            } else {
                ana.clone()
            };
            let (acks, base) = (acks.clone(), base.clone());
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..per_sender {
                    let key = format!("s{s}-{i}");
                    loop {
                        match c.send(conv, &format!("message {key}"), Some(&key)).await {
                            Ok((_, m)) => break acked.push((key, m.id)),
                            Err(_) => wait_ready(&base).await,
                        }
                    }
                    acks.fetch_add(1, Ordering::Relaxed);
                }
                acked
            })
        })
        .collect();
    // Kill the server mid-load (a third and two thirds of the way), and bring it back on the
    // same data.
    for stage in 1..=2 {
        let due = stage * 4 * per_sender / 3;
        eventually("the senders to get that far", || async {
            (acks.load(Ordering::Relaxed) >= due).then_some(())
        })
        .await;
        server.kill().unwrap();
        server.wait().unwrap();
        server = spotter(port, dir.path());
        wait_ready(&base).await;
    }
    let mut acked: HashMap<String, i64> = HashMap::new();
    for s in senders {
        for (key, id) in s.await.unwrap() {
            acked.insert(key, id);
        }
    }
    assert_eq!(acked.len(), 4 * per_sender);
    // Stored: each acknowledged message exactly once, under the id it was acknowledged with.
    let mut stored = Vec::new();
    let mut after = 0;
    loop {
        let page = coach.messages_after(conv, after, 100).await.unwrap();
        stored.extend(page.results.iter().cloned());
        let Some(last) = page.results.last() else {
            break;
        };
        after = last.id;
        if !page.has_more {
            break;
        }
    }
    let mut by_key: HashMap<String, Vec<i64>> = HashMap::new();
    for m in &stored {
        if let Some(k) = &m.client_message_id {
            by_key.entry(k.clone()).or_default().push(m.id);
        }
    }
    for (key, id) in &acked {
        assert_eq!(
            by_key.get(key),
            Some(&vec![*id]),
            "{key} stored exactly once as acknowledged"
        );
    }
    assert_eq!(stored.len(), 1 + acked.len(), "nothing else stored");
    // The follower, across both crashes, saw every message once, in order.
    let expected: Vec<i64> = stored.iter().skip(1).map(|m| m.id).collect();
    let mut seen = Vec::new();
    while seen.last() != expected.last() {
        match tokio::time::timeout(Duration::from_secs(20), follower.next())
            .await
            .expect("follower resumed")
            .unwrap()
        {
            Update::Message(m) => seen.push(m.id),
            Update::Closed { code, .. } => panic!("follower closed {code}"),
            _ => {}
        }
    }
    assert_eq!(seen, expected);
    server.kill().unwrap();
    let _ = server.wait();
}

/// A PostgreSQL of the test's own (postgres refuses to run as root: it runs as `postgres`).
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnPostgres {
    fn bin(name: &str) -> String {
        let versions = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL binaries in /usr/lib/postgresql");
        let mut v: Vec<_> = versions.flatten().map(|e| e.path()).collect();
        v.sort();
        v.last()
            .expect("a PostgreSQL version")
            .join("bin")
            .join(name)
            .display()
            .to_string()
    }

    fn as_postgres(args: &[&str]) {
        let ok = Command::new("runuser")
            .arg("-u")
            .arg("postgres")
            .arg("--")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "{args:?}");
    }

    fn init() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        let data = dir.path().join("data").display().to_string();
        Self::as_postgres(&[
            &Self::bin("initdb"),
            "-D",
            &data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        let me = Self {
            dir,
            port: free_port(),
        };
        me.start();
        me
    }

    fn ctl(&self, args: &[&str]) {
        let data = self.dir.path().join("data").display().to_string();
        let mut all = vec![Self::bin("pg_ctl"), "-D".into(), data];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        Self::as_postgres(&refs);
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.ctl(&[
            "-o",
            &opts,
            "-w",
            "-l",
            &self.dir.path().join("log").display().to_string(),
            "start",
        ]);
    }

    fn stop(&self) {
        self.ctl(&["-m", "immediate", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                &Self::bin("pg_ctl"),
                "-D",
                &data,
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_answers_503_fast_and_recovers_by_itself() {
    let pg = OwnPostgres::init();
    let app = helpers::TestApp::spawn_with(helpers::Backend::Sqlite, |c| {
        c.database_url = Some(pg.url());
        c.send_rate_per_minute = 100_000;
    })
    .await;
    let conv = app.conversation().await;
    app.trainee.client.send(conv, "before", None).await.unwrap();
    pg.stop();
    // While it is away: clear 503s (never a hang, never a 500): the pool gives up waiting for
    // a connection after 3 s, well before the client's patience runs out.
    for i in 0..5 {
        let (path, body) = (
            format!("api/messaging/conversations/{conv}/send/"),
            serde_json::json!({"content": format!("during {i}")}),
        );
        let send = app
            .trainee
            .client
            .raw(reqwest::Method::POST, &path, Some(&body));
        let raw = tokio::time::timeout(Duration::from_secs(15), send)
            .await
            .expect("answered, not hung")
            .unwrap();
        assert!(
            matches!(raw.status.as_u16(), 503 | 401),
            "{} {:?}",
            raw.status,
            raw.body
        );
        assert!(raw.body["detail"].is_string());
    }
    let ready = app
        .anon
        .raw(reqwest::Method::GET, "readyz", None)
        .await
        .unwrap();
    assert_eq!(ready.status.as_u16(), 503);
    pg.start();
    // Back: the pool reconnects by itself.
    let status = eventually("the server to recover", || async {
        app.trainee
            .client
            .send(conv, "after", None)
            .await
            .ok()
            .map(|(s, _)| s)
    })
    .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let contents: Vec<String> = app
        .trainer
        .client
        .messages(conv, 1)
        .await
        .unwrap()
        .results
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert!(contents.contains(&"before".to_owned()) && contents.contains(&"after".to_owned()));
    assert!(
        !contents.iter().any(|c| c.starts_with("during")),
        "nothing half-stored"
    );
}

/// A small filesystem the test mounts (and unmounts) itself.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(kib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            ok.success(),
            "mounting a small tmpfs needs root (CI runs as root)"
        );
        Self { dir }
    }

    fn grow(&self, kib: u32) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_answers_507_keeps_every_acknowledged_message_and_recovers() {
    let disk = SmallDisk::mount(1024);
    let data = disk.dir.path().to_path_buf();
    let app = helpers::TestApp::spawn_with(helpers::Backend::Sqlite, |c| {
        c.data_dir = data.clone();
        c.database_url = None;
        c.send_rate_per_minute = 1_000_000;
    })
    .await;
    let conv = app.conversation().await;
    let body = "x".repeat(2000);
    let mut acked = Vec::new();
    let mut full = None;
    for i in 0..5000 {
        let raw = app
            .trainer
            .client
            .raw(
                reqwest::Method::POST,
                &format!("api/messaging/conversations/{conv}/send/"),
                Some(&serde_json::json!({"content": body, "client_message_id": format!("k{i}")})),
            )
            .await
            .unwrap();
        match raw.status.as_u16() {
            201 => acked.push(raw.body["id"].as_i64().unwrap()),
            507 => {
                full = Some(raw.body);
                break;
            }
            other => panic!("unexpected {other}: {:?}", raw.body),
        }
    }
    let full = full.expect("the disk never filled");
    assert!(
        full["detail"].as_str().unwrap().contains("storage"),
        "{full}"
    );
    assert!(!acked.is_empty());
    // Reads still work; the database is intact.
    assert!(app.trainer.client.conversations(1).await.is_ok());
    // Space returns: sends work again, and every acknowledged message is there once.
    disk.grow(64 * 1024);
    eventually("sends to work again", || async {
        app.trainer
            .client
            .send(conv, "space is back", None)
            .await
            .ok()
    })
    .await;
    assert_eq!(app.column("PRAGMA integrity_check").await, ["ok"]);
    let ids: Vec<i64> = app
        .column(&format!(
            "SELECT id FROM messages WHERE conversation_id = {conv} ORDER BY id"
        ))
        .await
        .iter()
        .map(|id| id.parse().unwrap())
        .collect();
    for id in &acked {
        assert_eq!(
            ids.iter().filter(|x| *x == id).count(),
            1,
            "acknowledged message {id} present once"
        );
    }
    drop(app);
}
