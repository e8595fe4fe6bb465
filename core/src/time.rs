//! Instants, as the core sees them: milliseconds since the Unix epoch (UTC).
//!
//! The core never reads a clock: every function that needs the time takes a
//! [`Timestamp`] from its caller. That is what lets the tests run days of a
//! centre's life in microseconds.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An instant in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_unix_millis(self) -> i64 {
        self.0
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Option<Duration> {
        let ms = self.0.checked_sub(earlier.0)?;
        u64::try_from(ms).ok().map(Duration::from_millis)
    }

    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_none_backwards() {
        let a = Timestamp::from_unix_millis(1_000);
        let b = Timestamp::from_unix_millis(4_000);
        assert_eq!(b.since(a), Some(Duration::from_secs(3)));
        assert_eq!(a.since(b), None);
        assert_eq!(
            Timestamp::from_unix_millis(i64::MAX - 1).saturating_add(Duration::from_secs(1)),
            Timestamp::from_unix_millis(i64::MAX)
        );
    }
}
