//! The sweeper of orphaned uploads (issue 13). An image send records its two files' keys before
//! it stores them, and the transaction that appends its message forgets them
//! (`domain::messaging`): a key still recorded after the grace period names files whose
//! message never came, because the process died or the request was dropped between the upload
//! and the commit (a refused send removes its files and record itself).
//!
//! Each tick the sweeper claims such keys in bounded batches, with a lease, so nodes sweep at
//! once without taking the same key, and a sweeper that dies mid-batch leaves its keys to come
//! back when the lease ends. A key that a message names is only forgotten; any other has its
//! file deleted (an absent file counts as deleted, so two sweepers racing past a lease do no
//! harm), then is forgotten. A file that cannot be deleted (the bucket is away) keeps its key,
//! tried again once the lease ends. Everything runs on the state's clock.

use std::time::Duration;

use futures_util::StreamExt as _;

use crate::clock::{Clock, micros};
use crate::media::Media;
use crate::store::{ClaimedUpload, Store};

/// Keys one claim takes at most.
const BATCH: usize = 200;
/// Claims in one tick at most, when each finds a full batch.
const BATCHES_PER_TICK: usize = 10;
/// Files deleted at once (S3 round trips overlap; a folder does not mind).
const DELETING: usize = 8;
/// How long a claim is this sweeper's: far longer than a batch of deletes takes.
const LEASE: Duration = Duration::from_secs(600);

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Files deleted (keys no message names).
    pub removed: u64,
    /// Keys a message names: forgotten, their files kept.
    pub kept: u64,
    /// Files that could not be deleted: their keys stay claimed until the lease ends.
    pub failed: u64,
}

/// The sweeper of one node.
pub struct Sweeper {
    store: Store,
    media: Media,
    clock: Clock,
    /// How old a key must be before it counts as an orphan.
    grace: Duration,
}

impl Sweeper {
    pub fn new(store: Store, media: Media, clock: Clock, grace: Duration) -> Self {
        Self {
            store,
            media,
            clock,
            grace,
        }
    }

    /// Until the process ends: a sweep every `every` on the clock.
    pub async fn run(self, every: Duration) {
        loop {
            self.clock.sleep(every).await;
            match self.sweep().await {
                Ok(s) if s == Swept::default() => {}
                Ok(s) => {
                    tracing::info!(s.removed, s.kept, s.failed, "media: orphaned uploads swept")
                }
                Err(e) => tracing::warn!(error = %e, "media: sweeping orphaned uploads"),
            }
        }
    }

    /// One sweep: batches of keys older than the grace period, until a batch comes back short
    /// (or [`BATCHES_PER_TICK`], the rest waiting for the next tick).
    pub async fn sweep(&self) -> anyhow::Result<Swept> {
        let mut total = Swept::default();
        for _ in 0..BATCHES_PER_TICK {
            let now = self.clock.now();
            let claimed = self
                .store
                .claim_uploads(
                    now,
                    now - micros(self.grace),
                    now + micros(LEASE),
                    BATCH as i64,
                )
                .await?;
            let full = claimed.len() >= BATCH;
            let s = self.settle(claimed).await?;
            total.removed += s.removed;
            total.kept += s.kept;
            total.failed += s.failed;
            if !full {
                break;
            }
        }
        Ok(total)
    }

    /// Deletes the files of claimed keys no message names, then forgets every key but those
    /// whose file stayed.
    async fn settle(&self, claimed: Vec<ClaimedUpload>) -> anyhow::Result<Swept> {
        let mut swept = Swept::default();
        let (kept, orphans): (Vec<_>, Vec<_>) = claimed.into_iter().partition(|c| c.referenced);
        swept.kept = kept.len() as u64;
        let mut done: Vec<String> = kept.into_iter().map(|c| c.key).collect();
        let mut deletes = futures_util::stream::iter(orphans)
            .map(|c| async move {
                let deleted = self.media.delete(&c.key).await;
                (c.key, deleted)
            })
            .buffer_unordered(DELETING);
        while let Some((key, deleted)) = deletes.next().await {
            match deleted {
                Ok(()) => {
                    swept.removed += 1;
                    done.push(key);
                }
                Err(e) => {
                    tracing::warn!(
                        key,
                        error = format!("{e:#}"),
                        "media: could not remove an orphaned upload"
                    );
                    swept.failed += 1;
                }
            }
        }
        if !done.is_empty() {
            self.store.forget_uploads(done).await?;
        }
        metrics::counter!(crate::metrics::MEDIA_ORPHANS_REMOVED).increment(swept.removed);
        Ok(swept)
    }
}
