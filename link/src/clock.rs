//! The wall clock, read in one place: the device agents and the kiosk.
//!
//! The core never reads a clock; the programs read this one and pass the
//! result in. Tests of the core use their own timestamps instead.

use std::time::{SystemTime, UNIX_EPOCH};

use keting_core::time::Timestamp;

/// The current time. A clock before 1970 reads as 1970.
pub fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Timestamp::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
}
