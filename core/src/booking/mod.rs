//! Bookings and sessions: the pianos, the robot, childcare, rooms.
//!
//! A [`resource::Resource`] has opening windows, a slot length and a
//! capacity per slot, a price (free, points or yuan), maybe a trial price for
//! a member's first session and course packages. [`rules`] decides a booking
//! request against what is already booked (full, past, over the member's
//! daily or weekly limit, expired package), a cancellation (the window,
//! default 2 hours before), the release of a slot nobody started within 10
//! minutes, and who on the waiting list is promoted. [`session`] is the
//! life of one booking, from booked (or waiting) to done, with the robot's
//! "to check" state and a failed session's package session given back.
//!
//! Like the rest of the core it reads no clock and stores nothing: the kiosk
//! reads its database inside one write transaction, asks here, and writes
//! the answer, so two requests for the last place can never both win.

//!
//! [`package`] holds course packages and [`slots`] cuts a resource's
//! windows into slots in local time (walk-up sessions cut at closing);
//! [`walk_up`] decides which resource a walk-up scan gets.

pub mod package;
pub mod resource;
pub mod rules;
pub mod session;
pub mod slots;
pub mod walk_up;

pub use package::{Package, PackageState};
pub use resource::{
    Limits, OpeningWindow, Price, Resource, ResourceError, ResourceId, ResourceKind, format_hours,
    parse_hours,
};
pub use rules::{BookingPolicy, BookingRefusal, Charge, Decision, MemberBookings, Request};
pub use session::{BookingState, Transition, TransitionError};
pub use slots::{Slot, SlotError};
