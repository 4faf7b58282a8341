//! Delivered receipts: when a socket of the recipient has written a message, the message is
//! marked delivered and the sender told. Marks are batched (one write for everything that
//! arrived meanwhile), so a busy node writes receipts in bulk, not one round trip per message;
//! on SQLite they share the writer's next transaction with whatever else is being written.

use std::collections::{HashMap, HashSet};

use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::domain::events::{Event, Publisher};
use crate::domain::model::{ConversationId, MessageId, UserId};
use crate::store::{DeliveryMark, Store};

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
    /// The queue, and the worker that empties it (run it with `tokio::spawn`).
    pub fn start(store: Store, events: Publisher, clock: Clock) -> Self {
        let (tx, rx) = mpsc::channel(65_536);
        tokio::spawn(run(store, events, clock, rx));
        Self(tx)
    }

    /// Records a delivery; if the writer is far behind, the receipt is skipped (the message
    /// itself is unaffected, and a later delivery in the conversation covers it).
    pub fn record(&self, d: Delivered) {
        let _ = self.0.try_send(d);
    }
}

/// Until the queue closes: marks batches delivered and publishes the receipts.
async fn run(store: Store, events: Publisher, clock: Clock, mut rx: mpsc::Receiver<Delivered>) {
    let mut batch = Vec::with_capacity(1024);
    while rx.recv_many(&mut batch, 1024).await > 0 {
        // Per (conversation, recipient), the newest message delivered covers the older ones.
        let mut latest: HashMap<(ConversationId, UserId), Delivered> = HashMap::new();
        for d in batch.drain(..) {
            let e = latest.entry((d.conversation_id, d.recipient)).or_insert(d);
            if d.message_id > e.message_id {
                *e = d;
            }
        }
        let marks: Vec<Delivered> = latest.into_values().collect();
        if let Err(e) = write(&store, &events, &clock, marks).await {
            tracing::warn!(error = %e, "marking messages delivered");
        }
    }
}

async fn write(
    store: &Store,
    events: &Publisher,
    clock: &Clock,
    marks: Vec<Delivered>,
) -> crate::store::Result<()> {
    let now = clock.now();
    let rows = marks
        .iter()
        .map(|d| DeliveryMark {
            conversation: d.conversation_id,
            recipient: d.recipient,
            up_to: d.message_id,
        })
        .collect();
    let marked = store.mark_delivered(rows, now).await?;
    // A mark changed something if a message of its conversation from someone other than its
    // recipient was marked.
    let mut senders: HashMap<ConversationId, HashSet<Option<UserId>>> = HashMap::new();
    for (c, sender) in marked {
        senders.entry(c).or_default().insert(sender);
    }
    for d in marks {
        let changed = senders
            .get(&d.conversation_id)
            .is_some_and(|s| s.iter().any(|sender| *sender != Some(d.recipient)));
        if changed {
            events.publish(Event::Delivered {
                conversation: d.conversation_id,
                recipient: d.recipient,
                sender: d.sender,
                up_to: d.message_id,
                at: now,
            });
        }
    }
    Ok(())
}
