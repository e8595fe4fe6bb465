//! Connects the kiosk window to the check-in desk.
//!
//! Scanner keystrokes and demo taps become scans on the
//! [`CheckInDesk`]; the recorded decision becomes the result page, which
//! returns to the home page after [`BACK_HOME_AFTER`]. A database failure
//! shows "not working right now", never a welcome. The home page's figures
//! and the clock are refreshed every [`REFRESH_EVERY`], so check-ins made
//! elsewhere (the command line, a second kiosk) show up.

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use keting_core::checkin::{CheckInDecision, DenyReason};
use keting_core::ids::MemberId;
use slint::{ComponentHandle, ModelRc, SharedString, Timer, TimerMode, VecModel};
use tokio::sync::watch;

use super::activities_adapter;
use super::alarm_adapter;
use super::award_adapter;
use super::language::Language;
use super::points_adapter;
use super::restock_adapter;
use super::room_adapter::{self, RoomKiosk};
use super::service_desk_adapter;
use super::services_adapter;
use super::staff_adapter;
use super::{
    DemoCardEntry, KioskAdapter, KioskWindow, Outcome, Page, ProgrammeEntry, Refusal, Theme,
};
use crate::controller::activities::ActivitiesPage;
use crate::controller::award::AwardPage;
use crate::controller::points::PointsPage;
use crate::controller::router::{Router, ScanMeans, Screen};
use crate::controller::services::ServicesPage;
use crate::controller::staff::StaffPage;
use crate::scan_input::ScanInput;
use crate::words::{tr, tr_args};
use keting_centre::clock;
use keting_centre::demo::DemoCard;
use keting_centre::service::DoorsView;
use keting_desk::checkin::{CheckInDesk, ScanRecord};
use keting_desk::home::Places;
use keting_desk::records::ScanSource;

/// How long a result stays on screen.
pub const BACK_HOME_AFTER: Duration = crate::controller::router::RESULT_SHOWN;
/// How often the staff page looks for news from the doors.
pub const DOORS_REFRESH: Duration = Duration::from_millis(500);
/// How often the home page's figures and clock are refreshed.
pub const REFRESH_EVERY: Duration = Duration::from_secs(15);

/// The window's state, shared by the adapters' callbacks.
pub(super) struct State {
    pub(super) desk: CheckInDesk,
    input: ScanInput,
    pub(super) language: Language,
    demo_cards: Vec<DemoCard>,
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
    pub(super) services: ServicesPage,
    /// The activities page's member.
    pub(super) activities: ActivitiesPage,
    /// The room this kiosk counts attendance in (`kiosk --room NAME`).
    pub(super) room: Option<RoomKiosk>,
    /// The page shown, decided here, never read back from the window.
    pub(super) router: Router,
    /// The residents' pages' public address, when the centre serves them
    /// (the kiosk then offers "My phone").
    pub(super) resident_url: Option<String>,
}

/// The kiosk window wired to a check-in desk.
pub struct KioskUi {
    window: KioskWindow,
    state: Rc<RefCell<State>>,
    _refresh: Timer,
    _doors: Timer,
}

impl KioskUi {
    /// Creates the window (not yet shown) for `desk`, offering `demo_cards`
    /// on the home page if the site is a demo site.
    pub fn new(desk: CheckInDesk, demo_cards: Vec<DemoCard>) -> Result<Self, slint::PlatformError> {
        let window = KioskWindow::new()?;
        let adapter = window.global::<KioskAdapter>();
        adapter.set_centre_name(desk.site().name.as_str().into());
        adapter.set_demo(desk.site().demo && !demo_cards.is_empty());
        let state = Rc::new(RefCell::new(State {
            desk,
            input: ScanInput::new(),
            language: Language::Chinese,
            demo_cards,
            back_home: Timer::default(),
            doors: None,
            staff: StaffPage::default(),
            points: PointsPage::default(),
            points_timer: Timer::default(),
            award: AwardPage::default(),
            services: ServicesPage::default(),
            activities: ActivitiesPage::default(),
            room: None,
            router: Router::default(),
            resident_url: None,
        }));

        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_key_typed(move |text| {
            with(&w, &s, |window, state| {
                let scan = state.borrow_mut().input.key(&text, Instant::now());
                if let Some(scan) = scan {
                    handle_scan(window, state, &scan, ScanSource::Scanner);
                }
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_scanned(move |pass| {
            with(&w, &s, |window, state| {
                handle_scan(window, state, &pass, ScanSource::DemoTap)
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_language_chosen(move |code| {
            with(&w, &s, |window, state| {
                if let Some(language) = Language::from_code(&code) {
                    set_language(window, state, language);
                }
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_back_home(move || with(&w, &s, go_home));
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_door_open(move |door| {
            with(&w, &s, |window, state| {
                touch(window, state);
                staff_adapter::open_door(window, state, &door);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_points_open(move || {
            with(&w, &s, |window, state| {
                points_adapter::open(window, state);
                touch(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_points_choose(move |device, slot| {
            with(&w, &s, |window, state| {
                touch(window, state);
                points_adapter::choose(window, state, &device, u8::try_from(slot).unwrap_or(0));
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_points_confirm(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                points_adapter::confirm(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_points_cancel(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                points_adapter::cancel(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_activities_open(move || {
            with(&w, &s, |window, state| {
                activities_adapter::open(window, state);
                touch(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_phone_open(move || {
            with(&w, &s, |window, state| {
                super::phone_adapter::open(window, state);
                touch(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_activity_tap(move |id| {
            with(&w, &s, |window, state| {
                touch(window, state);
                activities_adapter::tap_on(window, state, i64::from(id));
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_services_open(move || {
            with(&w, &s, |window, state| {
                services_adapter::open(window, state);
                touch(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_services_tile(move |id| {
            with(&w, &s, |window, state| {
                touch(window, state);
                services_adapter::tile(window, state, &id);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_services_pick(move |day, slot| {
            with(&w, &s, |window, state| {
                touch(window, state);
                services_adapter::pick(window, state, day, slot);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_services_confirm(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                services_adapter::confirm(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_services_back(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                services_adapter::back(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_services_shift(move |by| {
            with(&w, &s, |window, state| {
                touch(window, state);
                services_adapter::shift(window, state, by);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_booking_start(move |id| {
            with(&w, &s, |window, state| {
                services_adapter::start(window, state, i64::from(id))
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_booking_cancel(move |id| {
            with(&w, &s, |window, state| {
                services_adapter::cancel(window, state, i64::from(id))
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_booking_end(move |id| {
            with(&w, &s, |window, state| {
                services_adapter::end(window, state, i64::from(id))
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_rate(move |stars| {
            with(&w, &s, |window, state| {
                touch(window, state);
                services_adapter::rate(window, state, stars);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_desk_open(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                service_desk_adapter::open(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_desk_clear(move |id| {
            with(&w, &s, |window, state| {
                touch(window, state);
                service_desk_adapter::clear(window, state, id);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_restock_open(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                restock_adapter::open(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_restock_add(move |device, slot, n| {
            with(&w, &s, |window, state| {
                touch(window, state);
                restock_adapter::add(window, state, &device, slot, n);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_award_open(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                award_adapter::open(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_award_choose(move |name, worth| {
            with(&w, &s, |window, state| {
                touch(window, state);
                award_adapter::choose(window, state, &name, worth);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_award_reverse(move |posting| {
            with(&w, &s, |window, state| {
                touch(window, state);
                award_adapter::reverse(window, state, posting);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_pin_digit(move |digit| {
            with(&w, &s, |window, state| {
                touch(window, state);
                staff_adapter::pin_digit(window, state, &digit);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_pin_back(move || {
            with(&w, &s, |window, state| {
                touch(window, state);
                staff_adapter::pin_back(window, state);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_alarm_ack(move |id| {
            with(&w, &s, |window, state| {
                touch(window, state);
                alarm_adapter::ack(window, state, id);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_claim_confirm(move |device| {
            with(&w, &s, |window, state| {
                touch(window, state);
                staff_adapter::confirm_claim(window, state, &device);
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_gym_extend(move |member| {
            with(&w, &s, |window, state| {
                touch(window, state);
                staff_adapter::extend(window, state, MemberId(u32::try_from(member).unwrap_or(0)));
            })
        });
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        adapter.on_gym_revoke(move |member| {
            with(&w, &s, |window, state| {
                touch(window, state);
                staff_adapter::revoke(window, state, MemberId(u32::try_from(member).unwrap_or(0)));
            })
        });

        let refresh = Timer::default();
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        refresh.start(TimerMode::Repeated, REFRESH_EVERY, move || {
            with(&w, &s, refresh_home)
        });
        // The doors view changes as devices report: follow it on the staff page.
        let doors_timer = Timer::default();
        let (w, s) = (window.as_weak(), Rc::downgrade(&state));
        doors_timer.start(TimerMode::Repeated, DOORS_REFRESH, move || {
            with(&w, &s, |window, state| {
                let changed = state
                    .borrow_mut()
                    .doors
                    .as_mut()
                    .is_some_and(|rx| rx.has_changed().unwrap_or(false));
                let page = state.borrow().router.screen();
                if changed {
                    if let Some(rx) = state.borrow_mut().doors.as_mut() {
                        rx.mark_unchanged();
                    }
                    // Alarms show on every page.
                    alarm_adapter::update(window, state);
                    if page == Screen::Staff {
                        staff_adapter::refresh(window, state);
                    } else if page == Screen::ServiceDesk {
                        service_desk_adapter::refresh(window, state);
                    }
                }
            })
        });

        set_language(&window, &state, Language::Chinese);
        Ok(Self {
            window,
            state,
            _refresh: refresh,
            _doors: doors_timer,
        })
    }

    /// The window.
    pub fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// Handles a complete scan as if the scanner had sent it.
    pub fn scan(&self, text: &str, source: ScanSource) {
        handle_scan(&self.window, &self.state, text, source);
    }

    /// Follows the centre's doors view on the staff page.
    pub fn set_doors(&self, doors: watch::Receiver<DoorsView>) {
        self.state.borrow_mut().doors = Some(doors);
        alarm_adapter::update(&self.window, &self.state);
    }

    /// Switches the screen's language.
    pub fn set_language(&self, language: Language) {
        set_language(&self.window, &self.state, language);
    }

    /// Makes this a room's kiosk (`kiosk --room NAME`): it rests on the
    /// room's page, and a scan counts as attendance of what is on there.
    pub fn set_room(&self, room: &str) {
        {
            let mut s = self.state.borrow_mut();
            s.room = Some(RoomKiosk::new(room.to_owned()));
            s.router = Router::resting_on(Screen::Room);
        }
        self.window.global::<KioskAdapter>().set_page(Page::Room);
        refresh_home(&self.window, &self.state);
    }

    /// Offers "My phone" on the home page: the residents' pages are served
    /// at `url` (their public address, the operator's proxy).
    pub fn set_resident_url(&self, url: &str) {
        self.state.borrow_mut().resident_url = Some(url.to_owned());
        self.window.global::<KioskAdapter>().set_phone_offered(true);
    }

    /// Opens the "my phone" page (as its button on the home page does).
    pub fn open_phone(&self) {
        super::phone_adapter::open(&self.window, &self.state);
    }

    /// Opens the activities page (as its button on the home page does).
    pub fn open_activities(&self) {
        activities_adapter::open(&self.window, &self.state);
    }

    /// Switches large-text mode.
    pub fn set_large_text(&self, on: bool) {
        self.window.global::<Theme>().set_large_text(on);
    }

    /// Shows the "not working right now" page, as after a database failure.
    pub fn show_out_of_order(&self) {
        show_result(
            &self.window,
            &self.state,
            Outcome::OutOfOrder,
            Refusal::NotAPass,
            "",
        );
    }

    /// Settles every redemption under way with `outcome`, as the centre does
    /// on a machine's answer, and shows it (screenshots and tests without a
    /// centre).
    pub fn settle_open_redemptions(
        &self,
        outcome: keting_core::messages::VendOutcome,
    ) -> Result<(), keting_desk::vending::VendingError> {
        {
            let mut s = self.state.borrow_mut();
            let cal = s.desk.site().calendar;
            keting_desk::vending::settle_all_under_way(
                s.desk.store_mut(),
                outcome,
                cal,
                clock::now(),
            )?;
        }
        points_adapter::refresh(&self.window, &self.state);
        Ok(())
    }

    /// Shows the window and runs the event loop until it is closed.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

fn with(
    w: &slint::Weak<KioskWindow>,
    s: &Weak<RefCell<State>>,
    f: impl FnOnce(&KioskWindow, &Rc<RefCell<State>>),
) {
    if let (Some(window), Some(state)) = (w.upgrade(), s.upgrade()) {
        f(&window, &state);
    }
}

fn handle_scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str, source: ScanSource) {
    let means = state.borrow().router.screen().scan_means();
    match means {
        ScanMeans::Award => {
            touch(window, state);
            award_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::ServicesMember => {
            touch(window, state);
            services_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::PointsMember => {
            touch(window, state);
            points_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::SelectMember => {
            touch(window, state);
            staff_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::ActivitiesMember => {
            touch(window, state);
            activities_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::RoomAttendance => {
            room_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::PhoneMember => {
            touch(window, state);
            super::phone_adapter::scan(window, state, text);
            return;
        }
        ScanMeans::CheckIn => {}
    }
    let result = state.borrow_mut().desk.scan(text, clock::now(), source);
    match result {
        Ok(record) => {
            if matches!(record.decision, CheckInDecision::Accepted { .. })
                && let Some((id, name)) = &record.member
                && staff_adapter::is_staff(state, *id)
            {
                staff_adapter::ask_pin(window, state, *id, name);
                return;
            }
            let (outcome, refusal) = present(&record);
            let name = record
                .member
                .as_ref()
                .map(|(_, n)| n.as_str())
                .unwrap_or("");
            show_result(window, state, outcome, refusal, name);
        }
        Err(e) => {
            tracing::error!("check-in failed: {e}");
            show_result(window, state, Outcome::OutOfOrder, Refusal::NotAPass, "");
        }
    }
}

fn present(record: &ScanRecord) -> (Outcome, Refusal) {
    match record.decision {
        CheckInDecision::Accepted { counted: true, .. } => (Outcome::Welcome, Refusal::NotAPass),
        CheckInDecision::Accepted { counted: false, .. } => {
            (Outcome::WelcomeAgain, Refusal::NotAPass)
        }
        CheckInDecision::Denied(reason) => (
            Outcome::Refused,
            match reason {
                DenyReason::NotAPass => Refusal::NotAPass,
                DenyReason::WrongSite => Refusal::WrongSite,
                DenyReason::BadSignature => Refusal::BadSignature,
                DenyReason::Revoked => Refusal::Revoked,
                DenyReason::UnknownMember => Refusal::UnknownMember,
                DenyReason::Expired => Refusal::Expired,
                DenyReason::ClockWrong => Refusal::ClockWrong,
            },
        ),
    }
}

fn show_result(
    window: &KioskWindow,
    state: &Rc<RefCell<State>>,
    outcome: Outcome,
    refusal: Refusal,
    name: &str,
) {
    let adapter = window.global::<KioskAdapter>();
    adapter.set_outcome(outcome);
    adapter.set_refusal(refusal);
    adapter.set_member_name(name.into());
    // Showing it again restarts its time: the newest result stays up for the full time.
    show_page(window, state, Screen::Result);
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
        Screen::Services => Page::Services,
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

/// Something happened on the page: its time to go home starts again.
fn touch(window: &KioskWindow, state: &Rc<RefCell<State>>) {
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
    let (w, s) = (window.as_weak(), Rc::downgrade(state));
    // Every touch restarts this timer, so its firing is the page's time up
    // (on Slint's clock, which the headless tests move by hand).
    state
        .borrow()
        .back_home
        .start(TimerMode::SingleShot, idle, move || with(&w, &s, go_home));
}

fn go_home(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    state.borrow().back_home.stop();
    state.borrow().points_timer.stop();
    {
        let mut s = state.borrow_mut();
        s.staff.close();
        s.points = PointsPage::default();
        s.award = AwardPage::default();
        s.services = ServicesPage::default();
        s.activities = ActivitiesPage::default();
        s.router.go_home();
    }
    let home = state.borrow().router.home();
    window.global::<KioskAdapter>().set_page(page_of(home));
    refresh_home(window, state);
}

fn set_language(window: &KioskWindow, state: &Rc<RefCell<State>>, language: Language) {
    state.borrow_mut().language = language;
    if let Err(e) = slint::select_bundled_translation(language.bundled_translation()) {
        tracing::error!("cannot switch the screen to {}: {e}", language.code());
    }
    let adapter = window.global::<KioskAdapter>();
    adapter.set_language(language.code().into());
    let cards: Vec<DemoCardEntry> = state
        .borrow()
        .demo_cards
        .iter()
        .map(|c| DemoCardEntry {
            label: match language {
                Language::Chinese => c.label_zh.as_str().into(),
                Language::English => c.label_en.as_str().into(),
            },
            pass: c.pass.as_str().into(),
        })
        .collect();
    adapter.set_demo_cards(ModelRc::new(VecModel::from(cards)));
    refresh_home(window, state);
    alarm_adapter::update(window, state);
}

fn refresh_home(window: &KioskWindow, state_rc: &Rc<RefCell<State>>) {
    let state = state_rc.borrow();
    let adapter = window.global::<KioskAdapter>();
    let now = clock::now();
    let cal = state.desk.site().calendar;
    let local = cal.local(now);
    adapter.set_date(state.language.format_date(local.date()).into());
    adapter.set_clock(format!("{:02}:{:02}", local.hour(), local.minute()).into());
    match state.desk.visits_today(now) {
        Ok(n) => adapter.set_visits_today(i32::try_from(n).unwrap_or(i32::MAX)),
        Err(e) => tracing::error!("cannot count today's visits: {e}"),
    }
    match keting_desk::home::announcement(state.desk.store(), now) {
        Ok(notice) => {
            let text = notice.map(|(zh, en)| match state.language {
                Language::English if !en.is_empty() => en,
                _ => zh,
            });
            adapter.set_district_notice(text.unwrap_or_default().into());
        }
        Err(e) => tracing::error!("cannot read the district's announcement: {e}"),
    }
    match keting_desk::home::on_today(state.desk.store(), cal, local.date(), now) {
        Ok(items) => {
            let zh = state.language == Language::Chinese;
            let entries: Vec<ProgrammeEntry> = items
                .iter()
                .map(|i| {
                    let (title, place) = match state.language {
                        Language::Chinese => (&i.title_zh, &i.place_zh),
                        Language::English => (&i.title_en, &i.place_en),
                    };
                    let places = match i.places {
                        Some(Places::Left(n)) => tr_args(zh, "{0} places left", &[&n]),
                        Some(Places::Full { .. }) => tr(zh, "Full"),
                        Some(Places::Cancelled) => tr(zh, "Cancelled"),
                        Some(Places::Over) | None => String::new(),
                    };
                    ProgrammeEntry {
                        starts: SharedString::from(i.starts.as_str()),
                        title: title.as_str().into(),
                        place: place.as_str().into(),
                        places: places.into(),
                    }
                })
                .collect();
            adapter.set_programme(ModelRc::new(VecModel::from(entries)));
        }
        Err(e) => tracing::error!("cannot read today's programme: {e}"),
    }
    drop(state);
    room_adapter::refresh(window, state_rc);
}
