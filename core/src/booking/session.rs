//! The life of one booking.
//!
//! ```text
//! waiting ──promote──▶ booked ──check in──▶ started ──finish──▶ done
//!    │                   │  │                  │  └──finish (checked after use)──▶ to_check ──clear──▶ done
//!    │ cancel / lapse    │  │ cancel           └──fail (device fault)──▶ failed   (charge given back)
//!    ▼                   │  ▼
//! cancelled / lapsed     │ cancelled (charge given back inside the window)
//!                        └─release (nobody started it within the grace)──▶ released
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Where a booking is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// On the waiting list of a full slot; nothing charged.
    Waiting,
    /// Holds a place.
    Booked,
    /// In use (the device is on).
    Started,
    /// Over; staff must check the device before it is used again.
    ToCheck,
    /// Over.
    Done,
    /// The device failed during the session; the charge was given back.
    Failed,
    /// Cancelled by the member or staff.
    Cancelled,
    /// Nobody started it in time: the place went to the waiting list.
    Released,
    /// Still waiting when the slot ended, or promotion refused.
    Lapsed,
}

/// What happens to a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// A place freed: the first waiting member gets it.
    Promote,
    /// The member arrived (at the device or the kiosk).
    CheckIn,
    /// The session ended (time up, or ended early).
    Finish,
    /// The device failed.
    Fail,
    /// Staff checked the device.
    Clear,
    /// Cancelled.
    Cancel,
    /// Not started within the grace.
    Release,
    /// The slot ended with the member still waiting, or promotion refused.
    Lapse,
}

/// A transition the state does not allow.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("a booking that is {from} cannot be {what:?}")]
pub struct TransitionError {
    /// The state.
    pub from: BookingState,
    /// The transition refused.
    pub what: Transition,
}

impl BookingState {
    /// The state after `t`; `checked_after_use` sends a finished session to
    /// [`BookingState::ToCheck`].
    pub fn apply(self, t: Transition, checked_after_use: bool) -> Result<Self, TransitionError> {
        use BookingState as S;
        use Transition as T;
        let next = match (self, t) {
            (S::Waiting, T::Promote) => S::Booked,
            (S::Waiting, T::Lapse) => S::Lapsed,
            (S::Waiting | S::Booked, T::Cancel) => S::Cancelled,
            (S::Booked, T::CheckIn) => S::Started,
            (S::Booked, T::Release) => S::Released,
            (S::Started, T::Finish) if checked_after_use => S::ToCheck,
            (S::Started, T::Finish) => S::Done,
            (S::Started, T::Fail) => S::Failed,
            (S::ToCheck, T::Clear) => S::Done,
            (from, what) => return Err(TransitionError { from, what }),
        };
        Ok(next)
    }

    /// Whether it holds (or held) a place in its slot: counted against the
    /// capacity and the member's limits.
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            Self::Booked | Self::Started | Self::ToCheck | Self::Done
        )
    }

    /// The stable name (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Booked => "booked",
            Self::Started => "started",
            Self::ToCheck => "to_check",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Released => "released",
            Self::Lapsed => "lapsed",
        }
    }

    /// Every state.
    pub const ALL: [BookingState; 9] = [
        Self::Waiting,
        Self::Booked,
        Self::Started,
        Self::ToCheck,
        Self::Done,
        Self::Failed,
        Self::Cancelled,
        Self::Released,
        Self::Lapsed,
    ];

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for BookingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingState as S;
    use Transition as T;

    #[test]
    fn robot_sessions_wait_for_staff() {
        let s = S::Booked.apply(T::CheckIn, true).unwrap();
        assert_eq!(s.apply(T::Finish, true), Ok(S::ToCheck));
        assert_eq!(S::ToCheck.apply(T::Clear, true), Ok(S::Done));
        assert_eq!(s.apply(T::Finish, false), Ok(S::Done));
    }

    #[test]
    fn finished_sessions_cannot_be_cancelled_or_started_again() {
        for from in [S::Started, S::Done, S::ToCheck, S::Failed, S::Released] {
            assert!(from.apply(T::Cancel, false).is_err(), "{from}");
        }
        assert!(S::Done.apply(T::CheckIn, false).is_err());
        assert!(S::Released.apply(T::Promote, false).is_err());
        let e = S::Done.apply(T::Fail, false).unwrap_err();
        assert_eq!(e.to_string(), "a booking that is done cannot be Fail");
        for s in ["waiting", "to_check", "lapsed"] {
            assert_eq!(S::parse(s).unwrap().as_str(), s);
        }
    }
}
