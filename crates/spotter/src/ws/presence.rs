//! Which conversation a socket shows its user, so that no push is sent for it meanwhile: a
//! conversation socket always shows its own; a user socket shows the one its `focus` frames
//! name. This node's hub counts them; with Redis, every node sees them (with an expiry, each
//! ping renews it), since the push worker may run on another node.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::domain::model::{ConversationId, UserId};
use crate::state::AppState;

/// Kept small: every socket holds one.
pub struct Presence {
    state: AppState,
    me: UserId,
    /// This socket's name in the cross-node presence set.
    socket_id: Arc<str>,
    ttl: Duration,
    /// A conversation socket's conversation.
    fixed: Option<ConversationId>,
    /// A user socket's focus (0: none).
    focus: AtomicI64,
}

impl Presence {
    pub fn new(state: AppState, me: UserId, fixed: Option<ConversationId>, ttl: Duration) -> Self {
        let socket_id: Arc<str> = Arc::from(uuid::Uuid::new_v4().simple().to_string());
        if let Some(c) = fixed {
            state.bus.set_reading(me, c, &socket_id, Some(ttl));
        }
        Self {
            state,
            me,
            socket_id,
            ttl,
            fixed,
            focus: AtomicI64::new(0),
        }
    }

    /// The conversation shown now, if any.
    pub fn shown(&self) -> Option<ConversationId> {
        self.fixed.or_else(|| {
            let id = self.focus.load(Ordering::Acquire);
            (id != 0).then_some(ConversationId(id))
        })
    }

    /// Renews the cross-node mark before it expires (with each ping).
    pub fn renew(&self) {
        if let Some(c) = self.shown() {
            self.state
                .bus
                .set_reading(self.me, c, &self.socket_id, Some(self.ttl));
        }
    }

    /// A user socket now shows `next` (`None`: nothing). A conversation socket's is fixed.
    pub fn focus(&self, next: Option<ConversationId>) {
        if self.fixed.is_some() {
            return;
        }
        let next_raw = next.map_or(0, ConversationId::get);
        let previous = self.focus.swap(next_raw, Ordering::AcqRel);
        if previous == next_raw {
            return;
        }
        let hub = self.state.bus.hub();
        if previous != 0 {
            let c = ConversationId(previous);
            hub.focus(self.me, c, false);
            self.state
                .bus
                .set_reading(self.me, c, &self.socket_id, None);
        }
        if let Some(c) = next {
            hub.focus(self.me, c, true);
            self.state
                .bus
                .set_reading(self.me, c, &self.socket_id, Some(self.ttl));
        }
    }

    /// The socket is closing: it shows nothing any more.
    pub fn leave(&self) {
        self.focus(None);
        if let Some(c) = self.fixed {
            self.state
                .bus
                .set_reading(self.me, c, &self.socket_id, None);
        }
    }
}
