//! `chat`: P trainer–trainee pairs, both on sockets, each side sending R messages a second for
//! T seconds, over REST or the socket.
//!
//! **Open loop.** Every message has a scheduled send time, fixed before the run:
//! `t0 + offset(sender) + k / R`, with each sender's offset drawn at random within one interval
//! so that senders do not fire in step. A dedicated timer thread hands each send to its sender
//! at that time (tokio's timer ticks in whole milliseconds; a thread sleeping with `nanosleep`
//! keeps to a few tens of microseconds), whether or not earlier sends were answered. Latency is
//! measured from the *scheduled* time, so a slow server (or a late load generator) shows as
//! latency instead of hiding as a lower send rate.
//!
//! **Matching.** A message's `client_message_id` is `<run>.<pair>.<side>.<k>`: whoever receives
//! it can compute its scheduled time. Per message, atomic flags record sent, acknowledged,
//! delivered to the other participant's socket, and echoed to the sender's own socket; a second
//! delivery to the same socket is a duplicate. After the run, a grace period lets late messages
//! arrive; an acknowledged message still not delivered then is lost.
//!
//! The code is split by concern: `opts` (the knobs), `ledger` (per-message flags and per-task
//! tallies: the accounting of loss, duplicates and latency), `tasks` (the timer thread and the
//! sender/receiver tasks), `report` ([`ChatReport`] and how it is computed); this module
//! connects them and runs the scenario: set-up, the timetable, the grace period, sampling.

mod ledger;
mod opts;
mod report;
mod tasks;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::net;
use crate::procfs;
use crate::setup::{self, Setup};

use ledger::{Run, Sender, Tally, acked_delivered, settled};
pub use opts::{ChatOpts, SocketKind, Via};
pub use report::ChatReport;
use report::{Samples, report};
use tasks::{rest_sender, socket_task, timetable};

/// After the grace period, how long acknowledged messages still get to be delivered.
const SETTLE: Duration = Duration::from_secs(3);

/// Runs the scenario against a server whose send limit is lifted.
pub async fn run(setup: &Setup, opts: &ChatOpts) -> anyhow::Result<ChatReport> {
    run_notify(setup, opts, None).await
}

/// [`run`], telling `started` when the timetable starts and ends (set-up done), so that
/// another scenario can run alongside the sending (`broadcast --with-chat`).
pub async fn run_notify(
    setup: &Setup,
    opts: &ChatOpts,
    started: Option<tokio::sync::oneshot::Sender<(Instant, Instant)>>,
) -> anyhow::Result<ChatReport> {
    opts.validate()?;
    let client = setup.client()?;
    let trainers = setup.trainers("chat", opts.pairs, 1).await?;
    let mut users = Vec::with_capacity(trainers.len() * 2);
    for t in &trainers {
        users.push(t.user());
        users.push(t.trainees[0].clone());
    }
    eprintln!("chat: tokens for {} users", users.len());
    let tokens = setup.tokens(&users).await?;
    eprintln!("chat: starting {} conversations", opts.pairs);
    let starts = trainers
        .iter()
        .zip(tokens.chunks(2))
        .map(|(t, tok)| (tok[0].clone(), t.trainees[0].id))
        .collect();
    let conversations =
        setup::start_conversations(&client, starts, opts.connect_concurrency).await?;
    net::raise_open_files(u64::from(opts.pairs) * 4 + 1024);

    let n = opts.per_sender();
    let interval = 1.0 / opts.rate;
    let senders = (0..opts.pairs as usize * 2)
        .map(|_| Sender {
            offset: rand::random::<f64>() * interval,
            flags: (0..n).map(|_| AtomicU8::new(0)).collect(),
            written_us: (0..n).map(|_| AtomicU64::new(0)).collect(),
        })
        .collect();
    let content = filler(opts.message_bytes);

    eprintln!("chat: connecting {} sockets", opts.pairs * 2);
    let server = net::server_addr(&setup.url)?;
    let mut jobs = Vec::with_capacity(tokens.len());
    for (i, tok) in tokens.iter().enumerate() {
        let c = client.with_token(tok.clone());
        let conv = match opts.socket {
            SocketKind::Conversation => Some(conversations[i / 2]),
            SocketKind::User => None,
        };
        jobs.push((c.socket_url(conv, None)?, c));
    }
    let sockets = setup::bounded(jobs, opts.connect_concurrency, move |(url, c)| async move {
        let mut s = tokio::time::timeout(
            Duration::from_secs(30),
            net::connect_socket(server, &url, None, 8 * 1024),
        )
        .await
        .context("connecting a socket took over 30 s")??;
        net::ready(&mut s).await?;
        Ok((s, c))
    })
    .await?;

    // Everything is connected and subscribed: start the clock a little ahead.
    let t0 = Instant::now() + Duration::from_millis(300);
    let run = Arc::new(Run {
        t0,
        interval,
        run_id: format!("{:08x}", rand::random::<u32>()),
        senders,
        conversations,
        content,
        socket: opts.socket,
        closed: AtomicBool::new(false),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut queues = Vec::with_capacity(sockets.len());
    let mut tasks = JoinSet::new();
    for (i, (socket, c)) in sockets.into_iter().enumerate() {
        let (tx, rx) = mpsc::unbounded_channel::<u32>();
        queues.push(tx);
        let (pair, side) = (i / 2, i % 2);
        let run = run.clone();
        let stop = stop_rx.clone();
        match opts.via {
            Via::Ws => {
                tasks.spawn(socket_task(run, pair, side, socket, Some(rx), stop));
            }
            Via::Rest => {
                tasks.spawn(socket_task(run.clone(), pair, side, socket, None, stop));
                tasks.spawn(rest_sender(run, pair, side, c, rx));
            }
        }
    }

    let server_before = procfs::sample(setup.server_pid);
    let self_before = procfs::sample(None);
    let kernel_before = procfs::sockstat();
    let machine_before = procfs::machine();
    let wall = std::time::Instant::now();
    eprintln!(
        "chat: {} pairs × 2 senders × {} msg/s for {:?} via {:?} ({} messages)",
        opts.pairs,
        opts.rate,
        opts.duration,
        opts.via,
        2 * u64::from(opts.pairs) * u64::from(n)
    );

    let stop_timer = Arc::new(AtomicBool::new(false));
    let timer = {
        let (run, stop) = (run.clone(), stop_timer.clone());
        std::thread::Builder::new()
            .name("spotter-load-timer".into())
            .spawn(move || timetable(&run, n, queues, &stop))?
    };
    // The timetable ends at t0 + duration; then the grace period for late answers.
    let end = t0 + opts.duration + Duration::from_secs_f64(interval);
    if let Some(tx) = started {
        let _ = tx.send((t0, t0 + opts.duration));
    }
    tokio::time::sleep_until(end).await;
    let grace_end = Instant::now() + opts.grace;
    while Instant::now() < grace_end && !settled(&run) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Acks from now on are too late to count; the messages already acknowledged get a few
    // more seconds to reach the sockets (an overloaded server may ack just before the end).
    run.closed.store(true, Ordering::Relaxed);
    let settle_end = Instant::now() + SETTLE;
    while Instant::now() < settle_end && !acked_delivered(&run) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_timer.store(true, Ordering::Relaxed);
    let _ = timer.join();
    let server_after = procfs::sample(setup.server_pid);
    let self_after = procfs::sample(None);
    let kernel_after = procfs::sockstat();
    let machine_after = procfs::machine();
    let wall = wall.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);

    let mut tally = Tally::default();
    while let Some(t) = tasks.join_next().await {
        tally.merge(t.context("a load task panicked")?);
    }
    let samples = Samples {
        server: (server_before, server_after),
        this: (self_before, self_after),
        kernel: (kernel_before, kernel_after),
        machine: procfs::MachineUsage::between(&machine_before, &machine_after, wall),
        wall,
    };
    Ok(report(opts, &run, tally, samples))
}

/// A content of `bytes` characters.
fn filler(bytes: usize) -> String {
    let base = "Load test: squats 5x5 at 100 kg, then 20 min of intervals. ";
    base.chars().cycle().take(bytes).collect()
}
