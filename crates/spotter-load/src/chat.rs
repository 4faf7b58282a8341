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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::json;
use spotter_client::{Client, Incoming, ServerFrame, Socket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::hist::{Hist, Summary};
use crate::net;
use crate::procfs::{self, Usage};
use crate::setup::{self, Setup};

/// How messages are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// `POST conversations/<id>/send/`.
    Rest,
    /// `{"type":"send"}` on the sender's socket, answered by `ack`.
    Ws,
}

/// Which socket each participant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SocketKind {
    /// `ws/messaging/<id>/` (the original API).
    Conversation,
    /// `ws/messaging/` (one socket per user; also gets `unread_count` frames).
    User,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatOpts {
    pub pairs: u32,
    /// Messages a second from each participant (so `2 × pairs × rate` in all).
    pub rate: f64,
    #[serde(serialize_with = "crate::report::secs")]
    pub duration: Duration,
    pub via: Via,
    pub socket: SocketKind,
    /// How long after the last scheduled send to wait for late deliveries.
    #[serde(serialize_with = "crate::report::secs")]
    pub grace: Duration,
    pub message_bytes: usize,
    /// Sockets connected (and conversations started) at once during set-up.
    pub connect_concurrency: usize,
}

impl Default for ChatOpts {
    fn default() -> Self {
        Self {
            pairs: 10,
            rate: 1.0,
            duration: Duration::from_secs(10),
            via: Via::Ws,
            socket: SocketKind::Conversation,
            grace: Duration::from_secs(5),
            message_bytes: 100,
            connect_concurrency: 64,
        }
    }
}

impl ChatOpts {
    /// Messages each participant sends.
    pub fn per_sender(&self) -> u32 {
        (self.rate * self.duration.as_secs_f64()).floor() as u32
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=100_000).contains(&self.pairs) {
            bail!("--pairs must be 1..=100000");
        }
        if !(self.rate > 0.0 && self.rate <= 1000.0) {
            bail!("--rate must be in (0, 1000] messages a second per sender");
        }
        if self.duration > Duration::from_secs(3600) || self.duration.is_zero() {
            bail!("--duration must be in (0, 3600] seconds");
        }
        if self.grace > Duration::from_secs(120) {
            bail!("--grace must be at most 120 seconds");
        }
        if !(1..=2000).contains(&self.message_bytes) {
            bail!("--message-bytes must be 1..=2000 (the contract's limit)");
        }
        if self.per_sender() == 0 {
            bail!("rate × duration must be at least one message per sender");
        }
        let total = 2 * u64::from(self.pairs) * u64::from(self.per_sender());
        if total > 20_000_000 {
            bail!("{total} messages is over the 20 million this tool will send in one run");
        }
        Ok(())
    }
}

/// After the grace period, how long acknowledged messages still get to be delivered.
const SETTLE: Duration = Duration::from_secs(3);

const SENT: u8 = 1;
const ACKED: u8 = 2;
const DELIVERED: u8 = 4;
const ECHOED: u8 = 8;
const FAILED: u8 = 16;

/// One participant's messages.
struct Sender {
    /// Seconds after `t0` of message 0.
    offset: f64,
    flags: Vec<AtomicU8>,
    /// Microseconds after `t0` at which message k was actually handed to the network (+1, so
    /// that 0 means not yet).
    written_us: Vec<AtomicU64>,
}

/// What every task of one run shares.
struct Run {
    t0: Instant,
    interval: f64,
    run_id: String,
    /// `senders[pair * 2 + side]`; side 0 is the trainer.
    senders: Vec<Sender>,
    conversations: Vec<i64>,
    content: String,
    socket: SocketKind,
    /// Set at the end of the grace period: later acks are not counted.
    closed: AtomicBool,
}

impl Run {
    fn sender(&self, pair: usize, side: usize) -> &Sender {
        &self.senders[pair * 2 + side]
    }

    fn scheduled(&self, pair: usize, side: usize, k: u32) -> Instant {
        let s = self.sender(pair, side).offset + f64::from(k) * self.interval;
        self.t0 + Duration::from_secs_f64(s)
    }

    fn cmid(&self, pair: usize, side: usize, k: u32) -> String {
        format!("{}.{pair}.{side}.{k}", self.run_id)
    }

    /// `(pair, side, k)` of one of this run's `client_message_id`s.
    fn parse(&self, cmid: &str) -> Option<(usize, usize, u32)> {
        let mut it = cmid.split('.');
        if it.next()? != self.run_id {
            return None;
        }
        let pair: usize = it.next()?.parse().ok()?;
        let side: usize = it.next()?.parse().ok()?;
        let k: u32 = it.next()?.parse().ok()?;
        let s = self.senders.get(pair * 2 + side)?;
        (side < 2 && (k as usize) < s.flags.len()).then_some((pair, side, k))
    }

    fn mark_written(&self, pair: usize, side: usize, k: u32, now: Instant) {
        let us = now.saturating_duration_since(self.t0).as_micros() as u64 + 1;
        self.sender(pair, side).written_us[k as usize].store(us, Ordering::Relaxed);
        self.sender(pair, side).flags[k as usize].fetch_or(SENT, Ordering::Relaxed);
    }

    fn written(&self, pair: usize, side: usize, k: u32) -> Option<Instant> {
        let us = self.sender(pair, side).written_us[k as usize].load(Ordering::Relaxed);
        (us > 0).then(|| self.t0 + Duration::from_micros(us - 1))
    }

    fn send_frame(&self, pair: usize, side: usize, k: u32) -> String {
        let mut f = json!({
            "type": "send",
            "content": self.content,
            "client_message_id": self.cmid(pair, side, k),
        });
        if self.socket == SocketKind::User {
            f["conversation_id"] = json!(self.conversations[pair]);
        }
        f.to_string()
    }
}

/// What one task measured.
#[derive(Default)]
struct Tally {
    latency: Hist,
    from_write: Hist,
    ack: Hist,
    lag: Hist,
    delivered: u64,
    duplicated: u64,
    echo_duplicated: u64,
    errors: BTreeMap<String, u64>,
    closed: BTreeMap<String, u64>,
    frames: u64,
    late_acks: u64,
    last_delivery: Option<Instant>,
}

impl Tally {
    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }

    fn merge(&mut self, o: Tally) {
        self.latency.add(&o.latency);
        self.from_write.add(&o.from_write);
        self.ack.add(&o.ack);
        self.lag.add(&o.lag);
        self.delivered += o.delivered;
        self.duplicated += o.duplicated;
        self.echo_duplicated += o.echo_duplicated;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in o.closed {
            *self.closed.entry(k).or_default() += v;
        }
        self.frames += o.frames;
        self.late_acks += o.late_acks;
        self.last_delivery = match (self.last_delivery, o.last_delivery) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatReport {
    pub options: ChatOpts,
    /// Messages a second offered: 2 × pairs × rate.
    pub offered_per_s: f64,
    pub scheduled: u64,
    pub sent: u64,
    pub acked: u64,
    /// Delivered to the other participant's socket (first copies).
    pub delivered: u64,
    /// Acknowledged within the grace period but not delivered to the other participant within
    /// 3 s after it.
    pub lost: u64,
    /// Delivered twice (or more) to the same socket.
    pub duplicated: u64,
    /// Acknowledged but the sender's own socket never got its copy.
    pub echo_missing: u64,
    /// Sent, neither acknowledged nor refused by the end of the grace period.
    pub unanswered: u64,
    /// Of those, answered after the grace period (not counted as acknowledged).
    pub late_acks: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    /// Sockets that closed or broke during the run, by close code.
    pub sockets_closed: BTreeMap<String, u64>,
    /// First deliveries a second: over the timetable (per-sender messages / rate), or from
    /// `t0` to the last delivery when that is longer.
    pub delivered_per_s: f64,
    /// Scheduled send time → `new_message` at the other participant's socket.
    pub latency: Summary,
    /// Actual write of the send → `new_message` at the other participant (the server's share,
    /// without the load generator's lateness in sending).
    pub latency_from_write: Summary,
    /// Scheduled send time → ack (socket `ack` frame or the REST 201).
    pub ack_latency: Summary,
    /// How late the load generator handed each send to the network.
    pub schedule_lag: Summary,
    pub server: Usage,
    /// Server CPU time per delivered message, microseconds.
    pub server_cpu_us_per_message: f64,
    /// Delivered messages per second of server CPU time: messages/s per fully used core.
    pub messages_per_server_cpu_second: f64,
    /// The same with the CPU time of PostgreSQL's processes added (equal on SQLite).
    pub server_and_db_cpu_us_per_message: f64,
    pub messages_per_server_and_db_cpu_second: f64,
    pub load_generator: Usage,
    /// The whole machine (other work on it included) and PostgreSQL.
    pub machine: procfs::MachineUsage,
    pub kernel_before: procfs::SockStat,
    pub kernel_after: procfs::SockStat,
}

/// Runs the scenario against a server whose send limit is lifted.
pub async fn run(setup: &Setup, opts: &ChatOpts) -> anyhow::Result<ChatReport> {
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

/// What was sampled around the run.
struct Samples {
    server: (Option<procfs::ProcSample>, Option<procfs::ProcSample>),
    this: (Option<procfs::ProcSample>, Option<procfs::ProcSample>),
    kernel: (procfs::SockStat, procfs::SockStat),
    machine: procfs::MachineUsage,
    wall: f64,
}

fn report(opts: &ChatOpts, run: &Run, tally: Tally, samples: Samples) -> ChatReport {
    let Samples {
        server: (server_before, server_after),
        this: (self_before, self_after),
        kernel: (kernel_before, kernel_after),
        machine,
        wall,
    } = samples;
    let (mut sent, mut acked, mut lost, mut echo_missing, mut unanswered, mut scheduled) =
        (0, 0, 0, 0, 0, 0);
    for s in &run.senders {
        for f in &s.flags {
            let f = f.load(Ordering::Relaxed);
            scheduled += 1;
            sent += u64::from(f & SENT != 0);
            acked += u64::from(f & ACKED != 0);
            lost += u64::from(f & ACKED != 0 && f & DELIVERED == 0);
            echo_missing += u64::from(f & ACKED != 0 && f & ECHOED == 0);
            unanswered += u64::from(f & SENT != 0 && f & (ACKED | FAILED) == 0);
        }
    }
    let span = tally
        .last_delivery
        .map_or(0.0, |l| l.saturating_duration_since(run.t0).as_secs_f64())
        .max(f64::from(opts.per_sender()) / opts.rate);
    let server = Usage::between(server_before, server_after, wall);
    let delivered = tally.delivered;
    let with_db = server.cpu_seconds + machine.postgres_cpu_seconds;
    ChatReport {
        options: opts.clone(),
        offered_per_s: 2.0 * f64::from(opts.pairs) * opts.rate,
        scheduled,
        sent,
        acked,
        delivered,
        lost,
        duplicated: tally.duplicated + tally.echo_duplicated,
        echo_missing,
        unanswered,
        late_acks: tally.late_acks,
        errors: tally.errors.values().sum(),
        error_kinds: tally.errors,
        sockets_closed: tally.closed,
        delivered_per_s: if span > 0.0 {
            delivered as f64 / span
        } else {
            0.0
        },
        latency: tally.latency.summary(),
        latency_from_write: tally.from_write.summary(),
        ack_latency: tally.ack.summary(),
        schedule_lag: tally.lag.summary(),
        server_cpu_us_per_message: if delivered > 0 {
            server.cpu_seconds * 1e6 / delivered as f64
        } else {
            0.0
        },
        messages_per_server_cpu_second: if server.cpu_seconds > 0.0 {
            delivered as f64 / server.cpu_seconds
        } else {
            0.0
        },
        server_and_db_cpu_us_per_message: if delivered > 0 {
            with_db * 1e6 / delivered as f64
        } else {
            0.0
        },
        messages_per_server_and_db_cpu_second: if with_db > 0.0 {
            delivered as f64 / with_db
        } else {
            0.0
        },
        server,
        load_generator: Usage::between(self_before, self_after, wall),
        machine,
        kernel_before,
        kernel_after,
    }
}

/// Every acknowledged message delivered and every send answered.
fn settled(run: &Run) -> bool {
    run.senders.iter().all(|s| {
        s.flags.iter().all(|f| {
            let f = f.load(Ordering::Relaxed);
            let answered = f & SENT == 0 || f & (ACKED | FAILED) != 0;
            let delivered = f & ACKED == 0 || f & (DELIVERED | ECHOED) == DELIVERED | ECHOED;
            answered && delivered
        })
    })
}

/// Every acknowledged message delivered to both sockets.
fn acked_delivered(run: &Run) -> bool {
    run.senders.iter().all(|s| {
        s.flags.iter().all(|f| {
            let f = f.load(Ordering::Relaxed);
            f & ACKED == 0 || f & (DELIVERED | ECHOED) == DELIVERED | ECHOED
        })
    })
}

/// A content of `bytes` characters.
fn filler(bytes: usize) -> String {
    let base = "Load test: squats 5x5 at 100 kg, then 20 min of intervals. ";
    base.chars().cycle().take(bytes).collect()
}

/// The timer thread: hands each send to its sender at its scheduled time.
fn timetable(run: &Run, n: u32, queues: Vec<mpsc::UnboundedSender<u32>>, stop: &AtomicBool) {
    let mut heap: BinaryHeap<Reverse<(Instant, usize, u32)>> = (0..queues.len())
        .map(|i| Reverse((run.scheduled(i / 2, i % 2, 0), i, 0)))
        .collect();
    while let Some(&Reverse((at, i, k))) = heap.peek() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let now = Instant::now();
        if at > now {
            // nanosleep: usually within ~60 µs of the deadline (timer slack).
            std::thread::sleep((at - now).min(Duration::from_millis(100)));
            continue;
        }
        heap.pop();
        let _ = queues[i].send(k);
        if k + 1 < n {
            heap.push(Reverse((run.scheduled(i / 2, i % 2, k + 1), i, k + 1)));
        }
    }
}

/// One participant's socket: takes deliveries (and, with `sends`, sends on the timetable).
async fn socket_task(
    run: Arc<Run>,
    pair: usize,
    side: usize,
    mut socket: Socket,
    mut sends: Option<mpsc::UnboundedReceiver<u32>>,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let mut t = Tally::default();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            k = recv_opt(&mut sends) => match k {
                Some(k) => {
                    let now = Instant::now();
                    t.lag.record(now.saturating_duration_since(run.scheduled(pair, side, k)));
                    run.mark_written(pair, side, k, now);
                    let frame = run.send_frame(pair, side, k);
                    let sent = socket
                        .send_raw(tokio_tungstenite::tungstenite::Message::Text(frame.into()))
                        .await;
                    if sent.is_err() {
                        t.error("socket write failed");
                        *t.closed.entry("write failed".into()).or_default() += 1;
                        return t;
                    }
                }
                None => sends = None,
            },
            incoming = socket.next() => match incoming {
                Some(Incoming::Frame(f)) => on_frame(&run, pair, side, f, &mut t),
                Some(Incoming::Unknown(_)) => t.frames += 1,
                Some(Incoming::Closed(code, reason)) => {
                    *t.closed.entry(format!("{code} {reason}")).or_default() += 1;
                    return t;
                }
                None => {
                    *t.closed.entry("dropped".into()).or_default() += 1;
                    return t;
                }
            },
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.close()).await;
    t
}

async fn recv_opt(rx: &mut Option<mpsc::UnboundedReceiver<u32>>) -> Option<u32> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn on_frame(run: &Run, pair: usize, side: usize, f: ServerFrame, t: &mut Tally) {
    t.frames += 1;
    let now = Instant::now();
    match f {
        ServerFrame::NewMessage { message, .. } => {
            let Some((p, s, k)) = message
                .client_message_id
                .as_deref()
                .and_then(|c| run.parse(c))
            else {
                return; // not this run's (the conversation's first message, an older run)
            };
            if p != pair {
                t.error("message of another conversation");
                return;
            }
            let flags = &run.sender(p, s).flags[k as usize];
            if s == side {
                if flags.fetch_or(ECHOED, Ordering::Relaxed) & ECHOED != 0 {
                    t.echo_duplicated += 1;
                }
                return;
            }
            if flags.fetch_or(DELIVERED, Ordering::Relaxed) & DELIVERED != 0 {
                t.duplicated += 1;
                return;
            }
            t.delivered += 1;
            t.last_delivery = Some(now);
            t.latency
                .record(now.saturating_duration_since(run.scheduled(p, s, k)));
            if let Some(w) = run.written(p, s, k) {
                t.from_write.record(now.saturating_duration_since(w));
            }
        }
        ServerFrame::Ack {
            client_message_id, ..
        } => {
            if run.closed.load(Ordering::Relaxed) {
                t.late_acks += 1;
                return;
            }
            if let Some((p, s, k)) = client_message_id.as_deref().and_then(|c| run.parse(c)) {
                let prior = run.sender(p, s).flags[k as usize].fetch_or(ACKED, Ordering::Relaxed);
                if prior & ACKED == 0 {
                    t.ack
                        .record(now.saturating_duration_since(run.scheduled(p, s, k)));
                }
            }
        }
        ServerFrame::Error {
            code,
            client_message_id,
            ..
        } => {
            if let Some((p, s, k)) = client_message_id.as_deref().and_then(|c| run.parse(c)) {
                run.sender(p, s).flags[k as usize].fetch_or(FAILED, Ordering::Relaxed);
            }
            t.error(format!("ws error {code}"));
        }
        _ => {}
    }
}

/// One participant sending over REST: each send is its own request, issued on time whatever
/// the earlier ones are doing.
async fn rest_sender(
    run: Arc<Run>,
    pair: usize,
    side: usize,
    client: Client,
    mut rx: mpsc::UnboundedReceiver<u32>,
) -> Tally {
    let mut t = Tally::default();
    let mut inflight = JoinSet::new();
    let conversation = run.conversations[pair];
    let mut open = true;
    loop {
        tokio::select! {
            k = rx.recv(), if open => match k {
                Some(k) => {
                    let now = Instant::now();
                    t.lag.record(now.saturating_duration_since(run.scheduled(pair, side, k)));
                    run.mark_written(pair, side, k, now);
                    let (c, cmid, content) = (client.clone(), run.cmid(pair, side, k), run.content.clone());
                    inflight.spawn(async move {
                        let r = tokio::time::timeout(
                            Duration::from_secs(30),
                            c.send(conversation, &content, Some(&cmid)),
                        )
                        .await;
                        (k, r, Instant::now())
                    });
                }
                None => open = false,
            },
            Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                let Ok((k, r, at)) = done else { t.error("send task panicked"); continue };
                if run.closed.load(Ordering::Relaxed) {
                    t.late_acks += 1;
                    continue;
                }
                let flags = &run.sender(pair, side).flags[k as usize];
                match r {
                    Ok(Ok((status, _))) if status.as_u16() == 201 => {
                        flags.fetch_or(ACKED, Ordering::Relaxed);
                        t.ack.record(at.saturating_duration_since(run.scheduled(pair, side, k)));
                    }
                    Ok(Ok((status, _))) => {
                        // 200: an idempotent replay; cannot happen with fresh ids.
                        flags.fetch_or(ACKED, Ordering::Relaxed);
                        t.error(format!("HTTP {status} (replay)"));
                    }
                    Ok(Err(e)) => {
                        flags.fetch_or(FAILED, Ordering::Relaxed);
                        t.error(match e.status() {
                            Some(s) => format!("HTTP {}", s.as_u16()),
                            None => "HTTP transport".to_owned(),
                        });
                    }
                    Err(_) => {
                        flags.fetch_or(FAILED, Ordering::Relaxed);
                        t.error("HTTP timeout (30 s)");
                    }
                }
            },
            else => break,
        }
    }
    t
}
