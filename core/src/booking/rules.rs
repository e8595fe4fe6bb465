//! The booking rules: may this member book this slot, what does it cost,
//! may they cancel, is a place due for release, may they check in.
//!
//! The caller (the kiosk, inside one write transaction) reads the slot's
//! places taken and the member's bookings of that kind in the slot's week,
//! and writes what [`decide`] answers. Nothing here is charged or stored.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::package::{Package, PackageState};
use super::resource::{Price, Resource};
use super::session::BookingState;
use super::slots::Slot;
use crate::calendar::SiteCalendar;
use crate::time::Timestamp;

/// The centre's booking rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookingPolicy {
    /// A member may cancel (and get the charge back) until this long
    /// before the slot starts; later only staff can.
    pub cancel_before: Duration,
    /// A place nobody started this long after the slot began is released
    /// and the waiting list promoted.
    pub start_grace: Duration,
    /// Check-in opens this long before the slot.
    pub check_in_early: Duration,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        Self {
            cancel_before: Duration::from_secs(2 * 3600),
            start_grace: Duration::from_secs(10 * 60),
            check_in_early: Duration::from_secs(15 * 60),
        }
    }
}

/// A booking request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The resource.
    pub resource: &'a Resource,
    /// The slot (from [`super::slots`]).
    pub slot: Slot,
    /// Now.
    pub now: Timestamp,
    /// Join the waiting list if the slot is full.
    pub wait_if_full: bool,
}

/// What the caller read about the member.
#[derive(Clone, Debug, Default)]
pub struct MemberBookings {
    /// The member's bookings of this kind of resource whose slots start in
    /// the same local week as the requested slot, with their states.
    pub this_week: Vec<(Slot, BookingState)>,
    /// Whether the member already holds a place (or waits) in this slot.
    pub in_this_slot: bool,
    /// Whether the member ever had a session of this resource (no trial then).
    pub had_session: bool,
    /// The member's packages for this kind of resource.
    pub packages: Vec<Package>,
}

/// What a booking costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "charge", rename_all = "snake_case")]
pub enum Charge {
    /// Nothing.
    Free,
    /// Points, held now and spent when the session starts.
    Points {
        /// How many.
        points: u32,
    },
    /// Yuan owed at the desk (the trial price, or a single session).
    Yuan {
        /// In fen.
        fen: u32,
        /// Whether this is the trial price.
        trial: bool,
    },
    /// One session of a package.
    Package {
        /// The package's id.
        package: i64,
    },
}

/// The answer to a booking request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A place, at this charge.
    Booked(Charge),
    /// On the waiting list (nothing charged until promoted).
    Waiting,
}

/// Why a booking, a cancellation or a check-in was refused. Each says what
/// to do instead.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum BookingRefusal {
    /// The slot is over (or started longer ago than the grace).
    #[error("that slot is in the past: choose a later one")]
    SlotPast,
    /// Every place is taken.
    #[error("that slot is full: choose another, or join the waiting list")]
    Full,
    /// The member already has this slot.
    #[error("you already have this slot")]
    AlreadyBooked,
    /// The member's limit for the day.
    #[error("that is over your limit of {limit} a day for this service: choose another day")]
    OverDailyLimit {
        /// The limit.
        limit: u16,
    },
    /// The member's limit for the week.
    #[error("that is over your limit of {limit} a week for this service: choose another week")]
    OverWeeklyLimit {
        /// The limit.
        limit: u16,
    },
    /// Every package the member has for it expired.
    #[error("your course package expired: buy a new one at the desk")]
    PackageExpired,
    /// Every session of the member's packages is used.
    #[error("every session of your course package is used: buy a new one at the desk")]
    PackageUsedUp,
    /// Too late for the member to cancel.
    #[error("too late to cancel (until {hours} h before the start): ask the staff")]
    TooLateToCancel {
        /// The window in hours.
        hours: u64,
    },
    /// This booking is not in a state that allows it.
    #[error("this booking is {0}: nothing to do")]
    NotBooked(BookingState),
    /// Not started within the grace: the place went to the waiting list.
    #[error("not started in time: the place was given to the next person")]
    NotStartedInTime,
    /// Check-in before it opens.
    #[error("check-in opens {minutes} minutes before the start: come back then")]
    TooEarly {
        /// How early check-in opens.
        minutes: u64,
    },
    /// A walk-up session of a resource that has a price.
    #[error("walk-up sessions are free")]
    WalkUpNotFree,
    /// A walk-up session asked for outside the resource's hours.
    #[error("{resource} is closed now{}", hours.as_ref().map(|h| format!(" (open {h})")).unwrap_or_default())]
    ClosedNow {
        /// The resource's name, for people.
        resource: String,
        /// Its opening hours, for people, where known.
        hours: Option<String>,
    },
}

/// Whether `slot` can no longer be booked at `now`: it is over, or it
/// started longer ago than the site's start grace (a late arrival may still
/// take it until then). The decision and every surface's week view use this.
pub fn too_late_to_book(policy: &BookingPolicy, slot: Slot, now: Timestamp) -> bool {
    now >= slot.end || now > slot.start.saturating_add(policy.start_grace)
}

/// Decides a booking request.
pub fn decide(
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    req: &Request<'_>,
    member: &MemberBookings,
    places_taken: u16,
) -> Result<Decision, BookingRefusal> {
    if too_late_to_book(policy, req.slot, req.now) {
        return Err(BookingRefusal::SlotPast);
    }
    if member.in_this_slot {
        return Err(BookingRefusal::AlreadyBooked);
    }
    let day = calendar.date_of(req.slot.start);
    let counted = || {
        member
            .this_week
            .iter()
            .filter(|(_, st)| st.holds_place() || *st == BookingState::Waiting)
    };
    let limits = req.resource.limits;
    let on_day = counted()
        .filter(|(s, _)| calendar.date_of(s.start) == day)
        .count();
    if on_day >= usize::from(limits.per_day) {
        return Err(BookingRefusal::OverDailyLimit {
            limit: limits.per_day,
        });
    }
    if counted().count() >= usize::from(limits.per_week) {
        return Err(BookingRefusal::OverWeeklyLimit {
            limit: limits.per_week,
        });
    }
    // The charge is decided before the waiting list, so a member whose
    // package expired is told now, not at promotion.
    let charge = charge(req.resource, member, req.now)?;
    if places_taken >= req.resource.capacity {
        return if req.wait_if_full {
            Ok(Decision::Waiting)
        } else {
            Err(BookingRefusal::Full)
        };
    }
    Ok(Decision::Booked(charge))
}

/// What a session of `resource` costs `member` now: a package session
/// (the one expiring first), else the trial price for a first session,
/// else the price; a member whose packages are all expired or used up is
/// told so rather than charged the full price unasked.
pub fn charge(
    resource: &Resource,
    member: &MemberBookings,
    now: Timestamp,
) -> Result<Charge, BookingRefusal> {
    if resource.price == Price::Free {
        return Ok(Charge::Free);
    }
    let usable = member
        .packages
        .iter()
        .filter(|p| matches!(p.state(now), PackageState::Valid { .. }))
        .min_by_key(|p| (p.expires, p.id));
    if let Some(p) = usable {
        return Ok(Charge::Package { package: p.id });
    }
    if let (Some(trial), false) = (resource.trial_price, member.had_session) {
        return Ok(price_charge(trial, true));
    }
    if member
        .packages
        .iter()
        .any(|p| p.state(now) == PackageState::Expired)
    {
        return Err(BookingRefusal::PackageExpired);
    }
    if !member.packages.is_empty() {
        return Err(BookingRefusal::PackageUsedUp);
    }
    Ok(price_charge(resource.price, false))
}

/// What a session at `price` costs (`trial`: it is the trial price).
pub fn price_charge(price: Price, trial: bool) -> Charge {
    match price {
        Price::Free => Charge::Free,
        Price::Points { points } => Charge::Points { points },
        Price::Yuan { fen } => Charge::Yuan { fen, trial },
    }
}

/// Whether the member may cancel now; `Ok(true)`: the charge is given back.
/// Staff may cancel any time, with the charge given back.
pub fn cancel(
    policy: &BookingPolicy,
    state: BookingState,
    slot: Slot,
    now: Timestamp,
    by_staff: bool,
) -> Result<bool, BookingRefusal> {
    match state {
        BookingState::Waiting => Ok(false),
        BookingState::Booked => {
            let deadline = Timestamp::from_unix_millis(
                slot.start.as_unix_millis()
                    - i64::try_from(policy.cancel_before.as_millis()).unwrap_or(i64::MAX),
            );
            if by_staff || now <= deadline {
                Ok(true)
            } else {
                Err(BookingRefusal::TooLateToCancel {
                    hours: policy.cancel_before.as_secs() / 3600,
                })
            }
        }
        other => Err(BookingRefusal::NotBooked(other)),
    }
}

/// The instant a place booked (or promoted to) at `now` must be started
/// by: the grace after the slot's start, or after `now` for a place given
/// during the slot (a promotion), never past the slot's end.
pub fn start_by(policy: &BookingPolicy, slot: Slot, now: Timestamp) -> Timestamp {
    slot.start
        .max(now)
        .saturating_add(policy.start_grace)
        .min(slot.end)
}

/// Whether a booked place nobody started is due for release.
pub fn release_due(state: BookingState, start_by: Timestamp, now: Timestamp) -> bool {
    state == BookingState::Booked && now >= start_by
}

/// Whether the member may check in now.
pub fn check_in(
    policy: &BookingPolicy,
    state: BookingState,
    slot: Slot,
    start_by: Timestamp,
    now: Timestamp,
) -> Result<(), BookingRefusal> {
    if state != BookingState::Booked {
        return Err(BookingRefusal::NotBooked(state));
    }
    if now >= start_by {
        return Err(BookingRefusal::NotStartedInTime);
    }
    let opens = slot.start.as_unix_millis()
        - i64::try_from(policy.check_in_early.as_millis()).unwrap_or(i64::MAX);
    if now.as_unix_millis() < opens {
        return Err(BookingRefusal::TooEarly {
            minutes: policy.check_in_early.as_secs() / 60,
        });
    }
    Ok(())
}
