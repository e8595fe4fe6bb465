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

/// Whether the kernel says the clock is synchronised (an NTP client such as
/// chrony or systemd-timesyncd sets this); `None` where it cannot be read.
/// A Pi without a network and without a real-time clock says `false`.
#[allow(unsafe_code)]
pub fn kernel_synchronised() -> Option<bool> {
    // SAFETY: `timex` is plain data for which all-zero is valid, and
    // adjtimex with `modes == 0` only reads the kernel's state into it.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return None;
    }
    Some(state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_flag_can_be_read() {
        // This machine may be synchronised or not; it can always be asked.
        assert!(kernel_synchronised().is_some());
        assert!(now().as_unix_millis() > keting_core::clock_judge::EARLIEST_PLAUSIBLE_MS);
    }
}
