//! Typing indicators that never stick. The receiving socket keeps a deadline per typist: a
//! `typing: true` not refreshed within the TTL is cleared with `is_typing: false` by the socket
//! itself, so a typist whose node died, or whose `false` was lost, cannot leave it on.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::model::{ConversationId, UserId};

#[derive(Debug)]
pub struct TypingTracker {
    ttl: Duration,
    shown: HashMap<(ConversationId, UserId), Instant>,
}

impl TypingTracker {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            shown: HashMap::new(),
        }
    }

    /// Notes a typing event that was passed on to the client.
    pub fn saw(&mut self, conversation: ConversationId, user: UserId, is_typing: bool) {
        if is_typing {
            self.shown
                .insert((conversation, user), Instant::now() + self.ttl);
        } else {
            self.shown.remove(&(conversation, user));
        }
    }

    /// The typist sent a message: their indicator ends with it (the client clears it too).
    pub fn forget(&mut self, conversation: ConversationId, user: UserId) {
        self.shown.remove(&(conversation, user));
    }

    /// The next deadline, for the socket's timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.shown.values().min().copied()
    }

    /// Removes and returns the indicators whose deadline has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<(ConversationId, UserId)> {
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

    #[tokio::test(start_paused = true)]
    async fn an_indicator_not_refreshed_within_the_ttl_expires() {
        let mut t = TypingTracker::new(Duration::from_secs(6));
        t.saw(1, 7, true);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(t.expire(Instant::now()).is_empty());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(t.expire(Instant::now()), vec![(1, 7)]);
        assert!(t.next_deadline().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_pushes_the_deadline_back() {
        let mut t = TypingTracker::new(Duration::from_secs(6));
        t.saw(1, 7, true);
        tokio::time::advance(Duration::from_secs(4)).await;
        t.saw(1, 7, true);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(t.expire(Instant::now()).is_empty(), "refreshed 4 s ago");
        tokio::time::sleep_until(t.next_deadline().unwrap()).await;
        assert_eq!(t.expire(Instant::now()), vec![(1, 7)]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_explicit_stop_clears_at_once() {
        let mut t = TypingTracker::new(Duration::from_secs(6));
        t.saw(1, 7, true);
        t.saw(1, 7, false);
        assert!(t.next_deadline().is_none());
    }
}
