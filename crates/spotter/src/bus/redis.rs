//! The cross-node link: events go out on one Redis pub/sub channel and come back in on every
//! node, each dropping its own. Redis is an accelerator, not the source of truth: when it is
//! away, publishing drops events (counted in logs), the subscriber reconnects with backoff, and
//! clients recover what they missed by resuming from the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Event, Hub};
use crate::clock::Clock;
use crate::domain::model::{ConversationId, UserId};

/// Events waiting for Redis; past this, new ones are dropped rather than held in memory.
const OUTBOX: usize = 16_384;

#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    node: &'a str,
    event: Event,
}

#[derive(Clone)]
pub struct RedisBus {
    client: ::redis::Client,
    channel: Arc<str>,
    /// Commands (presence, the rate-limit bucket), on a connection of their own, made on first
    /// use.
    commands: Arc<tokio::sync::OnceCell<::redis::aio::ConnectionManager>>,
    /// After a failed connect, no new attempt until then: callers fail over at once instead of
    /// each waiting out a connect timeout while Redis is away.
    retry_after: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    tx: mpsc::Sender<Arc<Event>>,
    connected: Arc<AtomicBool>,
    /// Counts successful subscriptions: a reconnect shows as a new generation.
    generation: Arc<AtomicU64>,
    clock: Clock,
}

fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(6));
    let jitter = rand::random::<u64>() % (base / 2 + 1);
    Duration::from_millis(base.min(5_000) + jitter)
}

impl RedisBus {
    pub fn start(url: &str, channel: &str, hub: Arc<Hub>, clock: Clock) -> anyhow::Result<Self> {
        let client = ::redis::Client::open(url)?;
        let channel: Arc<str> = Arc::from(channel);
        let node: Arc<str> = Arc::from(uuid::Uuid::new_v4().simple().to_string());
        let (tx, rx) = mpsc::channel(OUTBOX);
        let connected = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        tokio::spawn(publisher(client.clone(), channel.clone(), node.clone(), rx));
        let link = Link {
            connected: connected.clone(),
            generation: generation.clone(),
            clock: clock.clone(),
        };
        tokio::spawn(subscriber(client.clone(), channel.clone(), node, hub, link));
        Ok(Self {
            client,
            channel,
            commands: Arc::new(tokio::sync::OnceCell::new()),
            retry_after: Arc::new(std::sync::Mutex::new(None)),
            tx,
            connected,
            generation,
            clock,
        })
    }

    pub fn publish(&self, event: Arc<Event>) {
        if self.tx.try_send(event).is_err() {
            metrics::counter!(crate::metrics::BUS_DROPPED).increment(1);
            tracing::warn!("redis outbox full: event not sent to other nodes");
        }
    }

    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    async fn commands(&self) -> Option<::redis::aio::ConnectionManager> {
        let connect = || async {
            tokio::time::timeout(
                Duration::from_secs(2),
                ::redis::aio::ConnectionManager::new(self.client.clone()),
            )
            .await
            .map_err(|_| ::redis::RedisError::from((::redis::ErrorKind::Io, "connect timed out")))?
        };
        if let Some(c) = self.commands.get() {
            return Some(c.clone());
        }
        let lock = |m: &std::sync::Mutex<Option<std::time::Instant>>| {
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if lock(&self.retry_after).is_some_and(|t| std::time::Instant::now() < t) {
            return None;
        }
        match self.commands.get_or_try_init(connect).await {
            Ok(c) => Some(c.clone()),
            Err(_) => {
                *self
                    .retry_after
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(std::time::Instant::now() + Duration::from_secs(1));
                None
            }
        }
    }

    /// Takes one slot of `user`'s bucket, shared by every node (GCRA, atomically in Redis):
    /// `None` if allowed, else the microseconds to wait. `now` is Spotter's clock; a slot comes
    /// back every `interval` microseconds, up to `burst` at once.
    pub async fn take_slot(
        &self,
        user: UserId,
        now: crate::clock::Micros,
        interval: i64,
        burst: i64,
    ) -> Result<Option<i64>, ::redis::RedisError> {
        static GCRA: std::sync::LazyLock<::redis::Script> = std::sync::LazyLock::new(|| {
            ::redis::Script::new(
                r"
                local now = tonumber(ARGV[1])
                local interval = tonumber(ARGV[2])
                local burst = tonumber(ARGV[3])
                local tat = tonumber(redis.call('GET', KEYS[1]) or now)
                if tat < now then tat = now end
                local next_tat = tat + interval
                local wait = next_tat - burst * interval - now
                if wait > 0 then return wait end
                redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil((next_tat - now) / 1000) + 1000)
                return 0
                ",
            )
        });
        let mut c = self.commands().await.ok_or_else(|| {
            ::redis::RedisError::from((::redis::ErrorKind::Io, "redis unreachable"))
        })?;
        let key = format!("{}:bucket:{user}", self.channel);
        let wait: i64 = tokio::time::timeout(
            Duration::from_millis(500),
            GCRA.key(key)
                .arg(now)
                .arg(interval)
                .arg(burst)
                .invoke_async(&mut c),
        )
        .await
        .map_err(|_| ::redis::RedisError::from((::redis::ErrorKind::Io, "timed out")))??;
        Ok((wait > 0).then_some(wait))
    }

    fn reading_key(&self, user: UserId, conversation: ConversationId) -> String {
        format!("{}:reading:{user}:{conversation}", self.channel)
    }

    /// Notes (until `until_ms`, unix ms) or forgets that socket `socket` shows `conversation` to
    /// `user`: what stops a push to someone already reading, whichever node holds the socket.
    pub async fn set_reading(
        &self,
        user: UserId,
        conversation: ConversationId,
        socket: &str,
        until_ms: Option<i64>,
    ) {
        let Some(mut c) = self.commands().await else {
            return;
        };
        let key = self.reading_key(user, conversation);
        let mut pipe = ::redis::pipe();
        match until_ms {
            Some(until) => pipe
                .cmd("ZADD")
                .arg(&key)
                .arg(until)
                .arg(socket)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(120_000)
                .ignore(),
            None => pipe.cmd("ZREM").arg(&key).arg(socket).ignore(),
        };
        if let Err(e) = pipe.query_async::<()>(&mut c).await {
            tracing::debug!(error = %e, "redis presence update failed");
        }
    }

    /// Whether a live socket on any node shows `conversation` to `user`.
    pub async fn is_reading(&self, user: UserId, conversation: ConversationId) -> bool {
        let Some(mut c) = self.commands().await else {
            return false;
        };
        let now_ms = self.clock.now() / 1000;
        ::redis::cmd("ZCOUNT")
            .arg(self.reading_key(user, conversation))
            .arg(now_ms)
            .arg("+inf")
            .query_async::<i64>(&mut c)
            .await
            .is_ok_and(|n| n > 0)
    }
}

/// The subscriber's state, as the rest of the node sees it.
struct Link {
    connected: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    clock: Clock,
}

async fn publisher(
    client: ::redis::Client,
    channel: Arc<str>,
    node: Arc<str>,
    mut rx: mpsc::Receiver<Arc<Event>>,
) {
    let mut attempt = 0;
    let mut conn = loop {
        match ::redis::aio::ConnectionManager::new(client.clone()).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(error = %e, "redis publisher: connecting");
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    };
    let mut batch = Vec::with_capacity(256);
    while rx.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = ::redis::pipe();
        for event in batch.drain(..) {
            let env = Envelope {
                node: &node,
                event: (*event).clone(),
            };
            match serde_json::to_string(&env) {
                Ok(payload) => {
                    pipe.cmd("PUBLISH").arg(&*channel).arg(payload).ignore();
                }
                Err(e) => tracing::error!(error = %e, "serialising an event"),
            }
        }
        // The connection manager reconnects by itself; a batch that fails is lost to the other
        // nodes only (their clients resume from the store).
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "redis publish failed");
        }
    }
}

async fn subscriber(
    client: ::redis::Client,
    channel: Arc<str>,
    node: Arc<str>,
    hub: Arc<Hub>,
    link: Link,
) {
    let mut attempt = 0;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(&*channel).await {
                    tracing::warn!(error = %e, "redis subscribe failed");
                } else {
                    link.connected.store(true, Ordering::Relaxed);
                    link.generation.fetch_add(1, Ordering::Relaxed);
                    if attempt > 0 {
                        tracing::info!("redis subscriber reconnected");
                    }
                    attempt = 0;
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(bytes) = msg.get_payload::<Vec<u8>>() else {
                            continue;
                        };
                        match serde_json::from_slice::<Envelope<'_>>(&bytes) {
                            Ok(env) if env.node != &*node => {
                                let lag =
                                    (link.clock.now() - env.event.published_at).max(0) as f64 / 1e6;
                                metrics::histogram!(crate::metrics::BUS_LAG).record(lag);
                                hub.dispatch(&Arc::new(env.event));
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "undecodable event on redis"),
                        }
                    }
                    tracing::warn!("redis subscription lost; reconnecting");
                }
            }
            Err(e) => tracing::warn!(error = %e, "redis subscriber: connecting"),
        }
        link.connected.store(false, Ordering::Relaxed);
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}
