//! Pianos and bookings on the screen: the pass scanned, the services (the
//! pianos to play now, the robot, childcare and rooms to book), the
//! member's bookings with what can be done to them now (start, cancel,
//! end), a one-tap rating of the last session; a service's week of slots
//! (free, full, mine, waiting, past); a confirmation with what it costs;
//! the outcome in words.
//!
//! Every decision is the store's (`bookings`, `walk_up`, `ratings`), taken
//! in one write transaction; the centre then tells the devices. A piano
//! whose bank is offline is never given (the centre's view says which).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use keting_core::booking::slots::slots_on;
use keting_core::booking::{BookingState, Charge, ResourceKind};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use slint::{ComponentHandle, ModelRc, VecModel};
use time::Date;

use super::language::Language;
use super::scanned_member::member_of;
use super::shell::{self, State};
use super::{
    BookingsAdapter, BookingsStep, KioskWindow, MyBooking, ResourceTile, WeekCell, WeekDay,
};
use crate::controller::bookings::{self as booking_page, BookingsPage, Cell, Step};
use crate::controller::router::{ScanMeans, Screen};
use crate::words::{tr, tr_args};
use keting_core::booking::format_hours;
use keting_desk::bookings::BookingError;
use keting_desk::bookings::CancelAs;
use keting_desk::records::{Booking, ResourceRecord, WalkUp};
use keting_desk::{self as desk, Actor};

/// The page goes home after this long untouched.
pub const BOOKINGS_IDLE: Duration = crate::controller::router::RESIDENT_IDLE;
/// How long the outcome stays up.
pub const OUTCOME_SHOWN: Duration = Duration::from_secs(15);
/// Days in the week view (fewer in large-text mode, so each is readable).
const WEEK_DAYS: i64 = 7;
const WEEK_DAYS_LARGE_TEXT: i64 = 4;

fn days_shown(window: &KioskWindow) -> i64 {
    if window.global::<super::Theme>().get_large_text() {
        WEEK_DAYS_LARGE_TEXT
    } else {
        WEEK_DAYS
    }
}

/// Shows `step`, remembering it.
fn set_step(window: &KioskWindow, state: &Rc<RefCell<State>>, step: Step) {
    state.borrow_mut().bookings.set_step(step);
    window.global::<BookingsAdapter>().set_step(match step {
        Step::Scan => BookingsStep::Scan,
        Step::Menu => BookingsStep::Menu,
        Step::Week => BookingsStep::Week,
        Step::Confirm => BookingsStep::Confirm,
        Step::Done => BookingsStep::Done,
    });
}

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

fn message(window: &KioskWindow, text: &str) {
    let adapter = window.global::<BookingsAdapter>();
    adapter.set_message(text.into());
    adapter.set_note("".into());
}

fn hhmm(state: &Rc<RefCell<State>>, ts: Timestamp) -> String {
    let l = state.borrow().desk.site().calendar.local(ts);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

fn day_label(state: &Rc<RefCell<State>>, day: Date, today: Date) -> String {
    let zh = zh(state);
    match (day - today).whole_days() {
        0 => tr(zh, "Today"),
        1 => tr(zh, "Tomorrow"),
        _ => state.borrow().language.format_day_column(day),
    }
}

fn when(state: &Rc<RefCell<State>>, b: &Booking) -> String {
    let cal = state.borrow().desk.site().calendar;
    let today = cal.date_of(shell::now(state));
    format!(
        "{} {}-{}",
        day_label(state, cal.date_of(b.slot.start), today),
        hhmm(state, b.slot.start),
        hhmm(state, b.slot.end)
    )
}

fn state_words(zh: bool, s: BookingState) -> String {
    match s {
        BookingState::Waiting => tr(zh, "waiting list"),
        BookingState::Booked => tr(zh, "booked"),
        BookingState::Started => tr(zh, "in progress"),
        BookingState::ToCheck | BookingState::Done => tr(zh, "over"),
        BookingState::Failed => tr(zh, "device fault, given back"),
        BookingState::Cancelled => tr(zh, "cancelled"),
        BookingState::Released => tr(zh, "not started, released"),
        BookingState::Lapsed => tr(zh, "not promoted"),
    }
}

/// What a charge is, in words.
fn charge_words(zh: bool, c: Charge) -> String {
    match c {
        Charge::Free => tr(zh, "Free"),
        Charge::Points { points } => tr_args(zh, "{0} points (spent when it starts)", &[&points]),
        Charge::Yuan { fen, trial } => {
            let yuan = format!("{}.{:02}", fen / 100, fen % 100);
            if trial {
                tr_args(zh, "Trial price {0} yuan, pay at the desk", &[&yuan])
            } else {
                tr_args(zh, "{0} yuan, pay at the desk", &[&yuan])
            }
        }
        Charge::Package { .. } => tr(zh, "1 session of your package"),
    }
}

/// The bookings desk's refusal in the resident's words; a failure of the
/// database is logged and said as not working.
fn refusal_words(zh: bool, e: &BookingError) -> String {
    use keting_core::booking::BookingRefusal as R;
    match e {
        BookingError::Refused(r) => match r {
            R::SlotPast => tr(zh, "That slot is in the past: choose a later one"),
            R::Full => tr(
                zh,
                "That slot is full: choose another, or join the waiting list",
            ),
            R::AlreadyBooked => tr(zh, "You already have this slot"),
            R::OverDailyLimit { limit } => tr_args(
                zh,
                "That is over your limit of {0} a day for this service: choose another day",
                &[limit],
            ),
            R::OverWeeklyLimit { limit } => tr_args(
                zh,
                "That is over your limit of {0} a week for this service: choose another week",
                &[limit],
            ),
            R::PackageExpired => tr(zh, "Your course package expired: buy a new one at the desk"),
            R::PackageUsedUp => tr(
                zh,
                "Every session of your course package is used: buy a new one at the desk",
            ),
            R::TooLateToCancel { hours } => tr_args(
                zh,
                "Too late to cancel (until {0} h before the start): ask the staff",
                &[hours],
            ),
            R::NotBooked(state) => tr_args(zh, "This booking is {0}: nothing to do", &[state]),
            R::NotStartedInTime => tr(
                zh,
                "Not started in time: the place was given to the next person",
            ),
            R::TooEarly { minutes } => tr_args(
                zh,
                "Check-in opens {0} minutes before the start: come back then",
                &[minutes],
            ),
            R::ClosedNow { .. } => tr(zh, "Closed now"),
            R::WalkUpNotFree => tr(zh, "Walk-up sessions are free"),
        },
        BookingError::Points(_) => tr(zh, "Not enough points"),
        BookingError::NoSuchSlot { .. } => tr(zh, "No slot starts then: choose another"),
        other => {
            tracing::error!("services page: {other}");
            tr(zh, "Not working right now: please ask staff")
        }
    }
}

/// Opens the page at its first step: scan your pass.
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow_mut().bookings = BookingsPage::default();
    message(window, "");
    set_step(window, state, Step::Scan);
    shell::show_page(window, state, Screen::Bookings);
}

/// A scan on the page: the member's menu (another member's scan starts over).
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    match member_of(state, text) {
        Ok(member) => {
            state.borrow_mut().bookings.scanned(member.0, member.1);
            message(window, "");
            show_menu(window, state);
        }
        Err(why) => {
            message(window, &why);
            if state.borrow().bookings.step() != Step::Scan {
                set_step(window, state, Step::Scan);
            }
        }
    }
}

fn unavailable(state: &Rc<RefCell<State>>) -> Vec<String> {
    state
        .borrow()
        .doors
        .as_ref()
        .map(|rx| rx.borrow().unavailable.clone())
        .unwrap_or_default()
}

fn member(state: &Rc<RefCell<State>>) -> Option<MemberId> {
    state.borrow().bookings.member_id()
}

/// The services, the member's bookings, a rating to give.
fn show_menu(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let Some((who, name)) = state.borrow().bookings.member().cloned() else {
        return;
    };
    let zh = zh(state);
    let now = shell::now(state);
    let down = unavailable(state);
    let read = {
        let s = state.borrow();
        desk::bookings::member_services(s.desk.store(), who, now).map(|m| {
            // Taken (by a session in progress or one kept for the queue) or
            // on a bank the centre cannot reach: not free.
            let pianos: Vec<String> = m
                .resources
                .iter()
                .filter(|r| r.resource.kind == ResourceKind::Piano)
                .map(|r| r.resource.id.to_string())
                .collect();
            let free = booking_page::pianos_free(&pianos, &m.pianos_in_use, &down);
            (m.resources, m.mine, m.to_rate, m.piano_queue, free)
        })
    };
    let (all, mine, to_rate, queue, free) = match read {
        Ok(r) => r,
        Err(e) => {
            message(window, &refusal_words(zh, &e));
            return;
        }
    };
    let pianos: Vec<&ResourceRecord> = all
        .iter()
        .filter(|r| r.resource.kind == ResourceKind::Piano)
        .collect();
    let mut tiles = Vec::new();
    if let Some(first) = pianos.first() {
        let minutes = first.session.as_secs() / 60;
        let detail = match queue {
            0 => tr_args(
                zh,
                "{0} of {1} free · {2} min · free",
                &[&free, &pianos.len(), &minutes],
            ),
            q => tr_args(
                zh,
                "{0} of {1} free · {2} waiting",
                &[&free, &pianos.len(), &q],
            ),
        };
        tiles.push(ResourceTile {
            id: "piano".into(),
            name: tr(zh, "Play a piano").into(),
            detail: detail.into(),
            walk_up: true,
        });
    }
    for r in all
        .iter()
        .filter(|r| r.resource.kind != ResourceKind::Piano)
    {
        let res = &r.resource;
        let price = match (res.trial_price, res.price) {
            (Some(trial), _) => {
                charge_words(zh, keting_core::booking::rules::price_charge(trial, true))
            }
            (None, p) => charge_words(zh, keting_core::booking::rules::price_charge(p, false)),
        };
        tiles.push(ResourceTile {
            id: res.id.as_str().into(),
            name: res.name(zh).into(),
            detail: price.into(),
            walk_up: false,
        });
    }
    let policy = desk::bookings::rules(state.borrow().desk.store()).unwrap_or_default();
    let rows: Vec<MyBooking> = mine
        .iter()
        .filter(|b| booking_page::shown_on_menu(b))
        .map(|b| {
            let what = all
                .iter()
                .find(|r| r.resource.id.as_str() == b.resource)
                .map_or(b.resource.clone(), |r| r.resource.name(zh).to_owned());
            let can = booking_page::actions(&policy, b, now);
            MyBooking {
                id: i32::try_from(b.id).unwrap_or(0),
                what: what.into(),
                when: when(state, b).into(),
                state: state_words(zh, b.state).into(),
                can_start: can.start,
                can_cancel: can.cancel,
                can_end: can.end,
            }
        })
        .collect();
    let rate_what = to_rate.as_ref().map_or(String::new(), |b| {
        all.iter()
            .find(|r| r.resource.id.as_str() == b.resource)
            .map_or(b.resource.clone(), |r| r.resource.name(zh).to_owned())
    });
    state
        .borrow_mut()
        .bookings
        .set_to_rate(to_rate.map(|b| b.id));
    let adapter = window.global::<BookingsAdapter>();
    adapter.set_member(name.as_str().into());
    adapter.set_tiles(ModelRc::new(VecModel::from(tiles)));
    adapter.set_my_bookings(ModelRc::new(VecModel::from(rows)));
    adapter.set_rate_what(rate_what.into());
    set_step(window, state, Step::Menu);
}

/// A tap on a service: play a piano now, or open the service's week.
pub(super) fn tile(window: &KioskWindow, state: &Rc<RefCell<State>>, id: &str) {
    let Some(who) = member(state) else { return };
    if id == "piano" {
        play(window, state, who);
        return;
    }
    let cal = state.borrow().desk.site().calendar;
    {
        let mut s = state.borrow_mut();
        let today = cal.date_of(s.now);
        s.bookings.open_resource(id, today);
    }
    message(window, "");
    show_week(window, state);
}

fn done(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    ok: bool,
    headline: &str,
    detail: &str,
    end_booking: Option<i64>,
) {
    let adapter = window.global::<BookingsAdapter>();
    adapter.set_ok(ok);
    adapter.set_headline(headline.into());
    adapter.set_message(detail.into());
    adapter.set_end_booking(end_booking.and_then(|b| i32::try_from(b).ok()).unwrap_or(0));
    set_step(window, state, Step::Done);
    shell::stay(window, state, OUTCOME_SHOWN);
}

fn resource_name(state: &Rc<RefCell<State>>, id: &str) -> String {
    let zh = zh(state);
    desk::bookings::resource(state.borrow().desk.store(), id)
        .ok()
        .map_or(id.to_owned(), |r| r.resource.name(zh).to_owned())
}

fn play(window: &KioskWindow, state: &Rc<RefCell<State>>, who: MemberId) {
    let zh = zh(state);
    let down = unavailable(state);
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let got = desk::bookings::play_piano(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        who,
        &down,
        cal,
        now,
    );
    match got {
        Ok(WalkUp::Started(b)) => {
            let piano = resource_name(state, &b.resource);
            let until = hhmm(state, b.slot.end);
            done(
                window,
                state,
                true,
                &tr_args(zh, "Please go to {0}", &[&piano]),
                &tr_args(
                    zh,
                    "Play until {0}; a warning 5 minutes before, then the piano switches off",
                    &[&until],
                ),
                Some(b.id),
            );
        }
        Ok(WalkUp::AlreadyPlaying(b)) => {
            let piano = resource_name(state, &b.resource);
            let until = hhmm(state, b.slot.end);
            done(
                window,
                state,
                true,
                &tr_args(zh, "You are playing {0}", &[&piano]),
                &tr_args(zh, "Until {0}", &[&until]),
                Some(b.id),
            );
        }
        Ok(WalkUp::Queued { position }) => done(
            window,
            state,
            true,
            &tr_args(zh, "Number {0} in the queue", &[&position]),
            &tr(
                zh,
                "When a piano frees it is kept for you for 10 minutes: come back and scan to start",
            ),
            None,
        ),
        Err(e) => done(
            window,
            state,
            false,
            &tr(zh, "Cannot play now"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// The week of the resource being booked.
fn show_week(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let week = state
        .borrow()
        .bookings
        .week()
        .map(|(id, first)| (id.to_owned(), first));
    let (Some(who), Some((id, first))) = (member(state), week) else {
        return;
    };
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let read = {
        let s = state.borrow();
        let store = s.desk.store();
        (|| {
            let r = desk::bookings::resource(store, &id)?;
            let from = cal.start_of(first);
            let to = Timestamp::from_unix_millis(
                from.as_unix_millis() + days_shown(window) * 86_400_000,
            );
            let policy = desk::bookings::rules(store)?;
            Ok::<_, BookingError>((
                r,
                desk::bookings::of_resource(store, &id, from, to)?,
                policy,
            ))
        })()
    };
    let (r, booked, policy) = match read {
        Ok(x) => x,
        Err(e) => {
            message(window, &refusal_words(zh, &e));
            return;
        }
    };
    let mut days = Vec::new();
    for d in 0..days_shown(window) {
        let day = first + time::Duration::days(d);
        let cells: Vec<WeekCell> = slots_on(&r.resource, cal, day)
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                let here: Vec<&Booking> = booked.iter().collect();
                let (st, label) =
                    match booking_page::cell(&policy, slot, r.resource.capacity, &here, who, now) {
                        Cell::Waiting => ("waiting", tr(zh, "waiting")),
                        Cell::Mine => ("mine", tr(zh, "mine")),
                        Cell::Past => ("past", String::new()),
                        Cell::Full => ("full", tr(zh, "full")),
                        Cell::Free(Some(left)) => ("free", tr_args(zh, "{0} left", &[&left])),
                        Cell::Free(None) => ("free", tr(zh, "free")),
                    };
                WeekCell {
                    day: i32::try_from(d).unwrap_or(0),
                    slot: i32::try_from(i).unwrap_or(0),
                    time: hhmm(state, slot.start).into(),
                    state: st.into(),
                    label: label.into(),
                }
            })
            .collect();
        days.push(WeekDay {
            label: day_label(state, day, cal.date_of(now)).into(),
            cells: ModelRc::new(VecModel::from(cells)),
        });
    }
    let adapter = window.global::<BookingsAdapter>();
    adapter.set_week_title(r.resource.name(zh).into());
    adapter.set_week(ModelRc::new(VecModel::from(days)));
    set_step(window, state, Step::Week);
}

/// Earlier or later days in the week view (from today to four weeks ahead).
pub(super) fn shift(window: &KioskWindow, state: &Rc<RefCell<State>>, by: i32) {
    let today = state
        .borrow()
        .desk
        .site()
        .calendar
        .date_of(shell::now(state));
    let days = days_shown(window);
    state.borrow_mut().bookings.shift(by, days, today);
    show_week(window, state);
}

/// A slot tapped in the week: what it would cost, to confirm.
pub(super) fn pick(window: &KioskWindow, state: &Rc<RefCell<State>>, day: i32, slot: i32) {
    let zh = zh(state);
    let week = state
        .borrow()
        .bookings
        .week()
        .map(|(id, first)| (id.to_owned(), first));
    let (Some(who), Some((id, first))) = (member(state), week) else {
        return;
    };
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let date = first + time::Duration::days(i64::from(day));
    let quote = {
        let s = state.borrow();
        let store = s.desk.store();
        (|| {
            let r = desk::bookings::resource(store, &id)?;
            let slot = slots_on(&r.resource, cal, date)
                .into_iter()
                .nth(usize::try_from(slot).unwrap_or(usize::MAX))
                .ok_or_else(|| BookingError::NoSuchSlot {
                    resource: id.clone(),
                    hours: format_hours(&r.resource.hours),
                    slots: String::new(),
                })?;
            let (full, charge) = desk::bookings::slot_quote(store, cal, &id, slot.start, who, now)?;
            Ok::<_, BookingError>((r, slot, full, charge))
        })()
    };
    let (r, slot, full, charge) = match quote {
        Ok(q) => q,
        Err(e) => {
            message(window, &refusal_words(zh, &e));
            return;
        }
    };
    state.borrow_mut().bookings.pick(slot.start, full);
    let when = format!(
        "{} {}-{}",
        state.borrow().language.format_date(date),
        hhmm(state, slot.start),
        hhmm(state, slot.end)
    );
    let name = r.resource.name(zh);
    let adapter = window.global::<BookingsAdapter>();
    adapter.set_confirm_title(
        if full {
            tr_args(zh, "{0} is full: join the waiting list?", &[&name])
        } else {
            tr_args(zh, "Book {0}?", &[&name])
        }
        .into(),
    );
    adapter.set_confirm_when(when.into());
    let detail = charge_words(zh, charge);
    adapter.set_confirm_detail(
        if full {
            tr_args(zh, "Booked for you if a place frees: {0}", &[&detail])
        } else {
            detail
        }
        .into(),
    );
    adapter.set_confirm_wait(full);
    message(window, "");
    set_step(window, state, Step::Confirm);
}

/// "Yes, book it": books (or joins the waiting list).
pub(super) fn confirm(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let zh = zh(state);
    let picked = state.borrow_mut().bookings.take_picked();
    let resource = state.borrow().bookings.week().map(|(id, _)| id.to_owned());
    let (Some(who), Some(id), Some((start, wait))) = (member(state), resource, picked) else {
        // A double tap: the first one took it.
        return;
    };
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let booked = desk::bookings::book(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        &id,
        start,
        who,
        wait,
        cal,
        now,
    );
    let name = resource_name(state, &id);
    match booked {
        Ok(b) => {
            let when = when(state, &b.booking);
            match (b.waiting_position, b.booking.charge) {
                (Some(n), _) => done(
                    window,
                    state,
                    true,
                    &tr_args(zh, "On the waiting list, number {0}", &[&n]),
                    &tr_args(
                        zh,
                        "{0} {1}: booked for you if a place frees",
                        &[&name, &when],
                    ),
                    None,
                ),
                (None, charge) => done(
                    window,
                    state,
                    true,
                    &tr(zh, "Booked"),
                    &format!(
                        "{name} {when} · {}",
                        charge.map(|c| charge_words(zh, c)).unwrap_or_default()
                    ),
                    None,
                ),
            }
        }
        Err(e) => done(
            window,
            state,
            false,
            &tr(zh, "Not booked"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// "Go back": from the confirmation to the week, from the week to the menu.
pub(super) fn back(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let to = state.borrow_mut().bookings.back();
    message(window, "");
    if to == Step::Week {
        show_week(window, state);
    } else {
        show_menu(window, state);
    }
}

/// "Start": checks the member in for a booking that may start now.
pub(super) fn start(window: &KioskWindow, state: &Rc<RefCell<State>>, booking: i64) {
    let zh = zh(state);
    let Some(who) = member(state) else { return };
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let result = desk::bookings::start_booking(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        booking,
        cal,
        now,
    );
    match result {
        Ok(b) => {
            let name = resource_name(state, &b.resource);
            let until = hhmm(state, b.slot.end);
            done(
                window,
                state,
                true,
                &tr_args(zh, "{0} has started", &[&name]),
                &tr_args(zh, "It ends at {0}", &[&until]),
                Some(b.id),
            );
        }
        Err(e) => done(
            window,
            state,
            false,
            &tr(zh, "Not started"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// "Cancel": the member cancels (inside the window only staff can).
pub(super) fn cancel(window: &KioskWindow, state: &Rc<RefCell<State>>, booking: i64) {
    let zh = zh(state);
    let Some(who) = member(state) else { return };
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let result = desk::bookings::cancel(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        booking,
        CancelAs::Member,
        cal,
        now,
    );
    match result {
        Ok(c) => done(
            window,
            state,
            true,
            &tr(zh, "Cancelled"),
            &if c.returned {
                tr(zh, "The charge was given back")
            } else {
                String::new()
            },
            None,
        ),
        Err(e) => done(
            window,
            state,
            false,
            &tr(zh, "Not cancelled"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// "End now": the member ends their session (the device switches off).
pub(super) fn end(window: &KioskWindow, state: &Rc<RefCell<State>>, booking: i64) {
    let zh = zh(state);
    let Some(who) = member(state) else { return };
    let (cal, now) = (state.borrow().desk.site().calendar, shell::now(state));
    let result = desk::bookings::end(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        booking,
        cal,
        now,
    );
    match result {
        Ok(b) => {
            let name = resource_name(state, &b.resource);
            done(
                window,
                state,
                true,
                &tr(zh, "Ended, thank you"),
                &tr_args(zh, "{0} switches off now", &[&name]),
                None,
            );
        }
        Err(e) => done(
            window,
            state,
            false,
            &tr(zh, "Not ended"),
            &refusal_words(zh, &e),
            None,
        ),
    }
}

/// One tap on the stars: the rating of the last session.
pub(super) fn rate(window: &KioskWindow, state: &Rc<RefCell<State>>, stars: i32) {
    let zh = zh(state);
    let booking = state.borrow_mut().bookings.take_to_rate();
    let (Some(who), Some(booking)) = (member(state), booking) else {
        return;
    };
    let now = shell::now(state);
    let stars = u8::try_from(stars).unwrap_or(0);
    let result = desk::bookings::rate(
        state.borrow_mut().desk.store_mut(),
        Actor::Member(who),
        booking,
        stars,
        now,
    );
    show_menu(window, state);
    match result {
        Ok(()) => {
            message(window, "");
            window
                .global::<BookingsAdapter>()
                .set_note(tr(zh, "Thank you for rating").into());
        }
        Err(e) => message(window, &refusal_words(zh, &e)),
    }
}

/// Wires the pianos and bookings page's callbacks and its scans (whose
/// bookings).
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<BookingsAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    shell::wire!(b, adapter.on_tile(id) => touched |w, s| tile(w, s, &id));
    shell::wire!(b, adapter.on_pick(day, slot) => touched |w, s| pick(w, s, day, slot));
    shell::wire!(b, adapter.on_confirm() => touched |w, s| confirm(w, s));
    shell::wire!(b, adapter.on_back() => touched |w, s| back(w, s));
    shell::wire!(b, adapter.on_shift(by) => touched |w, s| shift(w, s, by));
    // A booking's own buttons: their outcome decides how long it stays.
    shell::wire!(b, adapter.on_start(id) => |w, s| start(w, s, i64::from(id)));
    shell::wire!(b, adapter.on_cancel(id) => |w, s| cancel(w, s, i64::from(id)));
    shell::wire!(b, adapter.on_end(id) => |w, s| end(w, s, i64::from(id)));
    shell::wire!(b, adapter.on_rate(stars) => touched |w, s| rate(w, s, stars));
    state
        .borrow_mut()
        .hooks
        .scan(ScanMeans::BookingsMember, scan);
}
