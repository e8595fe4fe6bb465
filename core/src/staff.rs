//! Staff: who may do what, and the PIN that proves a staff card is in its
//! owner's hand.
//!
//! A staff card alone opens nothing: the staff page asks for the card's
//! PIN ([`PIN_LEN`] digits). After [`MAX_WRONG_PINS`] wrong PINs in a row the
//! card is locked for [`LOCKOUT`]; a right PIN clears the count. The roles
//! ([`StaffRole`]) decide which desk actions ([`StaffAction`]) each may do;
//! the kiosk's screen and (later) the web dashboard ask the same question.
//! The hashing itself (Argon2id) is the centre's; the rules are here.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Digits in a staff PIN.
pub const PIN_LEN: usize = 6;
/// Wrong PINs in a row that lock the card.
pub const MAX_WRONG_PINS: u32 = 5;
/// How long a locked card stays locked.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// What a staff member is allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Sees, changes nothing (the web dashboard's read-only sign-in).
    Observer,
    /// The centre's front desk: gym months, points, bookings, restocking,
    /// opening a door.
    Staff,
    /// Installs and looks after devices: enrolment, doors, restocking.
    Technician,
    /// Everything, and who is staff with which role.
    Manager,
}

impl StaffRole {
    /// Every role, least first.
    pub const ALL: [StaffRole; 4] = [
        StaffRole::Observer,
        StaffRole::Staff,
        StaffRole::Technician,
        StaffRole::Manager,
    ];

    /// The stable name (database, command line).
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Observer => "observer",
            StaffRole::Staff => "staff",
            StaffRole::Technician => "technician",
            StaffRole::Manager => "manager",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do `action`.
    pub fn may(self, action: StaffAction) -> bool {
        use StaffAction as A;
        match self {
            StaffRole::Observer => false,
            StaffRole::Staff => matches!(
                action,
                A::GymMonths
                    | A::Points
                    | A::Restock
                    | A::Bookings
                    | A::OpenDoor
                    | A::Members
                    | A::Alarms
                    | A::Activities
            ),
            StaffRole::Technician => {
                matches!(action, A::Devices | A::OpenDoor | A::Restock | A::Alarms)
            }
            StaffRole::Manager => true,
        }
    }
}

/// The action that acting on a member's card or data needs: a member who
/// holds a staff role is a manager's business (a new pass for a manager's
/// lost card, shown to whoever asked, or their data deleted, which ends
/// their staff access, is managing staff), anyone else's is the members
/// desk's. So a lower role never acts on a higher one.
pub fn action_on_member(target: Option<StaffRole>) -> StaffAction {
    match target {
        Some(_) => StaffAction::ManageStaff,
        None => StaffAction::Members,
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of desk action that needs a staff role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StaffAction {
    /// Grant, extend or end a gym month.
    GymMonths,
    /// Award or reverse volunteer points.
    Points,
    /// Restock the drinks machine.
    Restock,
    /// Bookings at the service desk (start, end, clear, cancel for a member).
    Bookings,
    /// Open a door for one pulse.
    OpenDoor,
    /// Enrol devices (confirm a claim's PIN).
    Devices,
    /// Add members, a lost card's new pass.
    Members,
    /// Who is staff, their roles and PINs.
    ManageStaff,
    /// Acknowledge an alarm (a forced door, a device offline).
    Alarms,
    /// Plan, change, cancel and close activities; sign residents up and
    /// mark their attendance.
    Activities,
    /// Where alarms are told off-site (channels, routes, a test message).
    AlertChannels,
}

impl StaffAction {
    /// What the action is, for people.
    pub fn describe(self) -> &'static str {
        match self {
            StaffAction::GymMonths => "change gym months",
            StaffAction::Points => "award or reverse points",
            StaffAction::Restock => "restock the drinks machine",
            StaffAction::Bookings => "change bookings",
            StaffAction::OpenDoor => "open a door",
            StaffAction::Devices => "enrol devices",
            StaffAction::Members => "change members",
            StaffAction::ManageStaff => "change staff roles and PINs",
            StaffAction::Alarms => "acknowledge alarms",
            StaffAction::Activities => "run activities",
            StaffAction::AlertChannels => "configure where alarms are sent",
        }
    }
}

/// A staff member tried what their role does not allow.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("{} may not {}", match role { Some(r) => r.as_str(), None => "someone who is not staff" }, action.describe())]
pub struct Forbidden {
    /// Their role (`None`: not staff at all).
    pub role: Option<StaffRole>,
    /// What they tried.
    pub action: StaffAction,
}

/// Why a PIN is not a PIN.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("a staff PIN is {PIN_LEN} digits")]
pub struct PinFormatError;

/// Checks that `pin` has the shape of a PIN.
pub fn check_pin_format(pin: &str) -> Result<(), PinFormatError> {
    if pin.len() == PIN_LEN && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(PinFormatError)
    }
}

/// A card's wrong PINs so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinAttempts {
    /// Wrong PINs in a row.
    pub wrong: u32,
    /// Locked until then (ms since the Unix epoch), if locked.
    pub locked_until_ms: Option<i64>,
}

/// What became of one PIN entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinVerdict {
    /// Right: the staff page opens.
    Accepted,
    /// Wrong; this many tries are left before the lock.
    Wrong {
        /// Tries left.
        left: u32,
    },
    /// Wrong, and now locked until then.
    LockedNow {
        /// Until (ms since the Unix epoch).
        until_ms: i64,
    },
    /// Locked already: the PIN was not even compared.
    Locked {
        /// Until (ms since the Unix epoch).
        until_ms: i64,
    },
}

impl PinAttempts {
    /// Whether the card is locked at `now_ms` (then the PIN is not compared).
    pub fn locked_at(self, now_ms: i64) -> Option<i64> {
        self.locked_until_ms.filter(|until| now_ms < *until)
    }

    /// The attempts after a PIN that was `right` at `now_ms`, and the verdict.
    /// Call only when [`Self::locked_at`] said no.
    pub fn after(self, right: bool, now_ms: i64) -> (PinAttempts, PinVerdict) {
        if right {
            return (PinAttempts::default(), PinVerdict::Accepted);
        }
        let wrong = self.wrong.saturating_add(1);
        if wrong >= MAX_WRONG_PINS {
            let until_ms =
                now_ms.saturating_add(i64::try_from(LOCKOUT.as_millis()).unwrap_or(i64::MAX));
            (
                PinAttempts {
                    wrong: 0,
                    locked_until_ms: Some(until_ms),
                },
                PinVerdict::LockedNow { until_ms },
            )
        } else {
            (
                PinAttempts {
                    wrong,
                    locked_until_ms: None,
                },
                PinVerdict::Wrong {
                    left: MAX_WRONG_PINS - wrong,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_a_manager_acts_on_a_staff_members_card_or_data() {
        for target in StaffRole::ALL {
            let needed = action_on_member(Some(target));
            assert!(StaffRole::Manager.may(needed));
            assert!(!StaffRole::Staff.may(needed), "staff on a {target}");
            assert!(!StaffRole::Technician.may(needed));
        }
        assert!(
            StaffRole::Staff.may(action_on_member(None)),
            "a resident's card"
        );
    }

    use super::*;

    #[test]
    fn five_wrong_pins_lock_the_card_and_a_right_one_clears_the_count() {
        let mut a = PinAttempts::default();
        for left in (1..MAX_WRONG_PINS).rev() {
            let (next, verdict) = a.after(false, 0);
            assert_eq!(verdict, PinVerdict::Wrong { left });
            a = next;
        }
        let (locked, verdict) = a.after(false, 1_000);
        let until = 1_000 + LOCKOUT.as_millis() as i64;
        assert_eq!(verdict, PinVerdict::LockedNow { until_ms: until });
        assert_eq!(locked.locked_at(until - 1), Some(until));
        assert_eq!(locked.locked_at(until), None, "the lock ends by itself");
        let (a, _) = PinAttempts::default().after(false, 0);
        assert_eq!(a.after(true, 0).0, PinAttempts::default());
    }

    #[test]
    fn pins_are_six_digits() {
        assert!(check_pin_format("024680").is_ok());
        for bad in ["", "12345", "1234567", "12a456", "１２３４５６", "12345 "] {
            assert_eq!(check_pin_format(bad), Err(PinFormatError), "{bad:?}");
        }
    }

    #[test]
    fn roles_decide_what_each_may_do() {
        use StaffAction as A;
        assert!(!StaffRole::Observer.may(A::OpenDoor));
        assert!(StaffRole::Staff.may(A::GymMonths) && StaffRole::Staff.may(A::Points));
        assert!(!StaffRole::Staff.may(A::Devices) && !StaffRole::Staff.may(A::ManageStaff));
        assert!(StaffRole::Technician.may(A::Devices));
        assert!(!StaffRole::Technician.may(A::Points) && !StaffRole::Technician.may(A::GymMonths));
        assert!(StaffRole::Manager.may(A::ManageStaff));
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        let no = Forbidden {
            role: Some(StaffRole::Technician),
            action: A::Points,
        };
        assert_eq!(no.to_string(), "technician may not award or reverse points");
    }
}
