//! What happened, as the domain tells it after each commit. The domain only publishes; `bus`
//! delivers each event to the sockets that should see it (as the contract's frames), on this
//! node and, with Redis, on every node.

use std::sync::Arc;

use crate::clock::Micros;
use crate::domain::model::{
    Broadcast, ConversationId, ConversationRef, Message, MessageId, Scheduled, UserId,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A message was stored: to both participants, the sender too.
    MessageSent {
        conversation: ConversationRef,
        message: Message,
    },
    /// `reader` read the other party's messages.
    Read {
        conversation: ConversationRef,
        reader: UserId,
        at: Micros,
    },
    /// `typist` started or stopped typing: never shown to the typist.
    Typing {
        conversation: ConversationRef,
        typist: UserId,
        is_typing: bool,
    },
    /// A live socket of `recipient` has `sender`'s messages up to `up_to`: for the sender.
    Delivered {
        conversation: ConversationId,
        recipient: UserId,
        sender: UserId,
        up_to: MessageId,
        at: Micros,
    },
    /// The conversation was archived (its trainee removed).
    Archived { conversation: ConversationRef },
    /// A message's text was edited: to both participants, the editor too.
    Edited {
        conversation: ConversationRef,
        message_id: MessageId,
        content: String,
        edited_at: Micros,
    },
    /// A message was deleted (it stays as a tombstone): to both participants, the author too.
    Deleted {
        conversation: ConversationRef,
        message_id: MessageId,
    },
    /// A broadcast was created, cancelled, or moved on: to its trainer.
    BroadcastChanged(Broadcast),
    /// A scheduled message was created, changed, cancelled, sent or failed: to its author.
    ScheduledChanged(Scheduled),
}

/// Where the domain sends its events. Publishing never waits: a listener that is away catches
/// up from the store.
pub trait Publish: Send + Sync {
    fn publish(&self, event: Event);
}

pub type Publisher = Arc<dyn Publish>;

/// Keeps what was published, for the domain's own tests.
#[cfg(test)]
#[derive(Default)]
pub struct Recorded(pub std::sync::Mutex<Vec<Event>>);

#[cfg(test)]
impl Publish for Recorded {
    fn publish(&self, event: Event) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event);
    }
}
