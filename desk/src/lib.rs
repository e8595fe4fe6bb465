//! The desks: every use case of the centre, written once.
//!
//! A desk function takes who acts ([`Actor`]), what they ask, and `now`; it
//! runs in one write transaction, asks the core for the decision, writes the
//! audit row naming the actor, and returns a typed outcome or a typed
//! refusal a surface can word in its own language. The command line, the
//! touch screen and every later surface call these and nothing below them.
//!
//! - [`actor`]: who is acting, as the audit log names them.
//! - [`activities`]: activities planned (one-off or repeated), sign-up and
//!   the waiting list's offers, attendance in a room, volunteers' time,
//!   closing (held, counted, volunteers paid once).
//! - [`checkin`]: a scan in, a durable decision out.
//! - [`members`]: adding members, a lost card's new pass, reprints.
//! - [`phones`]: residents' own phones bound without a password (a
//!   one-time link or kiosk QR and a number to pick), listed and ended.
//! - [`home`]: the district's announcement and the day's programme, for
//!   the kiosk's home page.
//! - [`feedback`]: residents rate their sessions and activities and drop
//!   suggestions; staff answer them.
//! - [`gym`]: paid gym months granted, extended, ended.
//! - [`doors`]: registering doors, a staff member's one-pulse open, a
//!   door released for a fire reset.
//! - [`occupancy`]: who is inside the gym tonight (head count, names), and
//!   the welfare watch (alone too long at night is an alarm).
//! - [`alarms`]: the open alarms and their history, acknowledged by name;
//!   [`alerts`]: where they are told off-site (channels, routes, a test).
//! - [`claims`]: devices' enrolment claims confirmed.
//! - [`devices`]: each device's own key, which its signed answers verify with.
//! - [`device_view`]: the devices as every surface shows them (built by the
//!   running service, read by the surfaces).
//! - [`qr_image`]: a pass as a QR code in a PNG, to print or show.
//! - [`records`]: the records the desks hand out and the database handle
//!   they are called with (types only), so no surface needs the store.
//! - [`points`]: volunteer points awarded, reversed, balances, the ledger,
//!   the policy.
//! - [`reports`]: visits per hour, day and month.
//! - [`vending`]: the drinks machine's catalogue, stock and redemptions.
//! - [`booking_view`]: what each slot of a week and each booking is for
//!   the resident looking (mine, full, places left; may cancel, start).
//! - [`bookings`]: resources, packages, bookings and sessions, the piano
//!   queue, ratings, the site's booking rules.
//! - [`staff`]: staff roles and PINs, signing in with card and PIN, and the
//!   role check every staff action passes.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod activities;
pub mod actor;
pub mod alarms;
pub mod alerts;
pub mod booking_view;
pub mod bookings;
pub mod checkin;
pub mod claims;
pub mod device_view;
pub mod devices;
pub mod doors;
pub mod feedback;
pub mod gym;
pub mod home;
pub mod members;
pub mod occupancy;
pub mod phones;
pub mod points;
pub mod qr_image;
pub mod records;
pub mod reports;
pub mod staff;
pub mod vending;

pub use actor::Actor;
