//! Time as Spotter stores and prints it: microseconds since the Unix epoch in the database (the
//! `Any` driver has no date types), ISO 8601 with six fractional digits and `Z` on the wire.

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// Microseconds since the Unix epoch.
pub type Micros = i64;

const WIRE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn now_micros() -> Micros {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as Micros
}

/// `2026-02-19T10:00:00.123456Z`, the original API's format.
pub fn to_wire(us: Micros) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .ok()
        .and_then(|t| t.format(WIRE).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000000Z".to_owned())
}

pub fn to_wire_opt(us: Option<Micros>) -> Option<String> {
    us.map(to_wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_has_microseconds_and_z() {
        assert_eq!(
            to_wire(1_771_495_200_123_456),
            "2026-02-19T10:00:00.123456Z"
        );
        assert_eq!(to_wire(0), "1970-01-01T00:00:00.000000Z");
    }
}
