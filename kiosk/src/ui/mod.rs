//! The touch screen: Slint pages (in `kiosk/ui/`) and their Rust adapters.
//!
//! The `.slint` files only display state and forward intents; the adapter
//! here ([`kiosk_adapter`]) is the only Rust that touches Slint types. It
//! turns an intent (a scan, a tap, a language) into a call on the
//! [`crate::checkin_desk::CheckInDesk`] and the result back into adapter
//! properties. [`screenshot`] renders any page to a PNG with the software
//! renderer, with no display.

pub mod kiosk_adapter;
pub mod language;
pub mod screenshot;
pub mod staff_adapter;

#[allow(missing_docs, clippy::all, clippy::unwrap_used, clippy::todo)]
mod generated {
    slint::include_modules!();
}

pub use generated::{
    ClaimRow, DemoCardEntry, DoorRow, EntryRow, GymRow, KioskAdapter, KioskWindow, Outcome, Page,
    ProgrammeEntry, Refusal, Theme,
};
