//! Which command sequence numbers a device has carried out: each at most
//! once, the way IPsec's anti-replay window works (RFC 4303 §3.4.3).
//!
//! The window remembers the highest number accepted and, as a bitmap, which
//! of the [`WINDOW`] numbers below it were seen, so commands that overtake
//! one another (a resend after a reconnect) are still carried out once each.
//! A number at or below the window's bottom is refused as a replay: it may
//! have been seen and forgotten. A number far ahead of both the highest seen
//! and the device's clock is refused too ([`MAX_AHEAD_MS`]): the centre
//! numbers its commands from its clock, so such a number is a mistake, and
//! taking it would make every later honest command look like a replay.
//!
//! The caller persists the window (it is `serde`) before carrying out the
//! command it just accepted.

use serde::{Deserialize, Serialize};

/// How many numbers below the highest are remembered one by one.
pub const WINDOW: u64 = 64;

/// How far ahead of the device's clock (and of the highest number seen) a
/// sequence number may be: one day, in the milliseconds the centre numbers
/// by.
pub const MAX_AHEAD_MS: u64 = 24 * 3600 * 1000;

/// Why a sequence number is not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceRefusal {
    /// Seen before, or too old to tell.
    Replayed,
    /// Further ahead than [`MAX_AHEAD_MS`]; nothing is changed.
    FromTheFuture,
}

/// The numbers a device has accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayWindow {
    /// The highest number accepted (0: none yet).
    highest: u64,
    /// Bit `i` set: `highest - i` was accepted (bit 0 is `highest` itself).
    seen: u64,
}

impl ReplayWindow {
    /// Whether `seq` may be carried out now, with the device's clock at
    /// `now_ms`; changes nothing.
    pub fn check(&self, seq: u64, now_ms: i64) -> Result<(), SequenceRefusal> {
        if seq == 0 {
            return Err(SequenceRefusal::Replayed);
        }
        let clock = u64::try_from(now_ms).unwrap_or(0);
        if seq > self.highest.max(clock).saturating_add(MAX_AHEAD_MS) {
            return Err(SequenceRefusal::FromTheFuture);
        }
        if seq > self.highest {
            return Ok(());
        }
        let behind = self.highest - seq;
        if behind >= WINDOW || self.seen & (1 << behind) != 0 {
            return Err(SequenceRefusal::Replayed);
        }
        Ok(())
    }

    /// Records `seq` as carried out; call after [`Self::check`] said yes.
    pub fn accept(&mut self, seq: u64) {
        if seq > self.highest {
            let shift = seq - self.highest;
            self.seen = if shift >= WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest = seq;
        } else {
            let behind = self.highest - seq;
            if behind < WINDOW {
                self.seen |= 1 << behind;
            }
        }
    }

    /// The highest number accepted (0 before the first).
    pub fn highest(&self) -> u64 {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_795_300_000_000;

    #[test]
    fn each_number_once_in_any_order_within_the_window() {
        let mut w = ReplayWindow::default();
        let base = NOW as u64;
        for seq in [base + 5, base + 3, base + 4, base + 1] {
            assert_eq!(w.check(seq, NOW), Ok(()));
            w.accept(seq);
            assert_eq!(w.check(seq, NOW), Err(SequenceRefusal::Replayed));
        }
        assert_eq!(w.check(base + 2, NOW), Ok(()));
        w.accept(base + 200);
        assert_eq!(w.check(base + 2, NOW), Err(SequenceRefusal::Replayed));
        assert_eq!(w.highest(), base + 200);
    }

    #[test]
    fn numbers_from_the_future_change_nothing() {
        let w = ReplayWindow::default();
        let far = NOW as u64 + MAX_AHEAD_MS + 1;
        assert_eq!(w.check(far, NOW), Err(SequenceRefusal::FromTheFuture));
        assert_eq!(w.check(NOW as u64 + MAX_AHEAD_MS, NOW), Ok(()));
        assert_eq!(w.check(0, NOW), Err(SequenceRefusal::Replayed));
        // A device whose clock was lost (1970) still follows the centre's numbers.
        let mut w = ReplayWindow::default();
        w.accept(NOW as u64);
        assert_eq!(w.check(NOW as u64 + 1, 0), Ok(()));
    }

    proptest! {
        /// Whatever order numbers arrive in, repeated or not, each is
        /// accepted at most once, and a fresh number above all seen is
        /// always accepted.
        #[test]
        fn never_twice(seqs in proptest::collection::vec(1u64..200, 0..300)) {
            let mut w = ReplayWindow::default();
            let mut accepted = std::collections::BTreeSet::new();
            for s in seqs {
                if w.check(s, 0).is_ok() {
                    prop_assert!(accepted.insert(s), "{s} accepted twice");
                    w.accept(s);
                }
            }
            let next = w.highest() + 1;
            prop_assert!(w.check(next, 0).is_ok());
        }
    }
}
