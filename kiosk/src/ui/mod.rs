//! The touch screen: Slint pages (in `kiosk/ui/`) and their Rust adapters.
//!
//! The `.slint` files only display state and forward intents; the
//! adapters here are the only Rust that touches Slint types. The shell
//! (`shell`) holds the window's state and the page shown, reads the clock
//! once per event and hands each event to the page whose it is; it imports
//! no page. [`kiosk_adapter`] builds the window, lets every page wire its
//! own callbacks, and is the check-in page: it turns a scan into a call on
//! the [`keting_desk::checkin::CheckInDesk`] and the result back into
//! adapter properties; [`staff_adapter`], [`points_adapter`], [`award_adapter`]
//! [`restock_adapter`] and [`bookings_adapter`] do the same for the staff
//! page, redeeming points, awarding them, restocking the drinks machine,
//! and the pianos and bookings; [`service_desk_adapter`] the staff's view
//! of the session devices; [`alarm_adapter`] the alarm line on every page
//! and their acknowledgement; [`activities_adapter`] the residents'
//! activities (sign up in one tap) and [`room_adapter`] a room kiosk's
//! screen (`kiosk --room NAME`: attendance greeted by name);
//! [`phone_adapter`] "My phone" (a one-time QR binding a resident's phone).
//! [`first_boot_adapter`] is a window of its own: a new Pi's first-boot
//! question (centre or device); so is [`storage_notice_adapter`]: a card
//! that cannot be written (full, read-only), said on the screen.
//! [`language`] holds the two languages' words.
//! [`screenshot`] renders any page to a PNG with the software
//! renderer, with no display. [`log_first_turn`] says, once, how long a
//! window took to show.

pub mod activities_adapter;
pub mod alarm_adapter;
pub mod award_adapter;
pub mod bookings_adapter;
pub mod first_boot_adapter;
pub mod kiosk_adapter;
pub mod language;
pub mod phone_adapter;
pub mod points_adapter;
pub mod restock_adapter;
pub mod room_adapter;
mod scanned_member;
pub mod screenshot;
pub mod service_desk_adapter;
mod shell;
pub mod staff_adapter;
pub mod storage_notice_adapter;

#[allow(missing_docs, clippy::all, clippy::unwrap_used, clippy::todo)]
mod generated {
    slint::include_modules!();
}

pub use generated::{
    ActivitiesAdapter, ActivitiesStep, ActivityChoice, ActivityRow, AlarmAdapter, AlarmRow,
    AwardAdapter, AwardRow, BookingsAdapter, BookingsStep, ClaimRow, DemoCardEntry, DeskRow,
    DoorRow, DrinkItem, EntryRow, FirstBootAdapter, FirstBootStep, FirstBootWindow, GymRow,
    KioskAdapter, KioskWindow, MyBooking, Outcome, Page, PhoneAdapter, PhoneStep, PointsAdapter,
    PointsLine, PointsStep, ProgrammeEntry, Refusal, ResourceTile, RestockAdapter, RestockRow,
    RoomAdapter, ServiceDeskAdapter, StaffAdapter, StorageNoticeAdapter, StorageNoticeWindow,
    Theme, WeekCell, WeekDay,
};

/// Logs `what` with the milliseconds since `started` at the event loop's
/// first turn, right after a window's first frame (the Pi's VM test reads
/// the kiosk's line to measure a boot to the screen).
pub fn log_first_turn(what: &'static str, started: std::time::Instant) {
    slint::Timer::single_shot(std::time::Duration::ZERO, move || {
        tracing::info!(
            "{what} {} ms after the program started",
            started.elapsed().as_millis()
        );
    });
}
