//! Retention (issue 16): with `SPOTTER_RETENTION_DAYS` set, messages older than that become
//! tombstones, as a deletion leaves them (their place, time and read state kept, so paging,
//! resume and counts stay right; text and image gone, the files to the orphan sweeper). Every
//! node runs the purge; batches are short transactions, so sends go on between them, and two
//! nodes purging at once only share the work (a message cleared is skipped by the next).

use std::time::Duration;

use crate::clock::{Clock, micros};
use crate::store::Store;

/// Messages cleared a transaction.
pub const BATCH: i64 = 1_000;

pub struct Purger {
    pub store: Store,
    pub clock: Clock,
    /// How long messages are kept.
    pub keep: Duration,
}

impl Purger {
    /// Until the process ends: a purge every `every` on the clock.
    pub async fn run(self, every: Duration) {
        loop {
            match self.purge().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "retention: old messages cleared"),
                Err(e) => tracing::warn!(error = %e, "retention: purging"),
            }
            self.clock.sleep(every).await;
        }
    }

    /// Clears every message older than the retention period, a batch at a time; how many.
    pub async fn purge(&self) -> anyhow::Result<u64> {
        let mut total = 0;
        loop {
            let now = self.clock.now();
            let cutoff = now - micros(self.keep);
            let n = self.store.purge_messages(cutoff, BATCH, now).await?;
            total += n;
            metrics::counter!(crate::metrics::MESSAGES_PURGED).increment(n);
            if n < BATCH as u64 {
                return Ok(total);
            }
            // Let waiting sends take the writer before the next batch.
            tokio::task::yield_now().await;
        }
    }
}
