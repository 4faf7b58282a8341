//! The trainer's response-time figures (Part D 4). The store finds the first responses of a
//! window in SQL (each the time from a trainee's message that followed a trainer message, or
//! began the conversation, to the trainer's next message); what a median is, and which
//! windows a trainer may ask for, is decided here.

use crate::clock::Micros;
use crate::error::Error;

/// The windows a trainer may ask for, in days.
pub const WINDOWS: [i64; 2] = [7, 30];

/// `?days=`: 7 (also when absent) or 30; anything else is a field error.
pub fn days(raw: Option<&str>) -> Result<i64, Error> {
    let Some(raw) = raw else {
        return Ok(WINDOWS[0]);
    };
    match raw.trim().parse::<i64>() {
        Ok(d) if WINDOWS.contains(&d) => Ok(d),
        _ => Err(Error::field(
            "days",
            format!("\"{raw}\" is not a valid choice. Choose 7 or 30."),
        )),
    }
}

/// The `q` quantile (0 to 1) of durations in microseconds, in seconds, interpolated between
/// the two nearest ranks (PostgreSQL's `percentile_cont`); `None` with no durations.
pub fn quantile_seconds(durations: &mut [Micros], q: f64) -> Option<f64> {
    if durations.is_empty() {
        return None;
    }
    durations.sort_unstable();
    let rank = q.clamp(0.0, 1.0) * (durations.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (durations[lo] as f64, durations[hi] as f64);
    let micros = a + (b - a) * (rank - lo as f64);
    // Whole milliseconds: enough for a figure counted in minutes, and stable on the wire.
    Some((micros / 1_000.0).round() / 1_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Micros = 1_000_000;

    #[test]
    fn the_window_is_7_or_30_days_and_7_when_absent() {
        assert_eq!(days(None).unwrap(), 7);
        assert_eq!(days(Some("30")).unwrap(), 30);
        for bad in ["14", "", "seven", "-7"] {
            assert!(matches!(days(Some(bad)), Err(Error::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn the_median_of_an_even_count_lies_between_the_middle_two() {
        let mut d = [40 * S, 10 * S, 30 * S, 20 * S];
        assert_eq!(quantile_seconds(&mut d, 0.5), Some(25.0));
        assert_eq!(quantile_seconds(&mut d, 0.9), Some(37.0));
        assert_eq!(quantile_seconds(&mut [7 * S], 0.9), Some(7.0));
    }

    #[test]
    fn no_first_response_has_no_median() {
        assert_eq!(quantile_seconds(&mut [], 0.5), None);
    }
}
