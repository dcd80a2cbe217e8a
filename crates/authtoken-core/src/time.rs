//! Points in time as the domain sees them: whole milliseconds since the Unix epoch, in UTC.

use std::time::Duration;

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
///
/// Stores keep it as a 64-bit integer, so SQLite and PostgreSQL compare it the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The point `millis` milliseconds after the Unix epoch (before it when negative).
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch, as stores keep them.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The point `duration` later, saturating at the end of the representable range.
    pub fn plus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// The point `duration` earlier, saturating at the start of the representable range.
    pub fn minus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_adds_milliseconds_and_saturates() {
        assert_eq!(Timestamp::from_millis(1_000).plus(Duration::from_secs(2)), Timestamp::from_millis(3_000));
        assert_eq!(Timestamp::from_millis(i64::MAX - 1).plus(Duration::from_secs(1)), Timestamp::from_millis(i64::MAX));
        assert_eq!(Timestamp::from_millis(0).plus(Duration::MAX), Timestamp::from_millis(i64::MAX));
    }

    #[test]
    fn minus_subtracts_milliseconds_and_saturates() {
        assert_eq!(Timestamp::from_millis(3_000).minus(Duration::from_secs(2)), Timestamp::from_millis(1_000));
        assert_eq!(
            Timestamp::from_millis(i64::MIN + 1).minus(Duration::from_secs(1)),
            Timestamp::from_millis(i64::MIN)
        );
    }
}
