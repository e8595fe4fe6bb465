//! A volunteer shift's time: from check-in to check-out, capped at the
//! shift's length; a check-in with no check-out is flagged for the
//! organiser, never guessed; the organiser's confirmed time overrides the
//! scans (within the shift's length); points are per hour, pro rata by
//! the minute, rounded down.

use super::ActivityRefusal;
use crate::time::Timestamp;

/// One volunteer's time on a shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftTime {
    /// Minutes counted (from the scans, or confirmed by the organiser).
    Minutes(u32),
    /// Checked in, never out: the organiser must confirm the time.
    ForgotCheckOut,
}

/// The shift's length in minutes.
pub fn shift_minutes(starts: Timestamp, ends: Timestamp) -> u32 {
    u32::try_from(ends.since(starts).unwrap_or_default().as_secs() / 60).unwrap_or(u32::MAX)
}

/// The time of a volunteer who checked in at `check_in` and out at
/// `check_out`, on a shift from `starts` to `ends`; `confirmed` is the
/// organiser's word, which wins.
pub fn time_on_shift(
    starts: Timestamp,
    ends: Timestamp,
    check_in: Timestamp,
    check_out: Option<Timestamp>,
    confirmed: Option<u32>,
) -> ShiftTime {
    let cap = shift_minutes(starts, ends);
    if let Some(m) = confirmed {
        return ShiftTime::Minutes(m.min(cap));
    }
    match check_out {
        None => ShiftTime::ForgotCheckOut,
        Some(out) => {
            let m = u32::try_from(out.since(check_in).unwrap_or_default().as_secs() / 60)
                .unwrap_or(u32::MAX);
            ShiftTime::Minutes(m.min(cap))
        }
    }
}

/// Checks the organiser's confirmed time against the shift.
pub fn confirm(minutes: u32, starts: Timestamp, ends: Timestamp) -> Result<u32, ActivityRefusal> {
    let cap = shift_minutes(starts, ends);
    if minutes > cap {
        return Err(ActivityRefusal::HoursOverShift { shift_minutes: cap });
    }
    Ok(minutes)
}

/// The points `minutes` earn at `per_hour`, rounded down.
pub fn points_for(minutes: u32, per_hour: u32) -> i64 {
    i64::from(minutes) * i64::from(per_hour) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + min * 60_000)
    }

    #[test]
    fn time_is_between_the_scans_capped_at_the_shift_and_a_missing_check_out_is_flagged() {
        // A three-hour shift.
        let (s, e) = (t(0), t(180));
        assert_eq!(
            time_on_shift(s, e, t(-5), Some(t(95)), None),
            ShiftTime::Minutes(100)
        );
        assert_eq!(
            time_on_shift(s, e, t(-30), Some(t(200)), None),
            ShiftTime::Minutes(180)
        );
        assert_eq!(
            time_on_shift(s, e, t(0), None, None),
            ShiftTime::ForgotCheckOut
        );
        assert_eq!(
            time_on_shift(s, e, t(0), None, Some(120)),
            ShiftTime::Minutes(120)
        );
        assert_eq!(
            confirm(181, s, e),
            Err(ActivityRefusal::HoursOverShift { shift_minutes: 180 })
        );
        assert_eq!(confirm(180, s, e), Ok(180));
        assert_eq!(points_for(100, 10), 16);
        assert_eq!(points_for(180, 10), 30);
    }
}
