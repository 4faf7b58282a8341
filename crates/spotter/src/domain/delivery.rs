//! Delivered receipts: when a socket of the recipient has written a message, the message is
//! marked delivered and the sender told. Marks are batched (one transaction for everything that
//! arrived meanwhile), so a busy node writes receipts in bulk, not one round trip per message;
//! on SQLite inside the group commit's next transaction.

use std::collections::{HashMap, HashSet};

use tokio::sync::mpsc;

use crate::clock::{Micros, now_micros};
use crate::domain::events;
use crate::domain::model::{ConversationId, MessageId, UserId};
use crate::state::AppState;
use crate::store::messages;

/// A message that reached a socket of its recipient.
#[derive(Debug, Clone, Copy)]
pub struct Delivered {
    pub conversation_id: ConversationId,
    pub recipient: UserId,
    pub sender: UserId,
    pub message_id: MessageId,
}

/// The queue in front of the batching writer.
#[derive(Clone)]
pub struct DeliveryQueue(mpsc::Sender<Delivered>);

impl DeliveryQueue {
    pub fn new() -> (Self, mpsc::Receiver<Delivered>) {
        let (tx, rx) = mpsc::channel(65_536);
        (Self(tx), rx)
    }

    /// Records a delivery; if the writer is far behind, the receipt is skipped (the message
    /// itself is unaffected, and a later delivery in the conversation covers it).
    pub fn record(&self, d: Delivered) {
        let _ = self.0.try_send(d);
    }
}

/// Runs until the queue closes: marks batches delivered and publishes the receipts.
pub async fn run(state: AppState, mut rx: mpsc::Receiver<Delivered>) {
    let mut batch = Vec::with_capacity(1024);
    while rx.recv_many(&mut batch, 1024).await > 0 {
        let mut latest: HashMap<(ConversationId, UserId), Delivered> = HashMap::new();
        for d in batch.drain(..) {
            let e = latest.entry((d.conversation_id, d.recipient)).or_insert(d);
            if d.message_id > e.message_id {
                *e = d;
            }
        }
        if let Err(e) = write(&state, latest.into_values().collect()).await {
            tracing::warn!(error = %e, "marking messages delivered");
        }
    }
}

async fn write(state: &AppState, marks: Vec<Delivered>) -> anyhow::Result<()> {
    let now = now_micros();
    let rows: Vec<_> = marks
        .iter()
        .map(|d| (d.conversation_id, d.recipient, d.message_id))
        .collect();
    // SQLite: the marks ride in the group commit's next transaction (no fsync of their own).
    // PostgreSQL: a transaction of their own, 128 marks a statement.
    let marked = if state.db.direct().is_some() {
        state.committer.mark_delivered(rows, now).await?
    } else {
        let mut w = state.db.begin_write().await?;
        let marked = messages::pg::mark_delivered_many(&mut w.tx, &rows, now).await?;
        w.commit().await?;
        marked
    };
    // A mark changed something if a message of its conversation from someone other than its
    // recipient was marked.
    let mut senders: HashMap<ConversationId, HashSet<Option<UserId>>> = HashMap::new();
    for (c, sender) in marked {
        senders.entry(c).or_default().insert(sender);
    }
    let changed = marks.into_iter().filter(|d| {
        senders
            .get(&d.conversation_id)
            .is_some_and(|s| s.iter().any(|sender| *sender != Some(d.recipient)))
    });
    publish(state, changed, now);
    Ok(())
}

fn publish(state: &AppState, changed: impl Iterator<Item = Delivered>, now: Micros) {
    for d in changed {
        state.bus.publish(events::delivery_receipt(
            d.conversation_id,
            d.recipient,
            d.sender,
            d.message_id,
            now,
        ));
    }
}
