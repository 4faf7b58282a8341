//! This node's sockets by topic. Dispatch never blocks: each subscriber has a bounded queue, and
//! one that is full is flagged as lagging so its socket closes (1013) and resumes, rather than
//! the server buffering without bound or a slow reader holding up everyone else.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use dashmap::DashMap;
use tokio::sync::{Notify, mpsc};

use super::{Event, Topic};
use crate::domain::model::UserId;

struct Subscriber {
    id: u64,
    user_id: UserId,
    tx: mpsc::Sender<Arc<Event>>,
    lagging: Arc<Lag>,
}

/// Raised when a subscriber's queue overflowed.
#[derive(Default)]
pub struct Lag {
    flag: AtomicBool,
    notify: Notify,
}

impl Lag {
    fn raise(&self) {
        if !self.flag.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    pub fn is_raised(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Resolves once the queue has overflowed.
    pub async fn raised(&self) {
        if !self.is_raised() {
            self.notify.notified().await;
        }
    }
}

#[derive(Default)]
pub struct Hub {
    topics: DashMap<Topic, Vec<Subscriber>>,
    /// User sockets that said which conversation they show (`focus` frames), counted.
    focus: DashMap<(UserId, crate::domain::model::ConversationId), usize>,
    next_id: AtomicU64,
    sockets: AtomicUsize,
    /// Open sockets per user on this node.
    per_user: DashMap<UserId, usize>,
}

/// A socket's registration; dropping it unsubscribes.
pub struct Subscription {
    hub: Arc<Hub>,
    topic: Topic,
    id: u64,
    user_id: UserId,
    pub rx: mpsc::Receiver<Arc<Event>>,
    pub lag: Arc<Lag>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let dashmap::Entry::Occupied(mut e) = self.hub.per_user.entry(self.user_id) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
        self.hub.sockets.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!(crate::metrics::OPEN_SOCKETS).decrement(1.0);
        if let dashmap::Entry::Occupied(mut e) = self.hub.topics.entry(self.topic) {
            e.get_mut().retain(|s| s.id != self.id);
            if e.get().is_empty() {
                e.remove();
            }
        }
    }
}

impl Hub {
    /// Registers a socket of `user` on `topic` with a queue of `capacity` events.
    pub fn subscribe(
        self: &Arc<Self>,
        topic: Topic,
        user_id: UserId,
        capacity: usize,
    ) -> Subscription {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let lag = Arc::new(Lag::default());
        self.topics.entry(topic).or_default().push(Subscriber {
            id,
            user_id,
            tx,
            lagging: lag.clone(),
        });
        self.sockets.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!(crate::metrics::OPEN_SOCKETS).increment(1.0);
        *self.per_user.entry(user_id).or_default() += 1;
        Subscription {
            hub: self.clone(),
            topic,
            id,
            user_id,
            rx,
            lag,
        }
    }

    pub fn dispatch(&self, event: &Arc<Event>) {
        for topic in &event.topics {
            let Some(subs) = self.topics.get(topic) else {
                continue;
            };
            for s in subs.iter() {
                if event.exclude_user == Some(s.user_id) {
                    continue;
                }
                if s.tx.try_send(event.clone()).is_err() {
                    s.lagging.raise();
                }
            }
        }
    }

    /// Whether any socket of `user` on this node listens to `topic`.
    pub fn has_listener(&self, topic: Topic, user: UserId) -> bool {
        self.topics
            .get(&topic)
            .is_some_and(|subs| subs.iter().any(|s| s.user_id == user))
    }

    /// Notes that one more (or one fewer) socket of `user` shows `conversation`.
    pub fn focus(
        &self,
        user: UserId,
        conversation: crate::domain::model::ConversationId,
        on: bool,
    ) {
        if on {
            *self.focus.entry((user, conversation)).or_default() += 1;
        } else if let dashmap::Entry::Occupied(mut e) = self.focus.entry((user, conversation)) {
            *e.get_mut() -= 1;
            if *e.get() == 0 {
                e.remove();
            }
        }
    }

    /// Whether a socket of `user` on this node shows `conversation`: a conversation socket, or
    /// a user socket focused on it.
    pub fn is_reading(
        &self,
        user: UserId,
        conversation: crate::domain::model::ConversationId,
    ) -> bool {
        self.focus.contains_key(&(user, conversation))
            || self.has_listener(Topic::Conversation(conversation), user)
    }

    /// Open sockets of one user on this node.
    pub fn sockets_of(&self, user: UserId) -> usize {
        self.per_user.get(&user).map_or(0, |n| *n)
    }

    /// Open subscriptions (one per socket).
    pub fn socket_count(&self) -> usize {
        self.sockets.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Kind;
    use crate::domain::model::{ConversationId as C, UserId as U};

    fn event(topics: Vec<Topic>, exclude: Option<UserId>) -> Arc<Event> {
        Arc::new(Event {
            topics,
            exclude_user: exclude,
            kind: Kind::Archived {
                conversation_id: C(1),
            },
            frame: Arc::from("{}"),
            published_at: 0,
        })
    }

    #[tokio::test]
    async fn an_event_reaches_each_topics_subscribers_but_not_the_excluded_user() {
        let hub = Arc::new(Hub::default());
        let mut a = hub.subscribe(Topic::Conversation(C(1)), U(10), 4);
        let mut b = hub.subscribe(Topic::User(U(20)), U(20), 4);
        let mut c = hub.subscribe(Topic::Conversation(C(2)), U(30), 4);
        hub.dispatch(&event(
            vec![Topic::Conversation(C(1)), Topic::User(U(20))],
            None,
        ));
        assert!(a.rx.try_recv().is_ok());
        assert!(b.rx.try_recv().is_ok());
        assert!(c.rx.try_recv().is_err());
        hub.dispatch(&event(vec![Topic::Conversation(C(1))], Some(U(10))));
        assert!(a.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_raises_lag_instead_of_blocking() {
        let hub = Arc::new(Hub::default());
        let s = hub.subscribe(Topic::User(U(1)), U(1), 2);
        for _ in 0..3 {
            hub.dispatch(&event(vec![Topic::User(U(1))], None));
        }
        assert!(s.lag.is_raised());
        s.lag.raised().await;
    }

    #[test]
    fn dropping_a_subscription_unsubscribes() {
        let hub = Arc::new(Hub::default());
        let s = hub.subscribe(Topic::User(U(1)), U(1), 2);
        assert!(hub.has_listener(Topic::User(U(1)), U(1)));
        assert_eq!(hub.socket_count(), 1);
        drop(s);
        assert!(!hub.has_listener(Topic::User(U(1)), U(1)));
        assert_eq!(hub.socket_count(), 0);
    }
}
