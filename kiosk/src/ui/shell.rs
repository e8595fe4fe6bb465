//! The screen's shell: the window's one [`State`], the page shown and its
//! time to go home, and the one entry through which every event of the
//! window (a tap, a key, a timer) reaches a page: it reads the clock once
//! ([`State::now`], the event's tick) and hands the page its window and
//! state.
//!
//! Each page adapter wires its own callbacks ([`Binder`], [`wire!`]) and
//! hooks what is its own into the shell: the scans its page takes
//! ([`Hooks::scan`]), what it redraws when the devices report
//! ([`Hooks::on_doors`]) and when the home page refreshes
//! ([`Hooks::on_refresh`]). The shell imports no page.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use keting_centre::clock;
use keting_centre::demo::DemoCard;
use keting_centre::service::DoorsView;
use keting_core::time::Timestamp;
use keting_desk::checkin::CheckInDesk;
use slint::{ComponentHandle, Timer, TimerMode};
use tokio::sync::watch;

use super::language::Language;
use super::{KioskAdapter, KioskWindow, Page};
use crate::controller::activities::ActivitiesPage;
use crate::controller::award::AwardPage;
use crate::controller::bookings::BookingsPage;
use crate::controller::points::PointsPage;
use crate::controller::room::RoomKiosk;
use crate::controller::router::{Router, ScanMeans, Screen};
use crate::controller::staff::StaffPage;
use crate::scan_input::ScanInput;

/// A page's handler of an event with no argument.
pub(super) type Handler = fn(&KioskWindow, &Rc<RefCell<State>>);
/// A page's handler of a whole scan.
pub(super) type ScanHandler = fn(&KioskWindow, &Rc<RefCell<State>>, &str);

/// What the pages hooked into the shell.
#[derive(Default)]
pub(super) struct Hooks {
    /// Who takes a scan, by what a scan means on the page shown.
    scan: Vec<(ScanMeans, ScanHandler)>,
    /// Redrawn when the devices' states change (on every page).
    on_doors: Vec<Handler>,
    /// Redrawn with the home page (every [`REFRESH_EVERY`], and on going
    /// home).
    on_refresh: Vec<Handler>,
}

impl Hooks {
    /// `handler` takes the scans that mean `means`.
    pub(super) fn scan(&mut self, means: ScanMeans, handler: ScanHandler) {
        self.scan.push((means, handler));
    }

    /// `handler` runs when the devices' states change.
    pub(super) fn on_doors(&mut self, handler: Handler) {
        self.on_doors.push(handler);
    }

    /// `handler` runs when the home page refreshes.
    pub(super) fn on_refresh(&mut self, handler: Handler) {
        self.on_refresh.push(handler);
    }
}

/// How often the home page's figures and clock are refreshed.
pub const REFRESH_EVERY: Duration = Duration::from_secs(15);
/// How often the shell looks for news from the doors.
pub const DOORS_REFRESH: Duration = Duration::from_millis(500);

/// The window's state, shared by the pages' callbacks.
pub(super) struct State {
    /// The check-in desk (and through it the database).
    pub(super) desk: CheckInDesk,
    /// The scanner's keystrokes, until a whole scan.
    pub(super) input: ScanInput,
    /// The screen's language.
    pub(super) language: Language,
    /// The demo site's cards to tap.
    pub(super) demo_cards: Vec<DemoCard>,
    /// The event being handled happened at this time: the clock is read
    /// once per event, here, and every page decides with it.
    pub(super) now: Timestamp,
    back_home: Timer,
    /// The doors view from the centre, if one runs.
    pub(super) doors: Option<watch::Receiver<DoorsView>>,
    /// The staff page: who opened it, whom they selected.
    pub(super) staff: StaffPage,
    /// The points page's member, choice and redemption under way.
    pub(super) points: PointsPage,
    /// Follows a redemption under way.
    pub(super) points_timer: Timer,
    /// The award page's activity and awards.
    pub(super) award: AwardPage,
    /// The pianos and bookings page's member and choices.
    pub(super) bookings: BookingsPage,
    /// The activities page's member.
    pub(super) activities: ActivitiesPage,
    /// The room this kiosk counts attendance in (`kiosk --room NAME`).
    pub(super) room: Option<RoomKiosk>,
    /// The page shown, decided here, never read back from the window.
    pub(super) router: Router,
    /// The residents' pages' public address, when the centre serves them
    /// (the kiosk then offers "My phone").
    pub(super) resident_url: Option<String>,
    /// What the pages hooked in.
    pub(super) hooks: Hooks,
}

impl State {
    /// A window's state at its start, on the home page.
    pub(super) fn new(desk: CheckInDesk, demo_cards: Vec<DemoCard>) -> Self {
        Self {
            desk,
            input: ScanInput::new(),
            language: Language::Chinese,
            demo_cards,
            now: clock::now(),
            back_home: Timer::default(),
            doors: None,
            staff: StaffPage::default(),
            points: PointsPage::default(),
            points_timer: Timer::default(),
            award: AwardPage::default(),
            bookings: BookingsPage::default(),
            activities: ActivitiesPage::default(),
            room: None,
            router: Router::default(),
            resident_url: None,
            hooks: Hooks::default(),
        }
    }
}

/// The event entry: a weak handle on the window and its state, for a
/// callback to run a page's function with.
#[derive(Clone)]
pub(super) struct Binder {
    window: slint::Weak<KioskWindow>,
    state: Weak<RefCell<State>>,
}

impl Binder {
    /// The entry for `window` and `state`.
    pub(super) fn new(window: &KioskWindow, state: &Rc<RefCell<State>>) -> Self {
        Self {
            window: window.as_weak(),
            state: Rc::downgrade(state),
        }
    }

    /// Runs `f` for an event happening now (the clock read here, once),
    /// if the window is still there.
    pub(super) fn run(&self, f: impl FnOnce(&KioskWindow, &Rc<RefCell<State>>)) {
        if let (Some(window), Some(state)) = (self.window.upgrade(), self.state.upgrade()) {
            state.borrow_mut().now = clock::now();
            f(&window, &state);
        }
    }

    /// Runs `f` for a touch on the page: its time to go home starts again
    /// first.
    pub(super) fn touched(&self, f: impl FnOnce(&KioskWindow, &Rc<RefCell<State>>)) {
        self.run(|window, state| {
            touch(window, state);
            f(window, state);
        });
    }
}

/// Wires a callback of the window's adapter global to a page's code:
/// `wire!(binder, adapter.on_x(a, b) => |window, state| body)` (or
/// `touched |window, state| body`, which restarts the page's time first).
macro_rules! wire {
    ($binder:expr, $adapter:ident . $on:ident ( $($arg:ident),* ) => touched |$w:ident, $s:ident| $body:expr) => {{
        let b = $binder.clone();
        $adapter.$on(move |$($arg),*| b.touched(|$w, $s| $body));
    }};
    ($binder:expr, $adapter:ident . $on:ident ( $($arg:ident),* ) => |$w:ident, $s:ident| $body:expr) => {{
        let b = $binder.clone();
        $adapter.$on(move |$($arg),*| b.run(|$w, $s| $body));
    }};
}
pub(super) use wire;

/// Hands a whole scan to the page that takes what a scan means on the page
/// shown; `false` if none does (a check-in).
pub(super) fn dispatch_scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) -> bool {
    let means = state.borrow().router.screen().scan_means();
    let handler = state
        .borrow()
        .hooks
        .scan
        .iter()
        .find(|(m, _)| *m == means)
        .map(|(_, h)| *h);
    match handler {
        Some(h) => {
            if means != ScanMeans::RoomAttendance {
                touch(window, state);
            }
            h(window, state, text);
            true
        }
        None => false,
    }
}

/// Runs every hook in `which` of the pages.
fn run_hooks(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    which: impl Fn(&Hooks) -> &Vec<Handler>,
) {
    let handlers: Vec<Handler> = which(&state.borrow().hooks).clone();
    for h in handlers {
        h(window, state);
    }
}

/// The home page and what hooks into its refresh, redrawn.
pub(super) fn refresh(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    run_hooks(window, state, |h| &h.on_refresh);
}

/// Starts the shell's timers: the home page's refresh and the doors' news.
pub(super) fn start_timers(window: &KioskWindow, state: &Rc<RefCell<State>>) -> [Timer; 2] {
    let refresh_timer = Timer::default();
    let b = Binder::new(window, state);
    refresh_timer.start(TimerMode::Repeated, REFRESH_EVERY, move || b.run(refresh));
    let doors_timer = Timer::default();
    let b = Binder::new(window, state);
    doors_timer.start(TimerMode::Repeated, DOORS_REFRESH, move || {
        b.run(|window, state| {
            let changed = state
                .borrow_mut()
                .doors
                .as_mut()
                .is_some_and(|rx| rx.has_changed().unwrap_or(false));
            if changed {
                if let Some(rx) = state.borrow_mut().doors.as_mut() {
                    rx.mark_unchanged();
                }
                run_hooks(window, state, |h| &h.on_doors);
            }
        })
    });
    [refresh_timer, doors_timer]
}

/// The Slint page of a screen: the one place the two meet.
fn page_of(screen: Screen) -> Page {
    match screen {
        Screen::Home => Page::Home,
        Screen::Result => Page::Result,
        Screen::StaffPin => Page::StaffPin,
        Screen::Staff => Page::Staff,
        Screen::Points => Page::Points,
        Screen::Award => Page::Award,
        Screen::Restock => Page::Restock,
        Screen::Bookings => Page::Bookings,
        Screen::Activities => Page::Activities,
        Screen::Room => Page::Room,
        Screen::ServiceDesk => Page::ServiceDesk,
        Screen::Phone => Page::Phone,
    }
}

/// Shows `screen` (the router decides; the window follows) and starts its
/// time to go home.
pub(super) fn show_page(window: &KioskWindow, state: &Rc<RefCell<State>>, screen: Screen) {
    let idle = state.borrow_mut().router.show(screen);
    window.global::<KioskAdapter>().set_page(page_of(screen));
    restart_home_timer(window, state, idle);
}

/// Rests on `screen` from now on (a room's kiosk rests on the room's page).
pub(super) fn rest_on(window: &KioskWindow, state: &Rc<RefCell<State>>, screen: Screen) {
    state.borrow_mut().router = Router::resting_on(screen);
    window.global::<KioskAdapter>().set_page(page_of(screen));
}

/// Something happened on the page: its time to go home starts again.
pub(super) fn touch(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let idle = state.borrow().router.screen().idle();
    restart_home_timer(window, state, idle);
}

/// The current page goes home after `idle` unless something happens (an
/// outcome shown for a while, longer or shorter than the page's own time).
pub(super) fn stay(window: &KioskWindow, state: &Rc<RefCell<State>>, idle: Duration) {
    restart_home_timer(window, state, Some(idle));
}

fn restart_home_timer(window: &KioskWindow, state: &Rc<RefCell<State>>, idle: Option<Duration>) {
    let Some(idle) = idle else {
        state.borrow().back_home.stop();
        return;
    };
    let b = Binder::new(window, state);
    // Every touch restarts this timer, so its firing is the page's time up
    // (on Slint's clock, which the headless tests move by hand).
    state
        .borrow()
        .back_home
        .start(TimerMode::SingleShot, idle, move || b.run(go_home));
}

/// Back to the home page (or the room's): every page's state forgotten.
pub(super) fn go_home(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow().back_home.stop();
    state.borrow().points_timer.stop();
    {
        let mut s = state.borrow_mut();
        s.staff.close();
        s.points = PointsPage::default();
        s.award = AwardPage::default();
        s.bookings = BookingsPage::default();
        s.activities = ActivitiesPage::default();
        s.router.go_home();
    }
    let home = state.borrow().router.home();
    window.global::<KioskAdapter>().set_page(page_of(home));
    refresh(window, state);
}

/// The time of the event being handled (read once, as it reached the
/// shell).
pub(super) fn now(state: &Rc<RefCell<State>>) -> Timestamp {
    state.borrow().now
}
