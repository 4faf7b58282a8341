//! Rate limits, keyed by user, address or email (GCRA from `governor`: a burst of N, then one
//! more every 60/N seconds). One limiter serves REST and the socket, so neither path is a way
//! around the other.

use std::hash::Hash;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::Error;

pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_minute` of 0 is taken as 1: a limit of nothing would lock everyone out.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one unit for `key`, or says how long to wait (whole seconds, at least 1).
    pub fn check(&self, key: &K) -> Result<(), Error> {
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            Error::Throttled {
                wait_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    /// Forgets keys whose budget is full again, so memory stays bounded by recent activity.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_31st_send_in_a_minute_is_throttled_with_a_wait() {
        let l = Limiter::per_minute(30);
        for _ in 0..30 {
            l.check(&1).unwrap();
        }
        match l.check(&1) {
            Err(Error::Throttled { wait_secs }) => assert!((1..=2).contains(&wait_secs)),
            other => panic!("expected throttle, got {other:?}"),
        }
        // Another key has its own budget.
        l.check(&2).unwrap();
    }
}
