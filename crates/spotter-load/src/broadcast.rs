//! `broadcast`: one trainer's broadcast to N of their trainees (Part D 1), K of whom hold a live
//! user socket (`ws/messaging/`); the trainer holds one too, for the `broadcast_progress`
//! frames.
//!
//! Before the broadcasts, a share of the trainees (`--existing-conversations`, default all)
//! already have a conversation with the trainer; the broadcast starts the others'. Since a
//! broadcast leaves every recipient with a conversation, a run with a share below 1 gives each
//! broadcast a trainer (and trainees) of its own, so that every one starts the same share.
//!
//! Each broadcast (`--repeat`, back to back, fresh content each) is timed from the POST: to the
//! 202; to the `broadcast_progress` frame with state `done` on the trainer's socket (the last
//! message is stored), cross-checked with `GET broadcasts/<id>/` (sent == total); to each
//! connected trainee's `new_message`, whose content must be the broadcast's with that trainee's
//! first name filled in, exactly once. A message seen twice on a socket is duplicated; a socket
//! with none by the end is lost. The content carries a tag (`[bc <run>.<n>]`) that tells which
//! broadcast a message belongs to, so a copy that comes after its broadcast's figures were taken is counted as stray.
//!
//! With `--with-chat`, the `chat` scenario (its own users) runs first alone, then again with
//! the broadcasts starting one second into its timetable: its send→deliver figures without and
//! with the broadcasts, and how much of its timetable the broadcasts covered.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use spotter_client::{Client, Incoming, Recipients, ServerFrame, Socket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::chat::{self, ChatOpts, ChatReport};
use crate::hist::{Hist, Summary};
use crate::net;
use crate::procfs::{self, MachineUsage, Usage};
use crate::setup::{self, LoadTrainer, Setup};

/// After a broadcast is done and every socket has its message, how long to keep listening for
/// duplicates before the next.
const SETTLE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Serialize)]
pub struct BroadcastOpts {
    /// Trainees of the trainer (each a recipient: the broadcast goes to "all").
    pub trainees: u32,
    /// Trainees holding a live user socket (at most `trainees`).
    pub connected: u32,
    /// Share of the trainees (0 to 1) with a conversation before the broadcast.
    pub existing_conversations: f64,
    /// Broadcasts, back to back.
    pub repeat: u32,
    /// How long a broadcast may take to be done and delivered.
    #[serde(serialize_with = "crate::report::secs")]
    pub timeout: Duration,
    pub connect_concurrency: usize,
    /// The chat load to run alongside, if any.
    pub chat: Option<ChatOpts>,
}

impl Default for BroadcastOpts {
    fn default() -> Self {
        Self {
            trainees: 1000,
            connected: 1000,
            existing_conversations: 1.0,
            repeat: 3,
            timeout: Duration::from_secs(120),
            connect_concurrency: 64,
            chat: None,
        }
    }
}

impl BroadcastOpts {
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=10_000).contains(&self.trainees) {
            bail!("--trainees must be 1..=10000 (the server's limit of recipients)");
        }
        if self.connected > self.trainees {
            bail!("--connected must be at most --trainees");
        }
        if !(0.0..=1.0).contains(&self.existing_conversations) {
            bail!("--existing-conversations must be a share from 0 to 1");
        }
        if !(1..=100).contains(&self.repeat) {
            bail!("--repeat must be 1..=100");
        }
        if let Some(c) = &self.chat {
            c.validate()?;
        }
        Ok(())
    }

    /// Trainees with a conversation before the broadcast.
    pub fn existing(&self) -> u32 {
        (f64::from(self.trainees) * self.existing_conversations).round() as u32
    }

    /// A trainer per broadcast when broadcasts start conversations, else one for all.
    fn trainers(&self) -> u32 {
        if self.existing() < self.trainees {
            self.repeat
        } else {
            1
        }
    }
}

/// One broadcast's figures; times in milliseconds from the POST.
#[derive(Debug, Clone, Serialize)]
pub struct OneBroadcast {
    pub id: i64,
    /// Recipients without a conversation before it (the broadcast starts theirs).
    pub started_conversations: u32,
    pub accepted_ms: f64,
    /// The `broadcast_progress` frame with state `done` (the last message stored).
    pub done_ms: Option<f64>,
    /// No `done` frame came: `done_ms` is when `GET broadcasts/<id>/` first said done.
    pub done_by_poll: bool,
    pub progress_frames: u32,
    /// `GET broadcasts/<id>/` afterwards.
    pub state: String,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
    /// Messages stored a second, POST to done.
    pub stored_per_second: f64,
    /// First and last connected trainee's `new_message`.
    pub first_delivery_ms: Option<f64>,
    pub last_delivery_ms: Option<f64>,
    /// Over the connected trainees' first copy.
    pub delivery: Summary,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// A message of this broadcast whose text was not the trainee's (name not filled in, or
    /// another trainee's).
    pub wrong_content: u64,
    /// POST until done and delivered (or the timeout).
    pub busy_seconds: f64,
    pub server: Usage,
    pub machine: MachineUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct BroadcastReport {
    pub options: BroadcastOpts,
    pub connected: u32,
    pub broadcasts: Vec<OneBroadcast>,
    pub lost: u64,
    pub duplicated: u64,
    pub wrong_content: u64,
    /// Copies of a broadcast that came after its figures were taken (late or duplicated).
    pub stray: u64,
    /// Sockets the server closed (`trainer: 1013 too slow…`), by whose and why.
    pub sockets_closed: BTreeMap<String, u64>,
    /// Over the broadcasts: POST→202, POST→done, POST→last trainee delivery.
    pub accepted: Summary,
    pub done: Summary,
    pub last_delivery: Summary,
    /// The server over all the broadcasts (from the first POST to the last delivery).
    pub server: Usage,
    pub machine: MachineUsage,
    pub chat_alone: Option<ChatReport>,
    pub chat_with_broadcasts: Option<ChatReport>,
    /// Share of the chat's timetable during which a broadcast was in progress.
    pub chat_covered: f64,
}

/// What the socket tasks saw.
enum Seen {
    /// A trainee socket's `new_message`.
    Message {
        trainee: usize,
        at: Instant,
        content: String,
    },
    /// The trainer's `broadcast_progress`.
    Progress { id: i64, state: String, at: Instant },
    /// The server closed a socket (the trainer's is connected again).
    Closed { trainee: bool, why: String },
}

/// One trainer, their trainees and the live sockets.
struct Cohort {
    trainer: Client,
    /// First names of the connected trainees, in socket order.
    names: Vec<String>,
    /// Recipients without a conversation.
    fresh: u32,
    seen: mpsc::UnboundedReceiver<Seen>,
    /// Copies of earlier broadcasts that came after their report.
    stray: u64,
    /// Sockets the server closed, by whose and why.
    closed: BTreeMap<String, u64>,
}

impl Cohort {
    /// Something seen outside a broadcast's figures: a copy of one of this run's broadcasts
    /// is stray; a closed socket is counted.
    fn absorb(&mut self, s: Seen) {
        match s {
            Seen::Message { content, .. } => self.stray += u64::from(tag_of(&content).is_some()),
            Seen::Progress { .. } => {}
            Seen::Closed { trainee, why } => {
                let who = if trainee { "trainee" } else { "trainer" };
                *self.closed.entry(format!("{who}: {why}")).or_default() += 1;
            }
        }
    }

    /// Listens for `d` more: copies of the broadcasts that came after their report.
    async fn drain(&mut self, d: Duration) -> u64 {
        let until = Instant::now() + d;
        while let Ok(Some(s)) = tokio::time::timeout_at(until, self.seen.recv()).await {
            self.absorb(s);
        }
        self.stray
    }
}

/// Per broadcast, per connected trainee: copies seen, and when the first came.
struct Tracking {
    post: Instant,
    expected: Vec<String>,
    copies: Vec<u32>,
    first: Vec<Option<Instant>>,
    wrong: u64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn tag_of(content: &str) -> Option<&str> {
    let i = content.find("[bc ")? + 4;
    let j = content[i..].find(']')? + i;
    Some(&content[i..j])
}

/// Over a few values (one per broadcast): a summary of milliseconds.
fn over(values: impl Iterator<Item = f64>) -> Summary {
    let mut h = Hist::new();
    for v in values {
        h.record(Duration::from_secs_f64(v / 1000.0));
    }
    h.summary()
}

pub async fn run(setup: &Setup, opts: &BroadcastOpts) -> anyhow::Result<BroadcastReport> {
    opts.validate()?;
    let client = setup.client()?;
    let trainers = setup
        .trainers("broadcast", opts.trainers(), opts.trainees)
        .await?;
    net::raise_open_files(u64::from(opts.connected + 1) * u64::from(opts.trainers()) + 1024);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut cohorts = Vec::new();
    for t in &trainers {
        cohorts.push(cohort(setup, &client, opts, t, &mut tasks, &stop_rx).await?);
    }
    let connected = opts.connected;

    let (chat_alone, chat_during) = match &opts.chat {
        None => (None, None),
        Some(c) => {
            eprintln!("broadcast: chat alone first ({} pairs)", c.pairs);
            let alone = chat::run(setup, c).await?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let (s, c) = (setup.clone(), c.clone());
            let during = tokio::spawn(async move { chat::run_notify(&s, &c, Some(tx)).await });
            let (t0, end) = rx.await.context("the chat load ended before it started")?;
            tokio::time::sleep_until(t0 + Duration::from_secs(1)).await;
            (Some(alone), Some((during, t0, end)))
        }
    };

    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let window = procfs::Window::start(setup.server_pid);
    let mut out = Vec::new();
    let mut busy = Vec::new();
    for r in 0..opts.repeat as usize {
        let n = cohorts.len();
        let c = &mut cohorts[r % n];
        let (one, span) = one(setup, opts, c, &format!("{run_id}.{r}")).await?;
        eprintln!(
            "broadcast {}: 202 {:.1} ms, done {:.1} ms, last delivery {:.1} ms, lost {}, duplicated {}",
            r + 1,
            one.accepted_ms,
            one.done_ms.unwrap_or(f64::NAN),
            one.last_delivery_ms.unwrap_or(f64::NAN),
            one.lost,
            one.duplicated
        );
        out.push(one);
        busy.push(span);
    }
    let (server, machine) = window.finish();
    let mut stray = 0;
    let mut sockets_closed = BTreeMap::new();
    for c in &mut cohorts {
        stray += c.drain(Duration::from_secs(1)).await;
        for (k, v) in &c.closed {
            *sockets_closed.entry(k.clone()).or_default() += v;
        }
    }

    let (chat_with, covered) = match chat_during {
        None => (None, 0.0),
        Some((task, t0, end)) => {
            let report = task.await.context("the chat load panicked")??;
            let covered: f64 = busy
                .iter()
                .map(|(a, b): &(Instant, Instant)| {
                    let (a, b) = ((*a).max(t0), (*b).min(end));
                    b.saturating_duration_since(a).as_secs_f64()
                })
                .sum::<f64>()
                / (end - t0).as_secs_f64();
            (Some(report), covered)
        }
    };
    let _ = stop_tx.send(true);
    tasks.abort_all();

    Ok(BroadcastReport {
        options: opts.clone(),
        connected,
        lost: out.iter().map(|b| b.lost).sum(),
        duplicated: out.iter().map(|b| b.duplicated).sum(),
        wrong_content: out.iter().map(|b| b.wrong_content).sum(),
        stray,
        sockets_closed,
        accepted: over(out.iter().map(|b| b.accepted_ms)),
        done: over(out.iter().filter_map(|b| b.done_ms)),
        last_delivery: over(out.iter().filter_map(|b| b.last_delivery_ms)),
        broadcasts: out,
        server,
        machine,
        chat_alone,
        chat_with_broadcasts: chat_with,
        chat_covered: covered,
    })
}

/// Tokens, first names, the conversations that exist before, and the sockets (reading into
/// one channel) of one trainer and their trainees.
async fn cohort(
    setup: &Setup,
    client: &Client,
    opts: &BroadcastOpts,
    t: &LoadTrainer,
    tasks: &mut JoinSet<()>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Cohort> {
    let trainees = &t.trainees[..opts.trainees as usize];
    let mut users = vec![t.user()];
    users.extend(trainees.iter().cloned());
    let tokens = setup.tokens(&users).await?;
    let trainer = client.with_token(tokens[0].clone());
    let existing = opts.existing() as usize;
    eprintln!(
        "broadcast: trainer {} with {} trainees, {existing} conversations before, {} sockets",
        t.id,
        trainees.len(),
        opts.connected
    );
    let starts = trainees[..existing]
        .iter()
        .map(|u| (tokens[0].clone(), u.id))
        .collect();
    setup::start_conversations(client, starts, opts.connect_concurrency).await?;

    let server = net::server_addr(&setup.url)?;
    let connect = move |c: Client| async move {
        let url = c.socket_url(None, None)?;
        let mut s = tokio::time::timeout(
            Duration::from_secs(30),
            net::connect_socket(server, &url, None, 8 * 1024),
        )
        .await
        .context("connecting a socket took over 30 s")??;
        net::ready(&mut s).await?;
        anyhow::Ok(s)
    };
    let live: Vec<Client> = tokens[1..=opts.connected as usize]
        .iter()
        .map(|tok| client.with_token(tok.clone()))
        .collect();
    let names = setup::bounded(
        live.clone(),
        16,
        |c| async move { Ok(c.me().await?.first_name) },
    )
    .await?;
    let sockets = setup::bounded(live, opts.connect_concurrency, connect).await?;
    let trainer_socket = connect(trainer.clone()).await?;

    let (tx, seen) = mpsc::unbounded_channel();
    let again = Some((server, trainer.clone()));
    tasks.spawn(listen(
        trainer_socket,
        None,
        again,
        tx.clone(),
        stop.clone(),
    ));
    for (i, s) in sockets.into_iter().enumerate() {
        tasks.spawn(listen(s, Some(i), None, tx.clone(), stop.clone()));
    }
    Ok(Cohort {
        trainer,
        names,
        fresh: opts.trainees - existing as u32,
        seen,
        stray: 0,
        closed: BTreeMap::new(),
    })
}

/// Reads a socket until stopped: a trainee's (`Some(index)`) messages, the trainer's progress.
/// A socket the server closes is reported; with `again` (the trainer's), connected again, as
/// an app would.
async fn listen(
    mut s: Socket,
    trainee: Option<usize>,
    again: Option<(std::net::SocketAddr, Client)>,
    tx: mpsc::UnboundedSender<Seen>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let frame = tokio::select! {
            f = s.next() => f,
            _ = stop.changed() => break,
        };
        if let None | Some(Incoming::Closed(..)) = &frame {
            let why = match &frame {
                Some(Incoming::Closed(code, reason)) => format!("{code} {reason}"),
                _ => "dropped".to_owned(),
            };
            let _ = tx.send(Seen::Closed {
                trainee: trainee.is_some(),
                why,
            });
            let Some((server, c)) = &again else { break };
            match reconnect(*server, c).await {
                Ok(fresh) => {
                    s = fresh;
                    continue;
                }
                Err(_) => break,
            }
        }
        let at = Instant::now();
        let seen = match (frame, trainee) {
            (Some(Incoming::Frame(ServerFrame::NewMessage { message, .. })), Some(i)) => {
                Seen::Message {
                    trainee: i,
                    at,
                    content: message.content,
                }
            }
            (Some(Incoming::Frame(ServerFrame::BroadcastProgress { broadcast })), None) => {
                Seen::Progress {
                    id: broadcast.id,
                    state: broadcast.state,
                    at,
                }
            }
            _ => continue,
        };
        if tx.send(seen).is_err() {
            break;
        }
    }
    let _ = s.close().await;
}

async fn reconnect(server: std::net::SocketAddr, c: &Client) -> anyhow::Result<Socket> {
    let url = c.socket_url(None, None)?;
    let mut s = net::connect_socket(server, &url, None, 8 * 1024).await?;
    net::ready(&mut s).await?;
    Ok(s)
}

/// One broadcast tagged `tag`: its figures, and when it was in progress.
async fn one(
    setup: &Setup,
    opts: &BroadcastOpts,
    c: &mut Cohort,
    tag: &str,
) -> anyhow::Result<(OneBroadcast, (Instant, Instant))> {
    let content = format!(
        "Hi {{first_name}}! [bc {tag}] New week, new plan: squats 5x5, then 20 min of intervals."
    );
    let expected: Vec<String> = c
        .names
        .iter()
        .map(|n| content.replace("{first_name}", n))
        .collect();
    let k = expected.len();
    let mut track = HashMap::new();
    // Anything from before: a previous broadcast's late copies.
    while let Ok(s) = c.seen.try_recv() {
        c.absorb(s);
    }

    let window = procfs::Window::start(setup.server_pid);
    let post = Instant::now();
    let b = c
        .trainer
        .broadcast(&content, &Recipients::All, Some(tag), None)
        .await
        .context("POST broadcasts/")?;
    let accepted = post.elapsed();
    track.insert(
        tag.to_owned(),
        Tracking {
            post,
            expected,
            copies: vec![0; k],
            first: vec![None; k],
            wrong: 0,
        },
    );
    let deadline = post + opts.timeout;
    let (mut done, mut frames, mut delivered) = (None, 0u32, 0usize);
    let mut done_by_poll = false;
    let mut settle_until: Option<Instant> = None;
    loop {
        // Every trainee has it but no `done` frame (the trainer's socket was closed meanwhile,
        // say): ask `GET broadcasts/<id>/` every 50 ms.
        let poll = done.is_none() && delivered == k;
        let mut until = settle_until.unwrap_or(deadline).min(deadline);
        if poll {
            until = until.min(Instant::now() + Duration::from_millis(50));
        }
        let seen = match tokio::time::timeout_at(until, c.seen.recv()).await {
            Ok(Some(s)) => s,
            Ok(None) => bail!("every socket closed"),
            Err(_) if poll && Instant::now() < deadline => {
                let d = c.trainer.broadcast_detail(b.id).await?;
                if d.state == "done" || d.state == "cancelled" {
                    done = Some(Instant::now());
                    done_by_poll = true;
                    settle_until = Some(Instant::now() + SETTLE);
                }
                continue;
            }
            Err(_) => break,
        };
        match seen {
            Seen::Closed { .. } => c.absorb(seen),
            Seen::Progress { id, state, at } if id == b.id => {
                frames += 1;
                if (state == "done" || state == "cancelled") && done.is_none() {
                    done = Some(at);
                }
            }
            Seen::Progress { .. } => {}
            Seen::Message {
                trainee,
                at,
                content,
            } => {
                let Some(t) = tag_of(&content).and_then(|g| track.get_mut(g)) else {
                    c.stray += u64::from(tag_of(&content).is_some());
                    continue;
                };
                t.copies[trainee] += 1;
                if t.copies[trainee] == 1 {
                    t.first[trainee] = Some(at);
                    delivered += 1;
                }
                if content != t.expected[trainee] {
                    t.wrong += 1;
                }
            }
        }
        if settle_until.is_none() && done.is_some() && delivered == k {
            settle_until = Some(Instant::now() + SETTLE);
        }
    }
    let t = track.remove(tag).context("tracking")?;

    let last = t.first.iter().flatten().max().copied();
    let busy_end = last.into_iter().chain(done).max().unwrap_or(deadline);
    let (server, machine) = window.finish();
    let detail = c
        .trainer
        .broadcast_detail(b.id)
        .await
        .context("GET broadcasts/<id>/")?;

    let mut h = Hist::new();
    for at in t.first.iter().flatten() {
        h.record(*at - t.post);
    }
    let done_ms = done.map(|d| ms(d - post));
    Ok((
        OneBroadcast {
            id: b.id,
            started_conversations: c.fresh,
            accepted_ms: ms(accepted),
            done_ms,
            done_by_poll,
            progress_frames: frames,
            state: detail.state,
            total: detail.total,
            sent: detail.sent,
            failed: detail.failed,
            stored_per_second: done_ms.map_or(0.0, |d| detail.sent as f64 / (d / 1000.0)),
            first_delivery_ms: t.first.iter().flatten().min().map(|a| ms(*a - post)),
            last_delivery_ms: last.map(|a| ms(a - post)),
            delivery: h.summary(),
            delivered: delivered as u64,
            lost: (k - delivered) as u64,
            duplicated: t
                .copies
                .iter()
                .map(|&n| u64::from(n.saturating_sub(1)))
                .sum(),
            wrong_content: t.wrong,
            busy_seconds: (busy_end - post).as_secs_f64(),
            server,
            machine,
        },
        (post, busy_end),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_found_in_the_content() {
        assert_eq!(tag_of("Hi Ann! [bc 0a1b2c.3] Squats"), Some("0a1b2c.3"));
        assert_eq!(tag_of("Hi Ann!"), None);
    }

    #[test]
    fn a_share_below_one_gives_each_broadcast_its_trainer() {
        let mut o = BroadcastOpts {
            trainees: 10,
            repeat: 3,
            ..BroadcastOpts::default()
        };
        assert_eq!((o.existing(), o.trainers()), (10, 1));
        o.existing_conversations = 0.5;
        assert_eq!((o.existing(), o.trainers()), (5, 3));
        o.existing_conversations = 0.0;
        assert_eq!((o.existing(), o.trainers()), (0, 3));
    }
}
