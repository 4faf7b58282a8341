//! The dispatcher of work that is due later: scheduled messages and broadcasts (`domain::
//! coaching`). Every node runs one; claims are leased, so nodes share the work and a node that
//! dies leaves its claims to run out for another to take (and exactly once holds regardless:
//! each such send carries a key of its own, see `domain::coaching::broadcasts`).
//!
//! Each loop does what is due, then sleeps until the soonest thing the database knows of, or
//! [`POLL`] at most (another node may have scheduled something sooner), or until this node
//! schedules something (a wake). A message due while every node was down is simply due at
//! start-up. Everything runs on the state's clock: tests move a manual one.

use std::time::Duration;

use tokio::sync::watch;

use crate::clock::{Clock, micros};
use crate::domain::coaching::{Coaching, Pace};
use crate::store::Store;

/// The longest a node goes without looking for due work: the "within a second" of a message
/// scheduled on another node.
pub const POLL: Duration = Duration::from_secs(1);
/// How long a claim is the claimer's: far longer than a batch or a chunk takes.
pub const LEASE: Duration = Duration::from_secs(15);

pub struct Dispatcher {
    pub coaching: Coaching,
    pub store: Store,
    pub clock: Clock,
    /// How fast a broadcast goes.
    pub pace: Pace,
}

/// Which of the two kinds of work a loop does.
#[derive(Clone, Copy)]
enum Kind {
    Scheduled,
    Broadcasts,
}

impl Dispatcher {
    /// Until the process ends: the scheduled-message loop and the broadcast loop, side by side
    /// (a long broadcast does not hold up a message due meanwhile).
    pub async fn run(self) {
        tokio::join!(
            self.looping(Kind::Scheduled),
            self.looping(Kind::Broadcasts)
        );
    }

    /// Does what is due of `kind`; whether anything was.
    async fn work(&self, kind: Kind) -> crate::error::Result<bool> {
        let mut any = false;
        match kind {
            Kind::Scheduled => loop {
                let n = self.coaching.send_due(LEASE).await?;
                any |= n > 0;
                if n < crate::domain::coaching::BATCH {
                    return Ok(any);
                }
            },
            Kind::Broadcasts => {
                while self.coaching.fan_out_next(LEASE, self.pace).await? {
                    any = true;
                }
                Ok(any)
            }
        }
    }

    /// When the next work of `kind` may be claimed.
    async fn next(&self, kind: Kind) -> crate::store::Result<Option<crate::clock::Micros>> {
        match kind {
            Kind::Scheduled => self.store.next_scheduled().await,
            Kind::Broadcasts => self.store.next_broadcast().await,
        }
    }

    async fn looping(&self, kind: Kind) {
        let what = match kind {
            Kind::Scheduled => "scheduled messages",
            Kind::Broadcasts => "broadcasts",
        };
        let mut wakes = self.coaching.wakes();
        loop {
            wakes.mark_unchanged();
            let failed = self.work(kind).await.err();
            if let Some(e) = &failed {
                tracing::warn!(error = %e, "dispatch: {what}");
            }
            let now = self.clock.now();
            let poll = now + micros(POLL);
            let at = match self.next(kind).await {
                // Fell due while the work above ran (the clock moved): at once. Only work
                // that can be claimed is ever due (a lease counts until it ends).
                Ok(Some(due)) if due <= now && failed.is_none() => continue,
                Ok(Some(due)) if due <= now => poll,
                Ok(Some(due)) => due.min(poll),
                Ok(None) => poll,
                Err(e) => {
                    tracing::warn!(error = %e, "dispatch: reading what is due");
                    poll
                }
            };
            tokio::select! {
                () = self.clock.sleep_until(at) => {}
                _ = changed(&mut wakes) => {}
            }
        }
    }
}

async fn changed(rx: &mut watch::Receiver<u64>) {
    if rx.changed().await.is_err() {
        // The coaching service is gone: nothing will wake us but the clock.
        std::future::pending::<()>().await;
    }
}
