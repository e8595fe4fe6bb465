//! A resident's bookings as every surface shows them (the kiosk's week
//! and menu, the residents' phone pages): what each slot of a week is for
//! them, and what they may do to each of their bookings now, by the site's
//! rules. Pure reads of records already fetched: no database here.

use keting_core::booking::BookingState;
use keting_core::booking::rules::{self, BookingPolicy};
use keting_core::booking::slots::Slot;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;

use crate::records::Booking;

/// What one slot of the week is for the resident looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Theirs.
    Mine,
    /// They are on its waiting list.
    Waiting,
    /// Over, or started longer ago than the site's start grace (the core's
    /// [`rules::too_late_to_book`], as the booking decision uses it).
    Past,
    /// No place left.
    Full,
    /// Places left (`None` for a one-place slot).
    Free(Option<usize>),
}

/// What `slot` of a resource with `capacity` places is for `who`, given
/// the bookings of that slot and the site's booking rules.
pub fn cell(
    policy: &BookingPolicy,
    slot: Slot,
    capacity: u16,
    booked: &[&Booking],
    who: MemberId,
    now: Timestamp,
) -> Cell {
    let here: Vec<&&Booking> = booked
        .iter()
        .filter(|b| b.slot.start == slot.start)
        .collect();
    let taken = here.iter().filter(|b| b.state.holds_place()).count();
    let left = usize::from(capacity).saturating_sub(taken);
    let mine = here
        .iter()
        .find(|b| b.member == who && (b.state.holds_place() || b.state == BookingState::Waiting));
    match mine {
        Some(b) if b.state == BookingState::Waiting => Cell::Waiting,
        Some(_) => Cell::Mine,
        None if rules::too_late_to_book(policy, slot, now) => Cell::Past,
        None if left == 0 => Cell::Full,
        None if capacity > 1 => Cell::Free(Some(left)),
        None => Cell::Free(None),
    }
}

/// What a resident may do now to one of their bookings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Actions {
    /// Start it (check in).
    pub start: bool,
    /// Cancel it (inside the site's window).
    pub cancel: bool,
    /// End it now (it is running).
    pub end: bool,
}

/// The bookings shown on the menu: waiting, booked or running.
pub fn shown_on_menu(b: &Booking) -> bool {
    matches!(
        b.state,
        BookingState::Waiting | BookingState::Booked | BookingState::Started
    )
}

/// What the resident may do to `b` at `now`, by the site's rules.
pub fn actions(policy: &BookingPolicy, b: &Booking, now: Timestamp) -> Actions {
    let start_by = b.start_by.unwrap_or(b.slot.end);
    Actions {
        start: rules::check_in(policy, b.state, b.slot, start_by, now).is_ok(),
        cancel: matches!(b.state, BookingState::Waiting | BookingState::Booked)
            && rules::cancel(policy, b.state, b.slot, now, false).is_ok(),
        end: b.state == BookingState::Started,
    }
}
