//! The window: [`KioskUi`] builds it, hands every page adapter its part
//! of the window to wire (the shell, [`super::shell`], holds the state and
//! the page shown), and runs it; and the check-in page itself, the home
//! page and a scan's result.
//!
//! Scanner keystrokes and demo taps become scans on the
//! [`CheckInDesk`] (unless the page shown takes them); the recorded
//! decision becomes the result page, which returns to the home page after
//! [`BACK_HOME_AFTER`]. A database failure shows "not working right now",
//! never a welcome. The home page's figures and the clock are refreshed
//! every [`REFRESH_EVERY`], so check-ins made elsewhere (the command line,
//! a second kiosk) show up.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use keting_core::checkin::{CheckInDecision, DenyReason};
use slint::{ComponentHandle, ModelRc, SharedString, Timer, VecModel};
use tokio::sync::watch;

use super::language::Language;
use super::shell::{self, Binder, State, wire};
use super::{
    DemoCardEntry, KioskAdapter, KioskWindow, Outcome, ProgrammeEntry, Refusal, Theme,
    activities_adapter, alarm_adapter, award_adapter, bookings_adapter, phone_adapter,
    points_adapter, restock_adapter, room_adapter, service_desk_adapter, staff_adapter,
};
use crate::controller::room::RoomKiosk;
use crate::controller::router::Screen;
use crate::words::{tr, tr_args};
use keting_centre::demo::DemoCard;
use keting_centre::service::DoorsView;
use keting_desk::checkin::{CheckInDesk, ScanRecord};
use keting_desk::home::Places;
use keting_desk::records::ScanSource;

/// How long a result stays on screen.
pub const BACK_HOME_AFTER: Duration = crate::controller::router::RESULT_SHOWN;
/// How often the shell looks for news from the doors.
pub const DOORS_REFRESH: Duration = shell::DOORS_REFRESH;
/// How often the home page's figures and clock are refreshed.
pub const REFRESH_EVERY: Duration = shell::REFRESH_EVERY;

/// The kiosk window wired to a check-in desk.
pub struct KioskUi {
    window: KioskWindow,
    state: Rc<RefCell<State>>,
    _timers: [Timer; 2],
}

impl KioskUi {
    /// Creates the window (not yet shown) for `desk`, offering `demo_cards`
    /// on the home page if the site is a demo site.
    pub fn new(desk: CheckInDesk, demo_cards: Vec<DemoCard>) -> Result<Self, slint::PlatformError> {
        let window = KioskWindow::new()?;
        let adapter = window.global::<KioskAdapter>();
        adapter.set_centre_name(desk.site().name.as_str().into());
        adapter.set_demo(desk.site().demo && !demo_cards.is_empty());
        let state = Rc::new(RefCell::new(State::new(desk, demo_cards)));
        // The check-in page: the scanner, the demo's taps, the language.
        let b = Binder::new(&window, &state);
        wire!(b, adapter.on_key_typed(text) => |w, s| {
            let scan = s.borrow_mut().input.key(&text, Instant::now());
            if let Some(scan) = scan {
                handle_scan(w, s, &scan, ScanSource::Scanner);
            }
        });
        wire!(b, adapter.on_scanned(pass) => |w, s| handle_scan(w, s, &pass, ScanSource::DemoTap));
        wire!(b, adapter.on_language_chosen(code) => |w, s| {
            if let Some(language) = Language::from_code(&code) {
                set_language(w, s, language);
            }
        });
        wire!(b, adapter.on_back_home() => |w, s| shell::go_home(w, s));
        state.borrow_mut().hooks.on_refresh(refresh_home);
        // Every other page wires its own. (The alarm line first: it is
        // redrawn before the page under it when the devices report.)
        alarm_adapter::wire(&window, &state);
        staff_adapter::wire(&window, &state);
        points_adapter::wire(&window, &state);
        award_adapter::wire(&window, &state);
        restock_adapter::wire(&window, &state);
        bookings_adapter::wire(&window, &state);
        service_desk_adapter::wire(&window, &state);
        activities_adapter::wire(&window, &state);
        phone_adapter::wire(&window, &state);
        room_adapter::wire(&state);
        let timers = shell::start_timers(&window, &state);
        let ui = Self {
            window,
            state,
            _timers: timers,
        };
        ui.event(|w, s| set_language(w, s, Language::Chinese));
        Ok(ui)
    }

    /// Runs `f` as an event of the window's own (the clock read once).
    fn event(&self, f: impl FnOnce(&KioskWindow, &Rc<RefCell<State>>)) {
        Binder::new(&self.window, &self.state).run(f);
    }

    /// The window.
    pub fn window(&self) -> &KioskWindow {
        &self.window
    }

    /// Handles a complete scan as if the scanner had sent it.
    pub fn scan(&self, text: &str, source: ScanSource) {
        self.event(|w, s| handle_scan(w, s, text, source));
    }

    /// Follows the centre's doors view on the staff page.
    pub fn set_doors(&self, doors: watch::Receiver<DoorsView>) {
        self.state.borrow_mut().doors = Some(doors);
        self.event(alarm_adapter::update);
    }

    /// Switches the screen's language.
    pub fn set_language(&self, language: Language) {
        self.event(|w, s| set_language(w, s, language));
    }

    /// Makes this a room's kiosk (`kiosk --room NAME`): it rests on the
    /// room's page, and a scan counts as attendance of what is on there.
    pub fn set_room(&self, room: &str) {
        self.state.borrow_mut().room = Some(RoomKiosk::new(room.to_owned()));
        self.event(|w, s| {
            shell::rest_on(w, s, Screen::Room);
            shell::refresh(w, s);
        });
    }

    /// Offers "My phone" on the home page: the residents' pages are served
    /// at `url` (their public address, the operator's proxy).
    pub fn set_resident_url(&self, url: &str) {
        self.state.borrow_mut().resident_url = Some(url.to_owned());
        self.window
            .global::<super::PhoneAdapter>()
            .set_offered(true);
    }

    /// Opens the "my phone" page (as its button on the home page does).
    pub fn open_phone(&self) {
        self.event(phone_adapter::open);
    }

    /// Opens the activities page (as its button on the home page does).
    pub fn open_activities(&self) {
        self.event(activities_adapter::open);
    }

    /// Switches large-text mode.
    pub fn set_large_text(&self, on: bool) {
        self.window.global::<Theme>().set_large_text(on);
    }

    /// Shows the "not working right now" page, as after a database failure.
    pub fn show_out_of_order(&self) {
        self.event(|w, s| show_result(w, s, Outcome::OutOfOrder, Refusal::NotAPass, ""));
    }

    /// Settles every redemption under way with `outcome`, as the centre does
    /// on a machine's answer, and shows it (screenshots and tests without a
    /// centre).
    pub fn settle_open_redemptions(
        &self,
        outcome: keting_core::messages::VendOutcome,
    ) -> Result<(), keting_desk::vending::VendingError> {
        let mut settled = Ok(());
        self.event(|w, st| {
            {
                let mut s = st.borrow_mut();
                let (cal, now) = (s.desk.site().calendar, s.now);
                settled = keting_desk::vending::settle_all_under_way(
                    s.desk.store_mut(),
                    outcome,
                    cal,
                    now,
                )
                .map(|_| ());
            }
            if settled.is_ok() {
                points_adapter::refresh(w, st);
            }
        });
        settled
    }

    /// Shows the window and runs the event loop until it is closed.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

fn handle_scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str, source: ScanSource) {
    // The page shown may take the scan as its own (whose points, whose
    // bookings, a volunteer awarded, …); else it is a check-in.
    if shell::dispatch_scan(window, state, text) {
        return;
    }
    let now = shell::now(state);
    let result = state.borrow_mut().desk.scan(text, now, source);
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
    shell::show_page(window, state, Screen::Result);
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
    shell::refresh(window, state);
    alarm_adapter::update(window, state);
}

fn refresh_home(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let state = state.borrow();
    let adapter = window.global::<KioskAdapter>();
    let now = state.now;
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
}
