//! The scenario's options: how messages are sent ([`Via`]), which socket each participant holds
//! ([`SocketKind`]), and [`ChatOpts`] with its limits. Kept apart so the command line and the
//! integration test can see the knobs without reading the machinery.

use std::time::Duration;

use anyhow::bail;
use serde::Serialize;

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
