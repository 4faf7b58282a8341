//! The one clock. Every reading of the time of day, and every timer that drives behaviour
//! (typing expiry, pings and idle sockets, push coalescing, backoff and leases, rate limits, the
//! edit window), goes through a [`Clock`] held in the state.
//!
//! In production it is the system clock. Tests give the server a [`Clock::manual`] one, which
//! stands still until the test moves it ([`Clock::advance`]): timed behaviour is then exact and
//! waits on nothing but the test, instead of on sleeps and wall-clock deadlines.
//!
//! Times are microseconds since the Unix epoch ([`Micros`]): what the database stores and what
//! orders messages. Network timeouts that protect the server from slow peers (header reads,
//! socket writes) stay on real time: they are about the network, not about behaviour.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Microseconds since the Unix epoch.
pub type Micros = i64;

/// A duration in microseconds (saturating).
pub fn micros(d: Duration) -> Micros {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The time source: the system's, or a manual one for tests. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    /// The current time; advancing it wakes every timer whose deadline it passes.
    Manual(Arc<watch::Sender<Micros>>),
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(t) => write!(f, "Clock::Manual({})", *t.borrow()),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

/// Longest a system timer is set for; a later deadline is re-checked then (tokio's timer wheel
/// does not take arbitrary far deadlines).
const LONGEST_SLEEP: Duration = Duration::from_secs(24 * 3600);

impl Clock {
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock standing at `start` until [`advance`](Self::advance)d.
    pub fn manual(start: Micros) -> Self {
        Self(Source::Manual(Arc::new(watch::Sender::new(start))))
    }

    /// A manual clock starting at the system's time now.
    pub fn manual_from_now() -> Self {
        Self::manual(system_now())
    }

    pub fn now(&self) -> Micros {
        match &self.0 {
            Source::System => system_now(),
            Source::Manual(t) => *t.borrow(),
        }
    }

    /// Whole seconds since the epoch (what JWTs carry).
    pub fn now_secs(&self) -> i64 {
        self.now().div_euclid(1_000_000)
    }

    /// Moves a manual clock forward, waking the timers it passes. A system clock cannot be
    /// moved: this panics, as it would only ever be a mistake in a test.
    pub fn advance(&self, by: Duration) {
        match &self.0 {
            Source::System => panic!("the system clock cannot be advanced"),
            Source::Manual(t) => {
                t.send_modify(|now| *now = now.saturating_add(micros(by)));
            }
        }
    }

    /// Resolves once the clock reads `at` or later.
    pub async fn sleep_until(&self, at: Micros) {
        self.timer(at).fired().await;
    }

    /// Resolves once `d` has passed on this clock.
    pub async fn sleep(&self, d: Duration) {
        self.sleep_until(self.now().saturating_add(micros(d))).await;
    }

    /// A timer set for `at`, to be reset and awaited again (one allocation for its life, not
    /// one per wait: sockets keep one each).
    pub fn timer(&self, at: Micros) -> Timer {
        let wait = match &self.0 {
            Source::System => {
                Wait::System(Box::pin(tokio::time::sleep_until(self.deadline_for(at))))
            }
            Source::Manual(t) => Wait::Manual(t.subscribe()),
        };
        Timer {
            clock: self.clone(),
            at,
            wait,
        }
    }

    /// The monotonic instant at which a system clock reads `at` (bounded by `LONGEST_SLEEP`).
    fn deadline_for(&self, at: Micros) -> tokio::time::Instant {
        let ahead = u64::try_from(at.saturating_sub(self.now())).unwrap_or(0);
        tokio::time::Instant::now() + Duration::from_micros(ahead).min(LONGEST_SLEEP)
    }
}

fn system_now() -> Micros {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, micros)
}

/// A resettable deadline on a [`Clock`].
pub struct Timer {
    clock: Clock,
    at: Micros,
    wait: Wait,
}

enum Wait {
    System(Pin<Box<tokio::time::Sleep>>),
    Manual(watch::Receiver<Micros>),
}

impl Timer {
    /// When it fires.
    pub fn at(&self) -> Micros {
        self.at
    }

    /// Sets it to fire at `at` instead.
    pub fn reset(&mut self, at: Micros) {
        if at == self.at {
            return;
        }
        self.at = at;
        if let Wait::System(sleep) = &mut self.wait {
            let deadline = self.clock.deadline_for(at);
            sleep.as_mut().reset(deadline);
        }
    }

    /// Resolves once the clock reads the deadline or later (at once if it already does).
    pub async fn fired(&mut self) {
        let at = self.at;
        match &mut self.wait {
            Wait::System(sleep) => loop {
                sleep.as_mut().await;
                // A deadline beyond `LONGEST_SLEEP`, or a wall clock that was set back.
                if system_now() >= at {
                    return;
                }
                let deadline = self.clock.deadline_for(at);
                sleep.as_mut().reset(deadline);
            },
            Wait::Manual(rx) => {
                // The sender lives as long as any clone of the clock, this timer's included.
                let _ = rx.wait_for(|now| *now >= at).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_stands_still_until_advanced() {
        let clock = Clock::manual(1_000_000);
        assert_eq!(clock.now(), 1_000_000);
        assert_eq!(clock.now_secs(), 1);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), 2_500_000);
    }

    #[tokio::test]
    async fn a_timer_fires_when_the_clock_passes_its_deadline_and_not_before() {
        let clock = Clock::manual(0);
        let mut timer = clock.timer(10);
        let waiting = tokio::spawn({
            let clock = clock.clone();
            async move {
                let mut t = clock.timer(10);
                t.fired().await;
                clock.now()
            }
        });
        clock.advance(Duration::from_micros(9));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        clock.advance(Duration::from_micros(1));
        assert_eq!(waiting.await.unwrap(), 10);
        // A timer whose deadline has passed fires at once; reset moves it.
        timer.fired().await;
        timer.reset(20);
        assert_eq!(timer.at(), 20);
        clock.advance(Duration::from_micros(10));
        timer.fired().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_system_timer_follows_the_time_of_day() {
        let clock = Clock::system();
        let mut timer = clock.timer(clock.now() + 5);
        timer.fired().await;
        assert!(clock.now() >= timer.at());
    }
}
