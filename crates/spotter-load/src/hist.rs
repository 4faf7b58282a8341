//! Latency histograms (HdrHistogram, microseconds, 3 significant digits) and their summary.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Up to one hour, in microseconds; longer values are clamped to it.
const HIGHEST_US: u64 = 3_600_000_000;

/// Latencies in microseconds. Each task keeps its own raw samples (4 bytes each: an
/// HdrHistogram of this range and precision is ~180 KiB, too much for one per socket), and
/// the merged samples go into one HdrHistogram for the summary.
#[derive(Clone, Default)]
pub struct Hist(Vec<u32>);

impl Hist {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.0.push(us.clamp(1, HIGHEST_US) as u32);
    }

    pub fn add(&mut self, other: &Hist) {
        self.0.extend_from_slice(&other.0);
    }

    pub fn len(&self) -> u64 {
        self.0.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn summary(&self) -> Summary {
        if self.0.is_empty() {
            return Summary::default();
        }
        // Bounds and precision are constants within hdrhistogram's limits.
        let Ok(mut h) = Histogram::<u64>::new_with_bounds(1, HIGHEST_US, 3) else {
            return Summary::default();
        };
        for &us in &self.0 {
            h.saturating_record(u64::from(us));
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Summary {
            count: h.len(),
            min_ms: ms(h.min()),
            mean_ms: h.mean() / 1000.0,
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub min_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = Hist::new();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us * 10));
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 5.0).abs() < 0.01, "{s:?}");
        assert!((s.p99_ms - 9.9).abs() < 0.01, "{s:?}");
        assert!((s.max_ms - 10.0).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn an_empty_histogram_summarises_to_zeros() {
        assert_eq!(Hist::new().summary(), Summary::default());
    }
}
