//! Typing indicators that never stick. The receiving socket keeps a deadline per typist: a
//! `typing: true` not refreshed within the TTL is cleared with `is_typing: false` by the socket
//! itself, so a typist whose node died, or whose `false` was lost, cannot leave it on.

use std::collections::HashMap;

use crate::clock::Micros;
use crate::domain::model::{ConversationId, UserId};

#[derive(Debug)]
pub struct TypingTracker {
    ttl: Micros,
    shown: HashMap<(ConversationId, UserId), Micros>,
}

impl TypingTracker {
    pub fn new(ttl: Micros) -> Self {
        Self {
            ttl,
            shown: HashMap::new(),
        }
    }

    /// Notes a typing event that was passed on to the client at `now`.
    pub fn saw(
        &mut self,
        conversation: ConversationId,
        user: UserId,
        is_typing: bool,
        now: Micros,
    ) {
        if is_typing {
            self.shown.insert((conversation, user), now + self.ttl);
        } else {
            self.shown.remove(&(conversation, user));
        }
    }

    /// The typist sent a message: their indicator ends with it (the client clears it too).
    pub fn forget(&mut self, conversation: ConversationId, user: UserId) {
        self.shown.remove(&(conversation, user));
    }

    /// The next deadline, for the socket's timer.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.shown.values().min().copied()
    }

    /// Removes and returns the indicators whose deadline has passed at `now`.
    pub fn expire(&mut self, now: Micros) -> Vec<(ConversationId, UserId)> {
        let gone: Vec<_> = self
            .shown
            .iter()
            .filter(|(_, d)| **d <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in &gone {
            self.shown.remove(k);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Micros = 1_000_000;
    const C: ConversationId = ConversationId(1);
    const U: UserId = UserId(7);

    #[test]
    fn an_indicator_not_refreshed_within_the_ttl_expires() {
        let mut t = TypingTracker::new(6 * SEC);
        t.saw(C, U, true, 0);
        assert!(t.expire(5 * SEC).is_empty());
        assert_eq!(t.expire(6 * SEC), vec![(C, U)]);
        assert!(t.next_deadline().is_none());
    }

    #[test]
    fn a_refresh_pushes_the_deadline_back() {
        let mut t = TypingTracker::new(6 * SEC);
        t.saw(C, U, true, 0);
        t.saw(C, U, true, 4 * SEC);
        assert!(t.expire(8 * SEC).is_empty(), "refreshed 4 s ago");
        assert_eq!(t.next_deadline(), Some(10 * SEC));
        assert_eq!(t.expire(10 * SEC), vec![(C, U)]);
    }

    #[test]
    fn an_explicit_stop_or_a_message_clears_at_once() {
        let mut t = TypingTracker::new(6 * SEC);
        t.saw(C, U, true, 0);
        t.saw(C, U, false, 1);
        assert!(t.next_deadline().is_none());
        t.saw(C, U, true, 2);
        t.forget(C, U);
        assert!(t.next_deadline().is_none());
    }
}
