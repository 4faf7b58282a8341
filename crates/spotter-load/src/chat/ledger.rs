//! The accounting of one run: per-message flags (sent, acknowledged, delivered, echoed,
//! failed) and write times shared by every task, the message-id scheme that lets a receiver
//! find a message's scheduled time, and the [`Tally`] each task keeps of latencies, duplicates
//! and errors. Loss and duplication are decided here, from these flags.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::SocketKind;
use crate::hist::Hist;

pub(super) const SENT: u8 = 1;
pub(super) const ACKED: u8 = 2;
pub(super) const DELIVERED: u8 = 4;
pub(super) const ECHOED: u8 = 8;
pub(super) const FAILED: u8 = 16;

/// One participant's messages.
pub(super) struct Sender {
    /// Seconds after `t0` of message 0.
    pub(super) offset: f64,
    pub(super) flags: Vec<AtomicU8>,
    /// Microseconds after `t0` at which message k was actually handed to the network (+1, so
    /// that 0 means not yet).
    pub(super) written_us: Vec<AtomicU64>,
}

/// What every task of one run shares.
pub(super) struct Run {
    pub(super) t0: Instant,
    pub(super) interval: f64,
    pub(super) run_id: String,
    /// `senders[pair * 2 + side]`; side 0 is the trainer.
    pub(super) senders: Vec<Sender>,
    pub(super) conversations: Vec<i64>,
    pub(super) content: String,
    pub(super) socket: SocketKind,
    /// Set at the end of the grace period: later acks are not counted.
    pub(super) closed: AtomicBool,
}

impl Run {
    pub(super) fn sender(&self, pair: usize, side: usize) -> &Sender {
        &self.senders[pair * 2 + side]
    }

    pub(super) fn scheduled(&self, pair: usize, side: usize, k: u32) -> Instant {
        let s = self.sender(pair, side).offset + f64::from(k) * self.interval;
        self.t0 + Duration::from_secs_f64(s)
    }

    pub(super) fn cmid(&self, pair: usize, side: usize, k: u32) -> String {
        format!("{}.{pair}.{side}.{k}", self.run_id)
    }

    /// `(pair, side, k)` of one of this run's `client_message_id`s.
    pub(super) fn parse(&self, cmid: &str) -> Option<(usize, usize, u32)> {
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

    pub(super) fn mark_written(&self, pair: usize, side: usize, k: u32, now: Instant) {
        let us = now.saturating_duration_since(self.t0).as_micros() as u64 + 1;
        self.sender(pair, side).written_us[k as usize].store(us, Ordering::Relaxed);
        self.sender(pair, side).flags[k as usize].fetch_or(SENT, Ordering::Relaxed);
    }

    pub(super) fn written(&self, pair: usize, side: usize, k: u32) -> Option<Instant> {
        let us = self.sender(pair, side).written_us[k as usize].load(Ordering::Relaxed);
        (us > 0).then(|| self.t0 + Duration::from_micros(us - 1))
    }

    pub(super) fn send_frame(&self, pair: usize, side: usize, k: u32) -> String {
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
pub(super) struct Tally {
    pub(super) latency: Hist,
    pub(super) from_write: Hist,
    pub(super) ack: Hist,
    pub(super) lag: Hist,
    pub(super) delivered: u64,
    pub(super) duplicated: u64,
    pub(super) echo_duplicated: u64,
    pub(super) errors: BTreeMap<String, u64>,
    pub(super) closed: BTreeMap<String, u64>,
    pub(super) frames: u64,
    pub(super) late_acks: u64,
    pub(super) last_delivery: Option<Instant>,
}

impl Tally {
    pub(super) fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }

    pub(super) fn merge(&mut self, o: Tally) {
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

/// Every acknowledged message delivered and every send answered.
pub(super) fn settled(run: &Run) -> bool {
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
pub(super) fn acked_delivered(run: &Run) -> bool {
    run.senders.iter().all(|s| {
        s.flags.iter().all(|f| {
            let f = f.load(Ordering::Relaxed);
            f & ACKED == 0 || f & (DELIVERED | ECHOED) == DELIVERED | ECHOED
        })
    })
}
