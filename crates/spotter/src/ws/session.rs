//! One socket's life: authenticate (4001), authorize (4003), subscribe, replay what the client
//! missed, then live. A reader task takes the client's frames; the writer owns the socket's
//! sending half and everything time-driven (pings, typing expiry, the 1013 / 1001 closes).
//!
//! Replay then live without a gap or a duplicate: the hub subscription is made *before* the
//! store is read, so a message committed during the replay is either in the replay or queued on
//! the subscription (or both: then its id is at most the last replayed, and it is skipped).
//! A socket without `?after=` starts at the end as read *before* subscribing, then fills from
//! the store: a message committed while it subscribed is written once, never counted as seen.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::MAX_FRAME_BYTES;
use super::commands::{Commands, error_frame};
use super::typing::TypingTracker;
use crate::bus::hub::Lag;
use crate::bus::{Event, Kind, Subscription, Topic};
use crate::domain::delivery::Delivered;
use crate::domain::model::{ConversationId, ConversationRef, MessageId, UserId};
use crate::domain::{Actor, accounts, events};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{conversations, messages};

pub enum Target {
    /// `ws/messaging/<id>/`: the raw path segment, validated after the upgrade.
    Conversation(String),
    /// `ws/messaging/`: every conversation of the user.
    User,
}

pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const UNAUTHORIZED: u16 = 4001;
    pub const FORBIDDEN: u16 = 4003;
    pub const TOO_MANY_SOCKETS: u16 = 4029;
}

/// How long one write may take before the peer counts as stuck.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued at most before a flush while more keep coming.
const MAX_UNFLUSHED: usize = 16;
/// Replay reads the store in pages of this many messages.
const REPLAY_PAGE: i64 = 100;

type Sink = SplitSink<WebSocket, Message>;

/// Where a socket's cursors start.
enum Start {
    /// After this message (a conversation socket's `?after=`).
    After(MessageId),
    /// At these conversations' message counts, read before subscribing.
    Ends(Vec<(ConversationId, i64)>),
}

/// What the reader asks the writer to send. Kept to 16 bytes: each socket's queue allocates
/// room for 32 of them up front.
enum Out {
    Frame(Box<str>),
    Close(&'static (u16, &'static str)),
}

/// The close a reader asks for when a frame is over the size limit.
const CLOSE_TOO_BIG: (u16, &str) = (close::TOO_BIG, "frame too large");

async fn close_now(sink: &mut Sink, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}

/// A socket that passed authentication and authorization, subscribed, ready to go live.
struct Opened {
    state: AppState,
    stream: SplitStream<WebSocket>,
    commands: Commands,
    writer: Writer,
    sub: Subscription,
    start: Start,
    me: UserId,
    fixed: Option<ConversationRef>,
    socket_id: String,
}

/// Serves one socket until it closes.
pub fn run(
    state: AppState,
    socket: WebSocket,
    target: Target,
    params: HashMap<String, String>,
) -> impl Future<Output = ()> + Send {
    // Opening holds the socket by value and awaits large futures (authentication, reads from
    // the store). Boxed, all that is freed once the socket is live, instead of sizing every
    // idle socket's task for it (an `async fn` keeps its arguments in its own state).
    let opening = Box::pin(open(state, socket, target, params));
    async move {
        if let Some(opened) = opening.await {
            live(opened).await;
        }
    }
}

/// The socket live: its reader here, its writer in a task of its own. Not an `async fn`: its
/// state would keep `opened` (and every local whose scope spans an await) for the socket's whole
/// life; the future below holds only what the reader needs.
fn live(opened: Box<Opened>) -> impl Future<Output = ()> + Send {
    let Opened {
        state,
        stream,
        mut commands,
        writer,
        sub,
        start,
        me,
        fixed,
        socket_id,
    } = *opened;
    let (out_tx, out_rx) = mpsc::channel(32);
    let last_seen = writer.last_seen.clone();
    let started = writer.started;
    let mut writer = tokio::spawn(writer.run(sub, out_rx, start));
    async move {
        tokio::select! {
            () = read(stream, &mut commands, out_tx, last_seen, started) => {
                // The reader ended (client closed, or a bad frame): the writer sees its queue
                // close.
                let _ = tokio::time::timeout(Duration::from_secs(3), &mut writer).await;
            }
            _ = &mut writer => {}
        }
        Box::pin(async {
            commands.stop_typing().await;
            commands.clear_focus().await;
        })
        .await;
        if let Some(c) = fixed {
            state.bus.set_reading(me, c.id, &socket_id, None);
        }
    }
}

/// Authenticates, authorizes and subscribes; `None` when the socket was closed instead.
async fn open(
    state: AppState,
    socket: WebSocket,
    target: Target,
    params: HashMap<String, String>,
) -> Option<Box<Opened>> {
    let (mut sink, stream) = socket.split();
    let actor = match params.get("token") {
        None => {
            close_now(&mut sink, close::UNAUTHORIZED, "token missing").await;
            return None;
        }
        Some(token) => match accounts::authenticate(&state, token).await {
            Ok(actor) => actor,
            Err(Error::Unauthorized(_)) => {
                close_now(&mut sink, close::UNAUTHORIZED, "token invalid or expired").await;
                return None;
            }
            Err(_) => {
                close_now(&mut sink, close::INTERNAL, "try again").await;
                return None;
            }
        },
    };
    let fixed = match target {
        Target::User => None,
        Target::Conversation(raw) => match authorize(&state, &actor, &raw).await {
            Ok(c) => Some(c),
            Err(code) => {
                let reason = if code == close::FORBIDDEN {
                    "no access to this conversation"
                } else {
                    "try again"
                };
                close_now(&mut sink, code, reason).await;
                return None;
            }
        },
    };
    if state.bus.hub().sockets_of(actor.id()) >= state.config.ws_max_sockets_per_user {
        close_now(
            &mut sink,
            close::TOO_MANY_SOCKETS,
            "too many open sockets for this user",
        )
        .await;
        return None;
    }
    let after = match (fixed, params.get("after")) {
        (Some(_), Some(raw)) => match raw.parse::<MessageId>() {
            Ok(id) if id >= 0 => Some(id),
            _ => {
                let _ = sink
                    .send(Message::Text(
                        error_frame("invalid", "after must be a message id", None).into(),
                    ))
                    .await;
                None
            }
        },
        _ => None,
    };

    // Where a socket without `?after=` starts, read *before* subscribing: a message committed in
    // between is then beyond this point, and the writer's first fill reads it from the store
    // (read after subscribing, it could be counted as seen while its event was skipped).
    let start = match (fixed, after) {
        (Some(_), Some(after)) => Ok(Start::After(after)),
        (Some(c), None) => conversations::message_count(&state.db, c.id)
            .await
            .map(|n| Start::Ends(vec![(c.id, n)])),
        (None, _) => conversations::message_counts_for(&state.db, actor.id())
            .await
            .map(Start::Ends),
    };
    let Ok(start) = start else {
        close_now(&mut sink, close::INTERNAL, "try again").await;
        return None;
    };
    let topic = fixed.map_or(Topic::User(actor.id()), |c| Topic::Conversation(c.id));
    // Subscribe before reading the store: see the module doc.
    let sub = state
        .bus
        .hub()
        .subscribe(topic, actor.id(), state.config.ws_queue);
    let socket_id = uuid::Uuid::new_v4().simple().to_string();
    let presence_ttl = Duration::from_secs(state.config.ws_ping_secs.max(1) * 3);
    if let Some(c) = fixed {
        state
            .bus
            .set_reading(actor.id(), c.id, &socket_id, Some(presence_ttl));
    }
    let commands = Commands::new(
        state.clone(),
        actor.clone(),
        fixed,
        socket_id.clone(),
        presence_ttl,
    );
    let writer = Writer {
        state: state.clone(),
        me: actor.id(),
        fixed,
        sink,
        typing: TypingTracker::new(Duration::from_millis(state.config.typing_ttl_ms)),
        cursors: HashMap::new(),
        unread_dirty: fixed.is_none(),
        unflushed: 0,
        last_seen: Arc::new(AtomicU64::new(0)),
        started: Instant::now(),
        lag: sub.lag.clone(),
        socket_id: socket_id.clone(),
        presence_ttl,
        focus: commands.focus.clone(),
    };
    Some(Box::new(Opened {
        me: actor.id(),
        state,
        stream,
        commands,
        writer,
        sub,
        start,
        fixed,
        socket_id,
    }))
}

/// The conversation a socket may follow: it exists, the user takes part, it is not archived.
async fn authorize(state: &AppState, actor: &Actor, raw: &str) -> Result<ConversationRef, u16> {
    let Ok(id) = raw.parse::<i64>() else {
        return Err(close::FORBIDDEN);
    };
    match conversations::get_ref(&state.db, id).await {
        Ok(Some(c)) if c.is_participant(actor.id()) && !c.is_archived() => Ok(c),
        Ok(_) => Err(close::FORBIDDEN),
        Err(_) => Err(close::INTERNAL),
    }
}

fn is_too_big(e: axum::Error) -> bool {
    e.into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)))
}

/// Frames a client may send: `per_second`, in bursts of twice that.
fn frame_limiter(per_second: u32) -> governor::DefaultDirectRateLimiter {
    let n = std::num::NonZeroU32::new(per_second.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    let burst = n.saturating_mul(std::num::NonZeroU32::new(2).unwrap_or(std::num::NonZeroU32::MIN));
    governor::RateLimiter::direct(governor::Quota::per_second(n).allow_burst(burst))
}

async fn read(
    mut stream: SplitStream<WebSocket>,
    commands: &mut Commands,
    out: mpsc::Sender<Out>,
    last_seen: Arc<AtomicU64>,
    started: Instant,
) {
    let limiter = frame_limiter(commands.state.config.ws_frames_per_second);
    let mut last_notice: Option<Instant> = None;
    while let Some(msg) = stream.next().await {
        last_seen.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        match msg {
            Ok(Message::Text(text)) => {
                if text.len() > MAX_FRAME_BYTES {
                    let _ = out.send(Out::Close(&CLOSE_TOO_BIG)).await;
                    return;
                }
                if limiter.check().is_err() {
                    // Dropped; say so at most once a second, so a flood cannot make us flood back.
                    if last_notice.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        last_notice = Some(Instant::now());
                        let reply = error_frame("throttled", "Too many frames; slow down.", None);
                        if out.send(Out::Frame(reply.into())).await.is_err() {
                            return;
                        }
                    }
                    continue;
                }
                // Boxed: handling a command awaits the store, a large future that would
                // otherwise be part of every idle socket's task.
                if let Some(reply) = Box::pin(commands.handle(text.as_str())).await
                    && out.send(Out::Frame(reply.into())).await.is_err()
                {
                    return;
                }
            }
            Ok(Message::Binary(_)) => {
                let reply = error_frame(
                    "malformed",
                    "Binary frames are not supported; send JSON text.",
                    None,
                );
                if out.send(Out::Frame(reply.into())).await.is_err() {
                    return;
                }
            }
            Ok(Message::Close(_)) => return,
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Err(e) => {
                if is_too_big(e) {
                    let _ = out.send(Out::Close(&CLOSE_TOO_BIG)).await;
                }
                return;
            }
        }
    }
}

struct Writer {
    state: AppState,
    me: UserId,
    fixed: Option<ConversationRef>,
    sink: Sink,
    typing: TypingTracker,
    /// Per conversation, the `seq` of the last message this socket has: live copies at or
    /// below it are duplicates, and one beyond the next means a gap to read from the store.
    cursors: HashMap<ConversationId, i64>,
    /// A user socket's unread badge needs recounting.
    unread_dirty: bool,
    /// Frames queued on the socket since the last flush.
    unflushed: usize,
    last_seen: Arc<AtomicU64>,
    started: Instant,
    /// Raised by the hub when this socket's queue overflows.
    lag: Arc<Lag>,
    /// This socket's name in the cross-node presence set, refreshed with each ping.
    socket_id: String,
    presence_ttl: Duration,
    /// The conversation a user socket shows (0: none), set by its `focus` frames.
    focus: Arc<std::sync::atomic::AtomicI64>,
}

/// Why the writer stopped.
enum Stop {
    Close(u16, &'static str),
    /// The peer is gone or stuck: nothing more can be written.
    Gone,
}

impl Writer {
    async fn run(mut self, mut sub: Subscription, mut out: mpsc::Receiver<Out>, start: Start) {
        let stop = self.serve(&mut sub, &mut out, start).await;
        // Stop taking events first: a lagging socket must not hold its queue while its close
        // frame waits behind a full TCP buffer.
        drop(sub);
        if let Stop::Close(code, reason) = stop {
            close_now(&mut self.sink, code, reason).await;
        }
    }

    /// Queues one frame for the socket; [`Self::flush`] sends what is queued. Frames that come
    /// together (an ack, the echo and a receipt) then leave in one `write` call, not one each.
    ///
    /// The guarded write is boxed, here and in `flush`: its timer and the lag watch would
    /// otherwise size every idle socket's writer (by some 400 bytes each).
    async fn write(&mut self, text: String) -> Result<(), Stop> {
        self.unflushed += 1;
        let lag = self.lag.clone();
        Box::pin(guarded(&lag, self.sink.feed(Message::Text(text.into())))).await
    }

    async fn flush(&mut self) -> Result<(), Stop> {
        self.unflushed = 0;
        let lag = self.lag.clone();
        Box::pin(guarded(&lag, self.sink.flush())).await
    }

    async fn serve(
        &mut self,
        sub: &mut Subscription,
        out: &mut mpsc::Receiver<Out>,
        start: Start,
    ) -> Stop {
        // Boxed, as every store read below: see `run`.
        if let Err(stop) = Box::pin(self.start_cursors(start)).await {
            return stop;
        }
        let mut shutdown = self.state.shutdown.subscribe();
        let ping_every = Duration::from_secs(self.state.config.ws_ping_secs.max(1));
        let idle_limit = Duration::from_secs(self.state.config.ws_idle_secs.max(1));
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        loop {
            if self.unread_dirty && sub.rx.is_empty() {
                self.unread_dirty = false;
                if let Ok(n) =
                    Box::pin(crate::domain::messaging::unread_count(&self.state, self.me)).await
                    && let Err(stop) = self
                        .write(json!({"type": "unread_count", "unread_count": n}).to_string())
                        .await
                {
                    return stop;
                }
            }
            // Send what is queued before waiting, or after a run of frames while more wait.
            if self.unflushed > 0
                && ((sub.rx.is_empty() && out.is_empty()) || self.unflushed >= MAX_UNFLUSHED)
                && let Err(stop) = self.flush().await
            {
                return stop;
            }
            let typing_deadline = self.typing.next_deadline();
            let result = tokio::select! {
                biased;
                () = stopping(&mut shutdown) => return Stop::Close(close::GOING_AWAY, "server shutting down"),
                () = sub.lag.raised() => {
                    metrics::counter!(crate::metrics::SOCKETS_CLOSED_SLOW).increment(1);
                    return Stop::Close(close::TRY_AGAIN_LATER, "too slow; resume with ?after=");
                }
                cmd = out.recv() => match cmd {
                    Some(Out::Frame(text)) => self.write(text.into()).await,
                    Some(Out::Close(&(code, reason))) => return Stop::Close(code, reason),
                    None => return Stop::Gone,
                },
                Some(event) = sub.rx.recv() => self.event(&event).await,
                () = sleep_until_opt(typing_deadline) => self.expire_typing().await,
                _ = ping.tick() => {
                    let silent = self.started.elapsed().saturating_sub(Duration::from_millis(self.last_seen.load(Ordering::Relaxed)));
                    if silent >= idle_limit {
                        return Stop::Close(close::GOING_AWAY, "no heartbeat");
                    }
                    let shown = self.fixed.map_or(self.focus.load(Ordering::Acquire), |c| c.id);
                    if shown != 0 {
                        self.state.bus.set_reading(self.me, shown, &self.socket_id, Some(self.presence_ttl));
                    }
                    match Box::pin(tokio::time::timeout(WRITE_TIMEOUT, self.sink.send(Message::Ping(Default::default())))).await {
                        Ok(Ok(())) => Ok(()),
                        _ => Err(Stop::Gone),
                    }
                }
            };
            if let Err(stop) = result {
                return stop;
            }
        }
    }

    /// Where this socket starts: after a resume's replay, or at each conversation's end as read
    /// before subscribing, having written what was committed since.
    async fn start_cursors(&mut self, start: Start) -> Result<(), Stop> {
        let failed = |_| Stop::Close(close::INTERNAL, "try again");
        match start {
            Start::After(after) => {
                let Some(conv) = self.fixed else {
                    return Ok(());
                };
                let seq = messages::seq_of(&self.state.db, conv.id, after)
                    .await
                    .map_err(failed)?;
                self.cursors.insert(conv.id, seq);
                self.fill(conv.id, i64::MAX).await
            }
            Start::Ends(ends) => {
                self.cursors.extend(ends);
                let now = match self.fixed {
                    Some(c) => vec![(
                        c.id,
                        conversations::message_count(&self.state.db, c.id)
                            .await
                            .map_err(failed)?,
                    )],
                    None => conversations::message_counts_for(&self.state.db, self.me)
                        .await
                        .map_err(failed)?,
                };
                for (conv, count) in now {
                    if count > self.cursors.get(&conv).copied().unwrap_or(0) {
                        self.fill(conv, i64::MAX).await?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Writes, in order, the stored messages of `conversation` after this socket's cursor, up to
    /// position `up_to`: the replay of a resume, and the filling of a gap in live events (the
    /// missing message is committed already: positions commit in order).
    async fn fill(&mut self, conversation: ConversationId, up_to: i64) -> Result<(), Stop> {
        loop {
            let from = self.cursors.get(&conversation).copied().unwrap_or(0);
            if from >= up_to {
                return Ok(());
            }
            let page = messages::after_seq(&self.state.db, conversation, from, REPLAY_PAGE)
                .await
                .map_err(|_| Stop::Close(close::INTERNAL, "try again"))?;
            for m in page.iter().filter(|m| m.seq <= up_to) {
                let kind = Kind::NewMessage {
                    conversation_id: conversation,
                    message_id: m.id,
                    seq: m.seq,
                    sender_id: m.sender.as_ref().map_or(0, |s| s.id),
                    created_at: m.created_at,
                };
                self.deliver_hook(&kind, false);
                self.write(events::new_message_frame(conversation, m).to_string())
                    .await?;
                self.cursors.insert(conversation, m.seq);
            }
            if (page.len() as i64) < REPLAY_PAGE {
                return Ok(());
            }
        }
    }

    /// A message from someone else reached this socket: it is delivered. `live`: it came as an
    /// event, not from the store, so its latency means something.
    fn deliver_hook(&mut self, kind: &Kind, live: bool) {
        if let Kind::NewMessage {
            conversation_id,
            message_id,
            sender_id,
            created_at,
            ..
        } = *kind
            && sender_id != self.me
        {
            metrics::counter!(crate::metrics::MESSAGES_DELIVERED).increment(1);
            if live {
                let latency = (crate::clock::now_micros() - created_at).max(0) as f64 / 1e6;
                metrics::histogram!(crate::metrics::SEND_TO_DELIVER).record(latency);
            }
            self.state.delivery.record(Delivered {
                conversation_id,
                recipient: self.me,
                sender: sender_id,
                message_id,
            });
            self.typing.forget(conversation_id, sender_id);
            if self.fixed.is_none() {
                self.unread_dirty = true;
            }
        }
    }

    async fn event(&mut self, event: &Arc<Event>) -> Result<(), Stop> {
        match event.kind {
            Kind::NewMessage {
                conversation_id,
                seq,
                ..
            } => {
                // A conversation this socket had no cursor for (started or resumed since it
                // connected) begins at this event.
                let cursor = *self.cursors.entry(conversation_id).or_insert(seq - 1);
                if seq <= cursor {
                    return Ok(());
                }
                if seq > cursor + 1 {
                    Box::pin(self.fill(conversation_id, seq)).await?;
                    if self
                        .cursors
                        .get(&conversation_id)
                        .is_some_and(|c| *c >= seq)
                    {
                        return Ok(());
                    }
                    // The store did not show the gap (it always should: positions commit in
                    // order). Never drop what we hold: write this event as it came.
                    tracing::warn!(conversation_id, seq, "gap not found in the store");
                }
                self.deliver_hook(&event.kind, true);
                self.cursors.insert(conversation_id, seq);
            }
            Kind::Typing {
                conversation_id,
                user_id,
                is_typing,
            } => self.typing.saw(conversation_id, user_id, is_typing),
            Kind::ReadReceipt { reader_id, .. } if reader_id == self.me && self.fixed.is_none() => {
                self.unread_dirty = true
            }
            Kind::Archived { .. } if self.fixed.is_some() => {
                self.write(event.frame.to_string()).await?;
                return Err(Stop::Close(close::FORBIDDEN, "conversation archived"));
            }
            Kind::Archived { .. } => self.unread_dirty = true,
            _ => {}
        }
        self.write(event.frame.to_string()).await
    }

    async fn expire_typing(&mut self) -> Result<(), Stop> {
        for (conversation, user) in self.typing.expire(Instant::now()) {
            self.write(events::typing_frame(conversation, user, false).to_string())
                .await?;
        }
        Ok(())
    }
}

/// Runs one socket write (queueing or flushing). A write blocked on a peer that does not read
/// ends as soon as the queue behind it overflows (1013), or after `WRITE_TIMEOUT` at the latest.
async fn guarded(
    lag: &Lag,
    io: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), Stop> {
    tokio::select! {
        written = tokio::time::timeout(WRITE_TIMEOUT, io) => match written {
            Ok(Ok(())) => Ok(()),
            _ => Err(Stop::Gone),
        },
        () = lag.raised() => Err(Stop::Close(close::TRY_AGAIN_LATER, "too slow; resume with ?after=")),
    }
}

async fn stopping(rx: &mut tokio::sync::watch::Receiver<bool>) {
    // A closed channel means the state is gone: stop as well.
    let _ = rx.wait_for(|stopping| *stopping).await;
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
