//! Rate limits, keyed by user, address or email (GCRA from `governor`: a burst of N, then one
//! more every 60/N seconds), on Spotter's [`Clock`], so a test can move time instead of waiting
//! for a budget to refill. One limiter serves REST and the socket, so neither path is a way
//! around the other.

use std::hash::Hash;
use std::num::NonZeroU32;

use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::bus::redis::RedisBus;
use crate::clock::Clock;
use crate::domain::model::UserId;
use crate::error::Error;

/// Governor reads the time through this: nanoseconds since the epoch, from Spotter's clock.
#[derive(Clone)]
pub struct GovernorClock(Clock);

impl governor::clock::Clock for GovernorClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(
            u64::try_from(self.0.now())
                .unwrap_or(0)
                .saturating_mul(1_000),
        )
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, GovernorClock, NoOpMiddleware<Nanos>>;
type Direct = RateLimiter<NotKeyed, InMemoryState, GovernorClock, NoOpMiddleware<Nanos>>;

/// `n` a minute, or a second; 0 is taken as 1: a limit of nothing would lock everyone out.
fn quota(n: u32, per_second: bool, burst: u32) -> Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    let quota = if per_second {
        Quota::per_second(n)
    } else {
        Quota::per_minute(n)
    };
    quota.allow_burst(NonZeroU32::new(burst).unwrap_or(n))
}

/// Whole seconds to wait (at least 1) until the limiter takes one more.
fn wait_secs(not_until: &governor::NotUntil<Nanos>, clock: &GovernorClock) -> u64 {
    let wait = not_until.wait_time_from(clock.now());
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The one bucket of send, start, edit, delete and search: `per_minute` for each user, shared
/// by REST and the socket and, with Redis, by every node (one user, one limit, whatever the
/// node). If Redis cannot be reached, this node decides alone (its own bucket) and counts the
/// failure: a send is never refused because Redis is away.
pub struct UserBucket {
    local: Limiter<UserId>,
    shared: Option<RedisBus>,
    per_minute: u32,
    clock: Clock,
}

impl UserBucket {
    pub fn new(per_minute: u32, clock: &Clock, shared: Option<RedisBus>) -> Self {
        Self {
            local: Limiter::per_minute(per_minute, clock),
            shared,
            per_minute: per_minute.max(1),
            clock: clock.clone(),
        }
    }

    /// Takes one slot of `user`'s bucket, or says how long to wait.
    pub async fn check(&self, user: UserId) -> Result<(), Error> {
        if let Some(redis) = &self.shared {
            let interval = 60_000_000 / i64::from(self.per_minute);
            let burst = i64::from(self.per_minute);
            match redis
                .take_slot(user, self.clock.now(), interval, burst)
                .await
            {
                Ok(None) => return Ok(()),
                Ok(Some(wait)) => {
                    return Err(Error::Throttled {
                        wait_secs: u64::try_from((wait + 999_999) / 1_000_000)
                            .unwrap_or(1)
                            .max(1),
                    });
                }
                Err(e) => {
                    metrics::counter!(crate::metrics::RATELIMIT_FAIL_OPEN).increment(1);
                    tracing::warn!(error = %e, "rate limit: redis unreachable, deciding on this node");
                }
            }
        }
        self.local.check(&user)
    }

    pub fn forget_idle(&self) {
        self.local.forget_idle();
    }
}

pub struct Limiter<K: Hash + Eq + Clone> {
    inner: Keyed<K>,
    clock: GovernorClock,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_minute` for each key, in bursts of as many.
    pub fn per_minute(per_minute: u32, clock: &Clock) -> Self {
        let clock = GovernorClock(clock.clone());
        Self {
            inner: RateLimiter::new(
                quota(per_minute, false, per_minute),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
        }
    }

    /// `per_hour` for each key, in bursts of as many (rare, heavy work: exports).
    pub fn per_hour(per_hour: u32, clock: &Clock) -> Self {
        let clock = GovernorClock(clock.clone());
        let n = NonZeroU32::new(per_hour).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: RateLimiter::new(
                Quota::per_hour(n).allow_burst(n),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
        }
    }

    /// Takes one unit for `key`, or says how long to wait.
    pub fn check(&self, key: &K) -> Result<(), Error> {
        self.inner
            .check_key(key)
            .map_err(|not_until| Error::Throttled {
                wait_secs: wait_secs(&not_until, &self.clock),
            })
    }

    /// Forgets keys whose budget is full again, so memory stays bounded by recent activity.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

/// One budget (a socket's frames): `per_second`, in bursts of twice that.
pub struct Budget(Direct);

impl Budget {
    pub fn per_second(per_second: u32, clock: &Clock) -> Self {
        let burst = per_second.max(1).saturating_mul(2);
        Self(RateLimiter::direct_with_clock(
            quota(per_second, true, burst),
            GovernorClock(clock.clone()),
        ))
    }

    /// Takes one unit; `false` when the budget is spent.
    pub fn take(&self) -> bool {
        self.0.check().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_31st_send_in_a_minute_waits_two_seconds_and_a_key_has_its_own_budget() {
        let clock = Clock::manual(1_000_000_000);
        let l = Limiter::per_minute(30, &clock);
        for _ in 0..30 {
            l.check(&1).unwrap();
        }
        match l.check(&1) {
            Err(Error::Throttled { wait_secs }) => assert_eq!(wait_secs, 2),
            other => panic!("expected throttle, got {other:?}"),
        }
        l.check(&2).unwrap();
        // One more every two seconds.
        clock.advance(Duration::from_secs(2));
        l.check(&1).unwrap();
        assert!(l.check(&1).is_err());
    }

    #[test]
    fn a_budget_takes_bursts_of_twice_its_rate_then_refills_with_time() {
        let clock = Clock::manual(1_000_000_000);
        let b = Budget::per_second(20, &clock);
        assert_eq!((0..100).filter(|_| b.take()).count(), 40);
        clock.advance(Duration::from_secs(1));
        assert_eq!((0..100).filter(|_| b.take()).count(), 20);
    }
}
