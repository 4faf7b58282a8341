//! The load generator against a real `spotter serve` (the debug binary) on a fresh SQLite data
//! folder and a random port, with the send limit lifted: a short `chat` over the socket and
//! over REST, and `idle` with 50 sockets. Nothing may be lost or duplicated. And a small `search`,
//! a small `upload` and a small `broadcast`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use spotter_load::broadcast::{self, BroadcastOpts};
use spotter_load::chat::{self, ChatOpts, SocketKind, Via};
use spotter_load::idle::{self, IdleOpts};
use spotter_load::search::{self, SearchOpts};
use spotter_load::upload::{self, UploadOpts};
use spotter_load::{Setup, UsersSource};

const SECRET: &str = "load-test-secret";

/// `<target dir>/debug/spotter`, built first if missing (`CARGO_BIN_EXE_*` is not available
/// across packages).
fn spotter_binary() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_relative() {
                workspace.join(t)
            } else {
                t
            }
        })
        .unwrap_or_else(|| workspace.join("target"));
    let bin = target.join("debug").join("spotter");
    if !bin.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "spotter", "--bin", "spotter"])
            .current_dir(&workspace)
            .status()
            .expect("running cargo build -p spotter");
        assert!(status.success(), "cargo build -p spotter failed");
    }
    assert!(bin.exists(), "{} is missing", bin.display());
    bin
}

/// A running server, killed (and its data folder removed) on drop.
struct Server {
    child: Child,
    url: String,
    data_dir: PathBuf,
    bin: PathBuf,
}

impl Server {
    fn start() -> Self {
        let bin = spotter_binary();
        let data_dir = std::env::temp_dir().join(format!(
            "spotter-load-test-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&data_dir).unwrap();
        let mut child = Command::new(&bin)
            .arg("serve")
            .env("SPOTTER_DATA_DIR", &data_dir)
            .env("SPOTTER_BIND", "127.0.0.1:0")
            .env("SPOTTER_JWT_SECRET", SECRET)
            .env("SPOTTER_SEND_RATE_PER_MINUTE", "1000000")
            .env("SPOTTER_AUTH_RATE_PER_MINUTE", "1000000")
            .env_remove("SPOTTER_DATABASE_URL")
            .env_remove("SPOTTER_REDIS_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting spotter serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(i) = line.find("http://127.0.0.1:") {
                    let url = line[i..].split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(url);
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("spotter serve printed no URL within 30 s");
        Self {
            child,
            url,
            data_dir,
            bin,
        }
    }

    fn setup(&self) -> Setup {
        Setup::new(
            &self.url,
            Some(self.child.id()),
            Some(SECRET.to_owned()),
            UsersSource::Provision {
                spotter_bin: self.bin.clone(),
                data_dir: Some(self.data_dir.clone()),
                database_url: None,
                prefix: "test".to_owned(),
            },
            "load-test-password".to_owned(),
        )
        .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_idle_against_a_real_server() {
    let server = Server::start();
    let setup = server.setup();
    assert_eq!(setup.server_pid, Some(server.child.id()));

    for via in [Via::Ws, Via::Rest] {
        let opts = ChatOpts {
            pairs: 3,
            rate: 5.0,
            duration: Duration::from_secs(2),
            via,
            socket: SocketKind::Conversation,
            grace: Duration::from_secs(5),
            ..ChatOpts::default()
        };
        let r = chat::run(&setup, &opts).await.unwrap();
        let expected = 2 * 3 * 10;
        assert_eq!(r.scheduled, expected, "{via:?}");
        assert_eq!(r.sent, expected, "{via:?}");
        assert_eq!(r.acked, expected, "{via:?}: {:?}", r.error_kinds);
        assert_eq!(r.delivered, expected, "{via:?}");
        assert_eq!(r.lost, 0, "{via:?}");
        assert_eq!(r.duplicated, 0, "{via:?}");
        assert_eq!(r.echo_missing, 0, "{via:?}");
        assert_eq!(r.errors, 0, "{via:?}: {:?}", r.error_kinds);
        assert!(r.sockets_closed.is_empty(), "{:?}", r.sockets_closed);
        assert_eq!(r.latency.count, expected);
        assert!(r.latency.p50_ms > 0.0 && r.latency.max_ms >= r.latency.p99_ms);
        assert!(r.server.after.is_some(), "server RSS/CPU sampled");
        assert!(r.server.cpu_seconds > 0.0);
    }

    // 20 sockets per source address: the 50 are spread over 127.0.0.2, .3 and .4, as past
    // ~26,000 sockets.
    let opts = IdleOpts {
        sockets: 50,
        users: 10,
        hold: Duration::from_millis(500),
        per_address: Some(20),
        ..IdleOpts::default()
    };
    let r = idle::run(&setup, &opts).await.unwrap();
    assert_eq!(r.source_addresses, 3);
    assert_eq!(r.connected, 50, "{:?}", r.failures);
    assert_eq!(r.failed, 0);
    assert_eq!(r.closed_while_held, 0);
    assert!(r.server_held.is_some());
    assert!(r.kernel_held.tcp_inuse >= 50);
}

/// `search` seeds its vocabulary and finds each kind of query as often as the model says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_each_kind_as_often_as_seeded() {
    let server = Server::start();
    let setup = server.setup();
    let opts = SearchOpts {
        conversations: 5,
        messages: 300,
        iterations: 3,
        seed_concurrency: 8,
    };
    let r = search::run(&setup, &opts).await.unwrap();
    assert_eq!(r.errors, 0);
    for k in &r.kinds {
        // The start messages ("Load test: hello!") match none of the queries.
        let expected = (0..opts.messages)
            .filter(|&i| search::text(i).to_lowercase().contains(&k.query))
            .count();
        assert_eq!(k.matches, expected as i64, "{}", k.kind);
        assert_eq!(k.first_page.count, 3);
    }
    assert!(r.seed_rate > 0.0);
}

/// `upload` sends a photo of each size and every send is a 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_sends_photos_of_each_size() {
    let server = Server::start();
    let setup = server.setup();
    let opts = UploadOpts {
        sizes_kib: vec![20, 100],
        iterations: 3,
        concurrency: 2,
    };
    let r = upload::run(&setup, &opts).await.unwrap();
    assert_eq!((r.text.errors, r.text.created.count), (0, 3));
    assert_eq!(r.sizes.len(), 2);
    for s in &r.sizes {
        assert_eq!(s.errors, 0, "{} KiB", s.size_kib);
        assert_eq!(s.created.count, 3);
        assert!(s.bytes.abs_diff(s.size_kib as usize * 1024) <= s.bytes / 20);
        assert!(s.server_cpu_ms_per_upload > 0.0);
    }
}

/// `broadcast` to 20 trainees on live sockets: every one gets exactly its own message, with
/// conversations existing before and (half of them) started by the broadcast, and beside a
/// small chat load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_reaches_every_trainee_once() {
    let server = Server::start();
    let setup = server.setup();
    for (existing, chat) in [(1.0, None), (0.5, Some(3))] {
        let opts = BroadcastOpts {
            trainees: 20,
            connected: 20,
            existing_conversations: existing,
            repeat: 2,
            timeout: Duration::from_secs(30),
            chat: chat.map(|pairs| ChatOpts {
                pairs,
                rate: 5.0,
                duration: Duration::from_secs(2),
                ..ChatOpts::default()
            }),
            ..BroadcastOpts::default()
        };
        let r = broadcast::run(&setup, &opts).await.unwrap();
        assert_eq!(r.broadcasts.len(), 2);
        assert_eq!(
            (r.lost, r.duplicated, r.wrong_content, r.stray),
            (0, 0, 0, 0)
        );
        for b in &r.broadcasts {
            assert_eq!(
                (b.state.as_str(), b.sent, b.total, b.failed),
                ("done", 20, 20, 0)
            );
            assert_eq!(b.delivered, 20);
            assert_eq!(b.started_conversations, if existing < 1.0 { 10 } else { 0 });
            let done = b.done_ms.expect("a done frame");
            assert!(b.accepted_ms > 0.0 && done > 0.0);
            assert!(b.last_delivery_ms.unwrap() >= b.delivery.p50_ms);
        }
        assert!(r.server.cpu_seconds > 0.0);
        if chat.is_some() {
            let (alone, with) = (r.chat_alone.unwrap(), r.chat_with_broadcasts.unwrap());
            assert_eq!((alone.lost, with.lost, with.duplicated), (0, 0, 0));
            assert_eq!(with.delivered, 2 * 3 * 10);
        }
    }
}
