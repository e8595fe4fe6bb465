//! The screen's controllers: the state behind the pages, with no Slint
//! types, so the rules of the screen are unit-tested without a window. The
//! adapters in `crate::ui` only map these to Slint properties and forward
//! Slint's callbacks here.
//!
//! - [`router`]: which page is shown, where a scan goes on it, and how
//!   long it stays untouched before the screen goes home.
//! - [`activities`]: the activities page: who scanned, and the one tap
//!   each activity offers them now.
//! - [`award`]: the award page: the activities offered, the one chosen,
//!   each scan's outcome and whether it can still be undone.
//! - [`points`]: the points page: the resident, the drink chosen, the
//!   redemption under way; which drinks are within reach.
//! - [`room`]: a room's kiosk: its room, when it last greeted someone.
//! - [`staff`]: the staff page: who opened it, whom they selected.
//! - [`bookings`]: the pianos-and-bookings page: who is on it, its steps,
//!   the days shown, the slot picked; what each cell of a week is, what a
//!   resident may do to a booking now, how many pianos are free.

pub mod activities;
pub mod award;
pub mod bookings;
pub mod points;
pub mod room;
pub mod router;
pub mod staff;
