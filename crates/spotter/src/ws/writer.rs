//! The socket's writer: owns its sending half and everything time-driven. It writes the events
//! of its subscription (in order, filling gaps from the store: [`super::replay`]), the reader's
//! replies, pings, the typing indicators that expire, the unread badge of a user socket; it
//! closes with 1013 when the socket falls behind, 1001 when the server stops or the peer has
//! been silent too long. Frames are queued and flushed when nothing more is waiting, so frames
//! that come together leave in one `write`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::SinkExt;
use tokio::sync::{mpsc, watch};

use super::presence::Presence;
use super::replay::Start;
use super::typing::TypingTracker;
use super::{Out, Sink, close, close_now};
use crate::bus::hub::Lag;
use crate::bus::route;
use crate::bus::{Event, Kind, Subscription};
use crate::clock::{Micros, micros};
use crate::domain::model::{ConversationId, ConversationRef, UserId};
use crate::state::AppState;
use crate::wire::frames::ServerFrame;
use crate::workers::delivery::Delivered;

/// How long one write may take before the peer counts as stuck (real time: it is about the
/// network).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued at most before a flush while more keep coming.
const MAX_UNFLUSHED: usize = 16;

pub struct Writer {
    pub(super) state: AppState,
    pub(super) me: UserId,
    pub(super) fixed: Option<ConversationRef>,
    sink: Sink,
    typing: TypingTracker,
    /// Per conversation, the `seq` of the last message this socket has: live copies at or
    /// below it are duplicates, and one beyond the next means a gap to read from the store.
    pub(super) cursors: std::collections::HashMap<ConversationId, i64>,
    /// A user socket's unread badge needs recounting.
    unread_dirty: bool,
    /// Frames queued on the socket since the last flush.
    unflushed: usize,
    /// When the client last spoke (the clock's time), set by the reader.
    last_seen: Arc<AtomicI64>,
    /// Raised by the hub when this socket's queue overflows.
    lag: Arc<Lag>,
    presence: Arc<Presence>,
}

/// Why the writer stopped.
pub(super) enum Stop {
    Close(u16, &'static str),
    /// The peer is gone or stuck: nothing more can be written.
    Gone,
}

impl Writer {
    pub fn new(
        state: AppState,
        me: UserId,
        fixed: Option<ConversationRef>,
        sink: Sink,
        lag: Arc<Lag>,
        presence: Arc<Presence>,
    ) -> Self {
        let ttl = micros(Duration::from_millis(state.config.typing_ttl_ms));
        let now = state.clock.now();
        Self {
            me,
            fixed,
            sink,
            typing: TypingTracker::new(ttl),
            cursors: std::collections::HashMap::new(),
            unread_dirty: fixed.is_none(),
            unflushed: 0,
            last_seen: Arc::new(AtomicI64::new(now)),
            lag,
            presence,
            state,
        }
    }

    pub fn last_seen(&self) -> Arc<AtomicI64> {
        self.last_seen.clone()
    }

    pub async fn run(mut self, mut sub: Subscription, mut out: mpsc::Receiver<Out>, start: Start) {
        let stop = self.serve(&mut sub, &mut out, start).await;
        // Stop taking events first: a lagging socket must not hold its queue while its close
        // frame waits behind a full TCP buffer.
        drop(sub);
        if let Stop::Close(code, reason) = stop {
            close_now(&mut self.sink, code, reason).await;
        }
    }

    /// Queues one frame for the socket; [`Self::flush`] sends what is queued.
    ///
    /// The guarded write is boxed, here and in `flush`: its timer and the lag watch would
    /// otherwise size every idle socket's writer (by some 400 bytes each).
    pub(super) async fn write(&mut self, text: String) -> Result<(), Stop> {
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
        // Boxed, as every store read below: see `flush`.
        if let Err(stop) = Box::pin(self.start_cursors(start)).await {
            return stop;
        }
        let mut shutdown: watch::Receiver<bool> = self.state.shutdown.subscribe();
        let ping_every = micros(Duration::from_secs(self.state.config.ws_ping_secs.max(1)));
        let mut next_ping = self.state.clock.now() + ping_every;
        let mut timer = self.state.clock.timer(next_ping);
        loop {
            if self.unread_dirty && sub.rx.is_empty() {
                self.unread_dirty = false;
                if let Err(stop) = Box::pin(self.write_unread_count()).await {
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
            timer.reset(
                self.typing
                    .next_deadline()
                    .map_or(next_ping, |t| t.min(next_ping)),
            );
            let result = tokio::select! {
                biased;
                () = stopping(&mut shutdown) => return Stop::Close(close::GOING_AWAY, "server shutting down"),
                () = sub.lag.raised() => {
                    metrics::counter!(crate::metrics::SOCKETS_CLOSED_SLOW).increment(1);
                    return Stop::Close(close::TRY_AGAIN_LATER, "too slow; resume with ?after=");
                }
                // Events already queued go before the reader's replies: a pong then vouches
                // that every event published before its ping was written.
                Some(event) = sub.rx.recv() => self.event(&event).await,
                cmd = out.recv() => match cmd {
                    Some(Out::Frame(text)) => self.write(text.into()).await,
                    Some(Out::Close(&(code, reason))) => return Stop::Close(code, reason),
                    None => return Stop::Gone,
                },
                () = timer.fired() => {
                    let now = self.state.clock.now();
                    if now >= next_ping {
                        next_ping = now + ping_every;
                        if let Err(stop) = self.ping(now).await {
                            return stop;
                        }
                    }
                    self.expire_typing(now).await
                }
            };
            if let Err(stop) = result {
                return stop;
            }
        }
    }

    /// A ping, unless the peer has been silent too long (then 1001); renews the presence mark.
    async fn ping(&mut self, now: Micros) -> Result<(), Stop> {
        let idle_limit = micros(Duration::from_secs(self.state.config.ws_idle_secs.max(1)));
        if now - self.last_seen.load(Ordering::Relaxed) >= idle_limit {
            return Err(Stop::Close(close::GOING_AWAY, "no heartbeat"));
        }
        self.presence.renew();
        let sent = Box::pin(tokio::time::timeout(
            WRITE_TIMEOUT,
            self.sink.send(Message::Ping(Default::default())),
        ))
        .await;
        match sent {
            Ok(Ok(())) => Ok(()),
            _ => Err(Stop::Gone),
        }
    }

    async fn write_unread_count(&mut self) -> Result<(), Stop> {
        match self.state.messaging.unread_count(self.me).await {
            Ok(unread_count) => {
                self.write(ServerFrame::UnreadCount { unread_count }.to_json())
                    .await
            }
            // The next change recounts it.
            Err(_) => Ok(()),
        }
    }

    /// A message from someone else reached this socket: it is delivered. `live`: it came as an
    /// event, not from the store, so its latency means something.
    pub(super) fn delivered(&mut self, kind: &Kind, live: bool) {
        let Kind::NewMessage {
            conversation_id,
            message_id,
            sender_id: Some(sender),
            created_at,
            ..
        } = *kind
        else {
            return;
        };
        if sender == self.me {
            return;
        }
        metrics::counter!(crate::metrics::MESSAGES_DELIVERED).increment(1);
        if live {
            let latency = (self.state.clock.now() - created_at).max(0) as f64 / 1e6;
            metrics::histogram!(crate::metrics::SEND_TO_DELIVER).record(latency);
        }
        self.state.delivery.record(Delivered {
            conversation_id,
            recipient: self.me,
            sender,
            message_id,
        });
        self.typing.forget(conversation_id, sender);
        if self.fixed.is_none() {
            self.unread_dirty = true;
        }
    }

    async fn event(&mut self, event: &Arc<Event>) -> Result<(), Stop> {
        match event.kind {
            Kind::NewMessage { .. } if !Box::pin(self.in_order(event)).await? => return Ok(()),
            Kind::Typing {
                conversation_id,
                user_id,
                is_typing,
            } => {
                let now = self.state.clock.now();
                self.typing.saw(conversation_id, user_id, is_typing, now);
            }
            Kind::ReadReceipt { reader_id, .. } if reader_id == self.me && self.fixed.is_none() => {
                self.unread_dirty = true;
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

    async fn expire_typing(&mut self, now: Micros) -> Result<(), Stop> {
        for (conversation, user) in self.typing.expire(now) {
            self.write(route::typing(conversation, user, false).to_json())
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

async fn stopping(rx: &mut watch::Receiver<bool>) {
    // A closed channel means the state is gone: stop as well.
    let _ = rx.wait_for(|stopping| *stopping).await;
}
