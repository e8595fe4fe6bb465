//! The pianos-and-bookings page's state and rules, with no Slint types: who
//! is on the page, which step it shows, the service and days they look at,
//! the slot they picked; what each cell of a week is, what a resident may do
//! to each of their bookings now, how many pianos are free.
//!
//! The adapter (`ui::bookings_adapter`) reads the database through the
//! desks, asks here, and maps the answers to the window.

use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use time::Date;

/// How far ahead bookings can be made, days.
pub const BOOK_AHEAD_DAYS: i64 = 28;

/// The page's steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Step {
    /// Scan your pass.
    #[default]
    Scan,
    /// The services and the resident's bookings.
    Menu,
    /// A service's days and slots.
    Week,
    /// The slot picked, with its price, to confirm.
    Confirm,
    /// The outcome.
    Done,
}

/// The resident on the page and what they are looking at.
#[derive(Clone, Debug, Default)]
pub struct BookingsPage {
    step: Step,
    member: Option<(MemberId, String)>,
    resource: Option<String>,
    first_day: Option<Date>,
    picked: Option<(Timestamp, bool)>,
    to_rate: Option<i64>,
}

impl BookingsPage {
    /// The step shown.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Shows `step`.
    pub fn set_step(&mut self, step: Step) {
        self.step = step;
    }

    /// A resident's pass was scanned: the page is theirs from now on (a
    /// second resident's scan starts over for them).
    pub fn scanned(&mut self, member: MemberId, name: String) {
        *self = Self {
            member: Some((member, name)),
            ..Self::default()
        };
    }

    /// The resident on the page.
    pub fn member(&self) -> Option<&(MemberId, String)> {
        self.member.as_ref()
    }

    /// The resident's number.
    pub fn member_id(&self) -> Option<MemberId> {
        self.member.as_ref().map(|(m, _)| *m)
    }

    /// Opens `resource`'s days from `today`.
    pub fn open_resource(&mut self, resource: &str, today: Date) {
        self.resource = Some(resource.to_owned());
        self.first_day = Some(today);
    }

    /// The service being booked, and the first day shown.
    pub fn week(&self) -> Option<(&str, Date)> {
        Some((self.resource.as_deref()?, self.first_day?))
    }

    /// Earlier (`by` < 0) or later days, a page of `days_shown` at a time,
    /// never before `today` nor past [`BOOK_AHEAD_DAYS`].
    pub fn shift(&mut self, by: i32, days_shown: i64, today: Date) {
        let Some(first) = self.first_day else {
            return;
        };
        let moved = first + time::Duration::days(days_shown * i64::from(by.signum()));
        let last = today + time::Duration::days(BOOK_AHEAD_DAYS - days_shown);
        self.first_day = Some(moved.clamp(today, last.max(today)));
    }

    /// A slot starting at `start` was picked (`full`: the waiting list).
    pub fn pick(&mut self, start: Timestamp, full: bool) {
        self.picked = Some((start, full));
    }

    /// The slot to book, taken once: a second tap on "yes" finds nothing.
    pub fn take_picked(&mut self) -> Option<(Timestamp, bool)> {
        self.picked.take()
    }

    /// "Go back": nothing stays picked; the step to return to.
    pub fn back(&mut self) -> Step {
        self.picked = None;
        if self.step == Step::Confirm {
            Step::Week
        } else {
            Step::Menu
        }
    }

    /// The session the resident is asked to rate.
    pub fn set_to_rate(&mut self, booking: Option<i64>) {
        self.to_rate = booking;
    }

    /// The session to rate, taken once (one tap is one rating).
    pub fn take_to_rate(&mut self) -> Option<i64> {
        self.to_rate.take()
    }
}

pub use keting_desk::booking_view::{Actions, Cell, actions, cell, shown_on_menu};

/// Pianos free to play now: of `pianos`, neither taken (a session running
/// or kept for the queue) nor on a bank the centre cannot reach.
pub fn pianos_free(pianos: &[String], taken: &[String], unavailable: &[String]) -> usize {
    keting_core::booking::walk_up::free_for_queue(pianos, unavailable, taken).len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::booking::BookingState;
    use keting_core::booking::rules::BookingPolicy;
    use keting_core::booking::slots::Slot;
    use keting_core::calendar::{SiteCalendar, parse_date};
    use keting_desk::records::Booking;
    use std::time::Duration;

    fn day(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    fn at(h: i64) -> Timestamp {
        let cal = SiteCalendar::china();
        Timestamp::from_unix_millis(
            cal.start_of(day("2026-12-02")).as_unix_millis() + h * 3_600_000,
        )
    }

    fn booking(id: i64, member: u32, state: BookingState, start_h: i64) -> Booking {
        Booking {
            id,
            resource: "robot".into(),
            kind: keting_core::booking::ResourceKind::Robot,
            member: MemberId(member),
            member_name: String::new(),
            slot: Slot {
                start: at(start_h),
                end: at(start_h + 1),
            },
            walk_up: false,
            state,
            charge: None,
            returned: false,
            start_by: Some(at(start_h).saturating_add(Duration::from_secs(600))),
            end_reason: None,
            device: None,
        }
    }

    #[test]
    fn a_cell_is_mine_waiting_past_full_or_free_for_whoever_looks() {
        let slot = Slot {
            start: at(10),
            end: at(11),
        };
        let mine = booking(1, 7, BookingState::Booked, 10);
        let theirs = booking(2, 8, BookingState::Booked, 10);
        let waiting = booking(3, 9, BookingState::Waiting, 10);
        let all = [&mine, &theirs, &waiting];
        let p = BookingPolicy::default();
        assert_eq!(cell(&p, slot, 2, &all, MemberId(7), at(8)), Cell::Mine);
        assert_eq!(cell(&p, slot, 2, &all, MemberId(9), at(8)), Cell::Waiting);
        assert_eq!(cell(&p, slot, 2, &all, MemberId(5), at(8)), Cell::Full);
        assert_eq!(
            cell(&p, slot, 3, &all, MemberId(5), at(8)),
            Cell::Free(Some(1))
        );
        assert_eq!(cell(&p, slot, 1, &[], MemberId(5), at(8)), Cell::Free(None));
        // Within the site's start grace (10 minutes by default) the slot is
        // still offered, later not; a site with 20 minutes offers it longer,
        // as the booking decision would accept it.
        let late = at(10).saturating_add(Duration::from_secs(601));
        assert_eq!(cell(&p, slot, 1, &[], MemberId(5), late), Cell::Past);
        let patient = BookingPolicy {
            start_grace: Duration::from_secs(20 * 60),
            ..BookingPolicy::default()
        };
        assert_eq!(
            cell(&patient, slot, 1, &[], MemberId(5), late),
            Cell::Free(None)
        );
    }

    #[test]
    fn a_booking_can_be_started_near_its_time_and_cancelled_only_inside_the_window() {
        let policy = BookingPolicy::default();
        let b = booking(1, 7, BookingState::Booked, 10);
        assert_eq!(
            actions(&policy, &b, at(5)),
            Actions {
                start: false,
                cancel: true,
                end: false
            }
        );
        // An hour before: too late to cancel (2 h), too early to start (15 min).
        assert_eq!(actions(&policy, &b, at(9)), Actions::default());
        let ten_to = at(10).saturating_add(Duration::ZERO);
        assert!(actions(&policy, &b, ten_to).start);
        let running = booking(2, 7, BookingState::Started, 10);
        assert!(actions(&policy, &running, at(10)).end);
        assert!(!shown_on_menu(&booking(3, 7, BookingState::Done, 8)));
    }

    #[test]
    fn the_days_move_a_page_at_a_time_within_four_weeks_and_a_pick_is_taken_once() {
        let today = day("2026-12-02");
        let mut p = BookingsPage::default();
        p.scanned(MemberId(7), "李建国".into());
        p.open_resource("robot", today);
        p.shift(-1, 7, today);
        assert_eq!(p.week(), Some(("robot", today)), "never before today");
        for _ in 0..10 {
            p.shift(1, 7, today);
        }
        assert_eq!(
            p.week().map(|w| w.1),
            Some(today + time::Duration::days(BOOK_AHEAD_DAYS - 7))
        );
        p.set_step(Step::Confirm);
        p.pick(at(10), false);
        assert_eq!(p.take_picked(), Some((at(10), false)));
        assert_eq!(p.take_picked(), None, "a double tap books once");
        assert_eq!(p.back(), Step::Week);
        p.set_step(Step::Week);
        assert_eq!(p.back(), Step::Menu);
        p.scanned(MemberId(8), "王秀英".into());
        assert_eq!(p.week(), None, "another resident starts over");
    }

    #[test]
    fn a_piano_on_an_offline_bank_or_in_use_is_not_free() {
        let pianos: Vec<String> = (1..=8).map(|i| format!("piano-{i}")).collect();
        let taken = vec!["piano-1".to_owned(), "piano-2".to_owned()];
        let down = vec!["piano-2".to_owned(), "piano-3".to_owned()];
        assert_eq!(pianos_free(&pianos, &taken, &down), 5);
    }
}
