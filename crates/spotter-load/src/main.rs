//! `spotter-load`: the command line over the scenarios of the `spotter_load` library.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use spotter_load::broadcast::BroadcastOpts;
use spotter_load::chat::{ChatOpts, SocketKind, Via};
use spotter_load::history::HistoryOpts;
use spotter_load::idle::IdleOpts;
use spotter_load::list::ListOpts;
use spotter_load::report::Report;
use spotter_load::search::SearchOpts;
use spotter_load::upload::UploadOpts;
use spotter_load::{Setup, UsersSource, broadcast, chat, history, idle, list, search, upload};

/// Load generator for Spotter. Targets only loopback; every run is bounded and stops by itself.
///
/// Start the server for load runs with the send limit lifted (the tool never changes it):
/// SPOTTER_SEND_RATE_PER_MINUTE=1000000 SPOTTER_AUTH_RATE_PER_MINUTE=1000000 spotter serve
#[derive(Parser)]
#[command(name = "spotter-load", version)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Args)]
struct Common {
    /// The server's base URL (loopback only).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8000/")]
    url: String,
    /// The server's process id, for RSS and CPU time; by default the process listening on the
    /// URL's port, if it can be found.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// The server's SPOTTER_JWT_SECRET: access tokens are minted with it (fast); without it
    /// every user logs in (one Argon2 hash each on the server).
    #[arg(
        long,
        global = true,
        env = "SPOTTER_JWT_SECRET",
        hide_env_values = true
    )]
    jwt_secret: Option<String>,
    /// Users from a file of `spotter user bulk` JSON.
    #[arg(long, global = true, conflicts_with = "provision")]
    users: Option<PathBuf>,
    /// Create (or find) the users with `spotter user bulk` (see --spotter-bin, --data-dir,
    /// --database-url).
    #[arg(long, global = true)]
    provision: bool,
    /// The `spotter` binary used by --provision.
    #[arg(long, global = true, default_value = "target/release/spotter")]
    spotter_bin: PathBuf,
    /// The server's data folder (SQLite), for --provision.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// The server's database URL (PostgreSQL), for --provision.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Provisioned users' emails start with this.
    #[arg(long, global = true, default_value = "load")]
    prefix: String,
    /// The load users' password.
    #[arg(long, global = true, default_value = "load-test-password")]
    password: String,
    /// Also write the results as JSON to this file.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Abort the whole run after this many seconds, whatever it is doing.
    #[arg(long, global = true, default_value_t = 3600)]
    max_seconds: u64,
    /// Runtime worker threads of the load generator (default: one per core).
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum Scenario {
    /// Trainer–trainee pairs chatting on a fixed timetable: send→deliver latency, loss.
    Chat {
        /// Trainer–trainee pairs, each with two sockets.
        #[arg(long, default_value_t = 10)]
        pairs: u32,
        /// Messages a second from each participant.
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Seconds of sending.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        #[arg(long, value_enum, default_value_t = Via::Ws)]
        via: Via,
        #[arg(long, value_enum, default_value_t = SocketKind::Conversation)]
        socket: SocketKind,
        /// Seconds to wait after the last send for late deliveries.
        #[arg(long, default_value_t = 5.0)]
        grace: f64,
        #[arg(long, default_value_t = 100)]
        message_bytes: usize,
        #[arg(long, default_value_t = 64)]
        connect_concurrency: usize,
    },
    /// Many authenticated idle sockets: server memory per connection.
    Idle {
        #[arg(long, default_value_t = 1000)]
        sockets: u32,
        /// Distinct users the sockets belong to (default: min(sockets, 1000)).
        #[arg(long)]
        users: Option<u32>,
        /// Seconds to hold the sockets open once connected.
        #[arg(long, default_value_t = 10.0)]
        hold: f64,
        #[arg(long, default_value_t = 256)]
        connect_concurrency: usize,
        /// Seconds allowed for connecting all sockets.
        #[arg(long, default_value_t = 900.0)]
        connect_timeout: f64,
        /// Sockets per loopback source address (127.0.0.2, .3, …) before the next; by default
        /// the ephemeral port range less 2,000. Below --sockets, the sockets are spread.
        #[arg(long)]
        per_address: Option<u32>,
    },
    /// Paging through a long conversation with `?before=`: per-page latency.
    History {
        #[arg(long, default_value_t = 100_000)]
        messages: u32,
        #[arg(long, default_value_t = 50)]
        page_size: u32,
        #[arg(long, default_value_t = 2000)]
        random_pages: u32,
        #[arg(long, default_value_t = 1)]
        walks: u32,
        #[arg(long, default_value_t = 32)]
        seed_concurrency: usize,
    },
    /// The conversation list and unread count of a trainer with many trainees.
    List {
        #[arg(long, default_value_t = 500)]
        trainees: u32,
        #[arg(long, default_value_t = 2000)]
        iterations: u32,
    },
    /// Search over a trainer's long history: latency per query kind (rare, common, no match,
    /// two characters).
    Search {
        #[arg(long, default_value_t = 500)]
        conversations: u32,
        #[arg(long, default_value_t = 1_000_000)]
        messages: u32,
        /// Searches of each kind.
        #[arg(long, default_value_t = 500)]
        iterations: u32,
        #[arg(long, default_value_t = 64)]
        seed_concurrency: usize,
    },
    /// Photo sends by size (multipart JPEGs): time to the 201, server CPU per upload.
    Upload {
        /// Photo sizes in KiB, comma-separated (10 to 5120).
        #[arg(long, value_delimiter = ',', default_value = "100,1024,5120")]
        sizes_kib: Vec<u32>,
        /// Timed sends of each size.
        #[arg(long, default_value_t = 50)]
        iterations: u32,
        /// Sends in flight at once (1: one after the other).
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// A trainer's broadcast to many trainees on live sockets: time to the 202, to done, to
    /// the last trainee's socket; loss and duplicates; optionally beside the chat load.
    Broadcast {
        /// Trainees of the trainer, all recipients.
        #[arg(long, default_value_t = 1000)]
        trainees: u32,
        /// Trainees holding a live user socket (default: all).
        #[arg(long)]
        connected: Option<u32>,
        /// Share of the trainees (0–1) with a conversation before the broadcast; below 1,
        /// each broadcast has a trainer (and trainees) of its own.
        #[arg(long, default_value_t = 1.0)]
        existing_conversations: f64,
        /// Broadcasts, back to back (fresh content each).
        #[arg(long, default_value_t = 3)]
        repeat: u32,
        /// Seconds a broadcast may take to be done and delivered.
        #[arg(long, default_value_t = 120.0)]
        timeout: f64,
        #[arg(long, default_value_t = 64)]
        connect_concurrency: usize,
        /// Also run the chat load with this many pairs (other users): alone first, then with
        /// the broadcasts starting 1 s into it.
        #[arg(long)]
        with_chat: Option<u32>,
        /// Messages a second from each chat participant.
        #[arg(long, default_value_t = 1.0)]
        chat_rate: f64,
        /// Seconds of chat sending (each of the two chat runs).
        #[arg(long, default_value_t = 10.0)]
        chat_duration: f64,
    },
}

fn secs(s: f64, what: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("bad --{what}"))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = cli.common.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.build()?;
    let max = Duration::from_secs(cli.common.max_seconds);
    let report = rt.block_on(async {
        tokio::time::timeout(max, run(&cli))
            .await
            .with_context(|| format!("stopped after --max-seconds {}", cli.common.max_seconds))?
    })?;
    print!("{}", report.table());
    if let Some(path) = &cli.common.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("results written to {}", path.display());
    }
    // Sockets still closing in the background must not hold the process.
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

async fn run(cli: &Cli) -> anyhow::Result<Report> {
    let c = &cli.common;
    let users = match (&c.users, c.provision) {
        (Some(path), _) => UsersSource::File(path.clone()),
        (None, true) => UsersSource::Provision {
            spotter_bin: c.spotter_bin.clone(),
            data_dir: c.data_dir.clone(),
            database_url: c.database_url.clone(),
            prefix: c.prefix.clone(),
        },
        (None, false) => bail!("say where the users come from: --users <file> or --provision"),
    };
    let setup = Setup::new(
        &c.url,
        c.server_pid,
        c.jwt_secret.clone(),
        users,
        c.password.clone(),
    )?;
    match setup.server_pid {
        Some(pid) => eprintln!("server {} (pid {pid})", setup.url),
        None => eprintln!("server {} (pid unknown: no RSS/CPU figures)", setup.url),
    }
    Ok(match &cli.scenario {
        Scenario::Chat {
            pairs,
            rate,
            duration,
            via,
            socket,
            grace,
            message_bytes,
            connect_concurrency,
        } => {
            let opts = ChatOpts {
                pairs: *pairs,
                rate: *rate,
                duration: secs(*duration, "duration")?,
                via: *via,
                socket: *socket,
                grace: secs(*grace, "grace")?,
                message_bytes: *message_bytes,
                connect_concurrency: *connect_concurrency,
            };
            Report::Chat(Box::new(chat::run(&setup, &opts).await?))
        }
        Scenario::Idle {
            sockets,
            users,
            hold,
            connect_concurrency,
            connect_timeout,
            per_address,
        } => {
            let opts = IdleOpts {
                sockets: *sockets,
                users: users.unwrap_or((*sockets).min(1000)),
                hold: secs(*hold, "hold")?,
                connect_concurrency: *connect_concurrency,
                connect_timeout: secs(*connect_timeout, "connect-timeout")?,
                per_address: *per_address,
            };
            Report::Idle(Box::new(idle::run(&setup, &opts).await?))
        }
        Scenario::History {
            messages,
            page_size,
            random_pages,
            walks,
            seed_concurrency,
        } => {
            let opts = HistoryOpts {
                messages: *messages,
                page_size: *page_size,
                random_pages: *random_pages,
                walks: *walks,
                seed_concurrency: *seed_concurrency,
            };
            Report::History(Box::new(history::run(&setup, &opts).await?))
        }
        Scenario::List {
            trainees,
            iterations,
        } => {
            let opts = ListOpts {
                trainees: *trainees,
                iterations: *iterations,
                ..ListOpts::default()
            };
            Report::List(Box::new(list::run(&setup, &opts).await?))
        }
        Scenario::Search {
            conversations,
            messages,
            iterations,
            seed_concurrency,
        } => {
            let opts = SearchOpts {
                conversations: *conversations,
                messages: *messages,
                iterations: *iterations,
                seed_concurrency: *seed_concurrency,
            };
            Report::Search(Box::new(search::run(&setup, &opts).await?))
        }
        Scenario::Upload {
            sizes_kib,
            iterations,
            concurrency,
        } => {
            let opts = UploadOpts {
                sizes_kib: sizes_kib.clone(),
                iterations: *iterations,
                concurrency: *concurrency,
            };
            Report::Upload(Box::new(upload::run(&setup, &opts).await?))
        }
        Scenario::Broadcast {
            trainees,
            connected,
            existing_conversations,
            repeat,
            timeout,
            connect_concurrency,
            with_chat,
            chat_rate,
            chat_duration,
        } => {
            let chat = match with_chat {
                Some(pairs) => Some(ChatOpts {
                    pairs: *pairs,
                    rate: *chat_rate,
                    duration: secs(*chat_duration, "chat-duration")?,
                    ..ChatOpts::default()
                }),
                None => None,
            };
            let opts = BroadcastOpts {
                trainees: *trainees,
                connected: connected.unwrap_or(*trainees),
                existing_conversations: *existing_conversations,
                repeat: *repeat,
                timeout: secs(*timeout, "timeout")?,
                connect_concurrency: *connect_concurrency,
                chat,
            };
            Report::Broadcast(Box::new(broadcast::run(&setup, &opts).await?))
        }
    })
}
