//! Replay then live, without a gap or a duplicate. The hub subscription is made before the
//! store is read ([`super::handshake`]), so a message committed meanwhile is either in the
//! replay or queued on the subscription (or both: then its position is at most the cursor, and
//! it is skipped). Live events carry their position (`seq`) in the conversation: one beyond the
//! next means a gap, and the missing messages, committed already (positions commit in order),
//! are read from the store before the event is written.

use super::close;
use super::writer::{Stop, Writer};
use crate::bus::{Event, Kind, route};
use crate::domain::model::{ConversationId, MessageId};
use crate::store::Range;

/// Replay reads the store in pages of this many messages.
const REPLAY_PAGE: i64 = 100;

/// Where a socket's cursors start.
pub enum Start {
    /// After this message (a conversation socket's `?after=`).
    After(MessageId),
    /// At these conversations' message counts, read before subscribing.
    Ends(Vec<(ConversationId, i64)>),
}

fn failed<E>(_: E) -> Stop {
    Stop::Close(close::INTERNAL, "try again")
}

impl Writer {
    /// Where this socket starts: after a resume's replay, or at each conversation's end as read
    /// before subscribing, having written what was committed since.
    pub(super) async fn start_cursors(&mut self, start: Start) -> Result<(), Stop> {
        let store = self.state.store.clone();
        match start {
            Start::After(after) => {
                let Some(conv) = self.fixed else {
                    return Ok(());
                };
                let seq = store.seq_of(conv.id, after).await.map_err(failed)?;
                self.cursors.insert(conv.id, seq);
                self.fill(conv.id, i64::MAX).await
            }
            Start::Ends(ends) => {
                self.cursors.extend(ends);
                let now = match self.fixed {
                    Some(c) => vec![(c.id, store.message_count(c.id).await.map_err(failed)?)],
                    None => store.message_counts(self.me).await.map_err(failed)?,
                };
                for (conv, count) in now {
                    if count > self.cursors.get(&conv).copied().unwrap_or(0) {
                        self.fill(conv, i64::MAX).await?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Writes, in order, the stored messages of `conversation` after this socket's cursor, up to
    /// position `up_to`.
    async fn fill(&mut self, conversation: ConversationId, up_to: i64) -> Result<(), Stop> {
        loop {
            let from = self.cursors.get(&conversation).copied().unwrap_or(0);
            if from >= up_to {
                return Ok(());
            }
            let range = Range::AfterSeq {
                seq: from,
                limit: REPLAY_PAGE,
            };
            let page = self
                .state
                .store
                .messages(conversation, range)
                .await
                .map_err(failed)?;
            for m in page.iter().filter(|m| m.seq <= up_to) {
                let kind = Kind::NewMessage {
                    conversation_id: conversation,
                    message_id: m.id,
                    seq: m.seq,
                    sender_id: m.sender_id(),
                    created_at: m.created_at,
                };
                self.delivered(&kind, false);
                self.write(route::new_message(m, self.state.bus.urls()))
                    .await?;
                self.cursors.insert(conversation, m.seq);
            }
            if (page.len() as i64) < REPLAY_PAGE {
                return Ok(());
            }
        }
    }

    /// Whether a live `new_message` event is the next one to write: a duplicate is skipped, a
    /// gap filled from the store first (which may write the event's message itself).
    pub(super) async fn in_order(&mut self, event: &Event) -> Result<bool, Stop> {
        let Kind::NewMessage {
            conversation_id,
            seq,
            ..
        } = event.kind
        else {
            return Ok(true);
        };
        // A conversation this socket had no cursor for (started or resumed since it connected)
        // begins at this event.
        let cursor = *self.cursors.entry(conversation_id).or_insert(seq - 1);
        if seq <= cursor {
            return Ok(false);
        }
        if seq > cursor + 1 {
            self.fill(conversation_id, seq).await?;
            if self
                .cursors
                .get(&conversation_id)
                .is_some_and(|c| *c >= seq)
            {
                return Ok(false);
            }
            // The store did not show the gap (it always should: positions commit in order).
            // Never drop what we hold: write this event as it came.
            tracing::warn!(%conversation_id, seq, "gap not found in the store");
        }
        self.delivered(&event.kind, true);
        self.cursors.insert(conversation_id, seq);
        Ok(true)
    }
}
