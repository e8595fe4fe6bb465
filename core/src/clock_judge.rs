//! Whether a device's clock can be trusted, and what time to decide by.
//!
//! A Pi has no real-time clock: after a power cut without a network it
//! may wake at the last time it saved, or in 1970. A door judges night
//! hours and paid months by the time, so it keeps a [`ClockJudge`]:
//!
//! - the centre's signed time ([`crate::site_time`]), taken only as the
//!   answer to the ask outstanding and only if it came back within
//!   [`MAX_ROUND_TRIP`]; kept against the monotonic clock, so a later step
//!   of the wall clock (NTP arriving) does not make it stale;
//! - a floor: the newest signed time the device has seen (the roster's
//!   issue time); the real time cannot be before it.
//!
//! [`ClockJudge::decision_time`] is the device's own clock while it agrees
//! with the centre's within [`TOLERANCE`], the centre's clock when it does
//! not, and [`ClockWrong`] when the clock is known to be wrong and the
//! centre's time is not known (before [`EARLIEST_PLAUSIBLE_MS`], or behind the
//! floor): the door then stays shut for anything decided by the time.

use std::time::Duration;

use thiserror::Error;

use crate::time::Timestamp;

/// How far a device's clock may be from the centre's before the centre's
/// is used and the clock alarm is raised.
pub const TOLERANCE: Duration = Duration::from_secs(60);

/// An answer that took longer than this is not taken: whoever held it back
/// could shift the time by that much.
pub const MAX_ROUND_TRIP: Duration = Duration::from_secs(10);

/// 2026-01-01T00:00:00Z: no Keting clock can rightly read earlier.
pub const EARLIEST_PLAUSIBLE_MS: i64 = 1_767_225_600_000;

/// Whether a clock reading `local` cannot be right: before
/// [`EARLIEST_PLAUSIBLE_MS`] (a Pi with no real-time clock that woke in
/// 1970), or more than [`TOLERANCE`] behind `floor`, a time known to have
/// passed (a door's newest roster; a centre's newest visit): one that woke
/// at the time it last saved. A step back by NTP within the tolerance is
/// still right. The one rule for doors and for the centre.
pub fn known_wrong(local: Timestamp, floor: Option<Timestamp>) -> bool {
    let local = local.as_unix_millis();
    let tolerance = i64::try_from(TOLERANCE.as_millis()).unwrap_or(i64::MAX);
    local < EARLIEST_PLAUSIBLE_MS
        || floor.is_some_and(|f| local < f.as_unix_millis().saturating_sub(tolerance))
}

/// The clock is known to be wrong and there is no trusted time to use.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("the clock is wrong and the centre's time is not known")]
pub struct ClockWrong;

/// An answer that came too late, or when nothing was asked.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum AnswerRefused {
    /// No ask is outstanding.
    #[error("no ask is outstanding")]
    NotAsked,
    /// It took longer than [`MAX_ROUND_TRIP`].
    #[error("the answer took {0:?}, more than the {MAX_ROUND_TRIP:?} allowed")]
    TooLate(Duration),
}

/// What the judge says of the clock now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockVerdict {
    /// Within [`TOLERANCE`] of the centre's (or nothing says otherwise).
    Right,
    /// Off by `offset_ms` (centre minus device): the centre's time is used.
    Corrected {
        /// The centre's clock minus the device's.
        offset_ms: i64,
    },
    /// Known wrong, and no centre time to use.
    Wrong,
}

impl ClockVerdict {
    /// Whether this is an alarm (the clock is not right).
    pub fn is_alarm(self) -> bool {
        self != Self::Right
    }
}

/// One device's view of its clock. `mono` arguments are readings of a
/// monotonic clock (any origin, never stepped); `local` ones of the wall clock.
#[derive(Clone, Debug, Default)]
pub struct ClockJudge {
    /// The ask outstanding: its nonce and when it left.
    asked: Option<(String, Duration)>,
    /// The centre's time at a monotonic instant.
    centre_at: Option<(i64, Duration)>,
    /// The newest signed time seen.
    floor_ms: Option<i64>,
}

impl ClockJudge {
    /// An ask with `nonce` left at `mono`; an earlier ask is given up.
    pub fn asked(&mut self, nonce: String, mono: Duration) {
        self.asked = Some((nonce, mono));
    }

    /// The nonce of the ask outstanding.
    pub fn outstanding(&self) -> Option<&str> {
        self.asked.as_ref().map(|(n, _)| n.as_str())
    }

    /// The centre's verified answer `centre_ms` to the outstanding ask,
    /// received at `mono`. The centre's clock is taken as `centre_ms` plus
    /// half the round trip (the error is at most half of it).
    pub fn answered(&mut self, centre_ms: i64, mono: Duration) -> Result<(), AnswerRefused> {
        let (_, asked_at) = self.asked.take().ok_or(AnswerRefused::NotAsked)?;
        let round_trip = mono.saturating_sub(asked_at);
        if round_trip > MAX_ROUND_TRIP {
            return Err(AnswerRefused::TooLate(round_trip));
        }
        let half = i64::try_from(round_trip.as_millis() / 2).unwrap_or(0);
        self.centre_at = Some((centre_ms.saturating_add(half), mono));
        self.note_signed_time(centre_ms);
        Ok(())
    }

    /// A signed time seen elsewhere (a roster's issue time): the real time
    /// is at least this.
    pub fn note_signed_time(&mut self, ms: i64) {
        self.floor_ms = Some(self.floor_ms.map_or(ms, |f| f.max(ms)));
    }

    /// The centre's clock now, if an answer was taken.
    pub fn centre_now(&self, mono: Duration) -> Option<i64> {
        let (ms, at) = self.centre_at?;
        let since = i64::try_from(mono.saturating_sub(at).as_millis()).unwrap_or(i64::MAX);
        Some(ms.saturating_add(since))
    }

    /// What the clock is now.
    pub fn verdict(&self, local: Timestamp, mono: Duration) -> ClockVerdict {
        let tolerance = i64::try_from(TOLERANCE.as_millis()).unwrap_or(i64::MAX);
        match self.centre_now(mono) {
            Some(centre) if centre.saturating_sub(local.as_unix_millis()).abs() > tolerance => {
                ClockVerdict::Corrected {
                    offset_ms: centre.saturating_sub(local.as_unix_millis()),
                }
            }
            Some(_) => ClockVerdict::Right,
            None if known_wrong(local, self.floor_ms.map(Timestamp::from_unix_millis)) => {
                ClockVerdict::Wrong
            }
            None => ClockVerdict::Right,
        }
    }

    /// The time to decide by: the device's own, the centre's, or none.
    pub fn decision_time(&self, local: Timestamp, mono: Duration) -> Result<Timestamp, ClockWrong> {
        match self.verdict(local, mono) {
            ClockVerdict::Right => Ok(local),
            ClockVerdict::Corrected { .. } => self
                .centre_now(mono)
                .map(Timestamp::from_unix_millis)
                .ok_or(ClockWrong),
            ClockVerdict::Wrong => Err(ClockWrong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_clock_is_wrong_before_2026_or_a_minute_behind_the_floor() {
        const MIN: i64 = 60_000;
        let t = Timestamp::from_unix_millis;
        let visit = t(EARLIEST_PLAUSIBLE_MS + 300 * 24 * 60 * MIN);
        assert!(known_wrong(t(86_400_000), None), "1970");
        assert!(known_wrong(t(EARLIEST_PLAUSIBLE_MS - 1), None));
        assert!(!known_wrong(t(EARLIEST_PLAUSIBLE_MS), None));
        assert!(
            known_wrong(t(visit.as_unix_millis() - 24 * 60 * MIN), Some(visit)),
            "a day behind"
        );
        assert!(known_wrong(
            t(visit.as_unix_millis() - MIN - 1),
            Some(visit)
        ));
        assert!(
            !known_wrong(t(visit.as_unix_millis() - MIN), Some(visit)),
            "NTP's small step back"
        );
        assert!(!known_wrong(t(visit.as_unix_millis() + MIN), Some(visit)));
    }

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }
    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms)
    }

    #[test]
    fn a_clock_that_agrees_is_used_as_it_is() {
        let mut j = ClockJudge::default();
        assert_eq!(
            j.decision_time(t(NOW), s(0)),
            Ok(t(NOW)),
            "nothing says otherwise"
        );
        j.asked("n".into(), s(100));
        j.answered(NOW + 30_000, s(101)).unwrap();
        assert_eq!(j.verdict(t(NOW), s(101)), ClockVerdict::Right);
        assert_eq!(j.decision_time(t(NOW + 5), s(101)), Ok(t(NOW + 5)));
    }

    #[test]
    fn a_clock_twelve_hours_ahead_decides_by_the_centres_and_keeps_doing_so() {
        let mut j = ClockJudge::default();
        j.asked("n".into(), s(10));
        // The answer took 2 s: the centre's clock is taken as its reading + 1 s.
        j.answered(NOW, s(12)).unwrap();
        let local = t(NOW + 12 * HOUR);
        assert_eq!(
            j.verdict(local, s(12)),
            ClockVerdict::Corrected {
                offset_ms: -12 * HOUR + 1_000
            }
        );
        assert_eq!(j.decision_time(local, s(12)), Ok(t(NOW + 1_000)));
        // An hour later by the monotonic clock; the wall clock meanwhile
        // stepped to the right time (NTP): the centre's time is still right.
        assert_eq!(
            j.decision_time(t(NOW + HOUR + 1_000), s(3_612)),
            Ok(t(NOW + HOUR + 1_000))
        );
        assert_eq!(
            j.verdict(t(NOW + HOUR + 1_000), s(3_612)),
            ClockVerdict::Right
        );
    }

    #[test]
    fn a_late_or_unasked_answer_is_not_taken() {
        let mut j = ClockJudge::default();
        assert_eq!(j.answered(NOW, s(1)), Err(AnswerRefused::NotAsked));
        j.asked("n".into(), s(1));
        assert_eq!(j.answered(NOW, s(12)), Err(AnswerRefused::TooLate(s(11))));
        assert_eq!(j.centre_now(s(12)), None);
        assert_eq!(
            j.answered(NOW, s(12)),
            Err(AnswerRefused::NotAsked),
            "one answer per ask"
        );
    }

    #[test]
    fn a_clock_years_behind_with_no_centre_time_decides_nothing() {
        let mut j = ClockJudge::default();
        // A Pi that woke in 1970.
        assert_eq!(j.decision_time(t(0), s(0)), Err(ClockWrong));
        // A Pi that woke at the time it last saved, a day before the roster it holds.
        j.note_signed_time(NOW);
        assert_eq!(j.verdict(t(NOW - 24 * HOUR), s(0)), ClockVerdict::Wrong);
        assert_eq!(j.decision_time(t(NOW - 30_000), s(0)), Ok(t(NOW - 30_000)));
        // Once the centre answers, its time is used.
        j.asked("n".into(), s(5));
        j.answered(NOW + 60_000, s(5)).unwrap();
        assert_eq!(j.decision_time(t(0), s(6)), Ok(t(NOW + 61_000)));
        assert!(j.verdict(t(0), s(6)).is_alarm());
    }
}
