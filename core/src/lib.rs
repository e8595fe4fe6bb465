//! Keting's rules, without I/O.
//!
//! Everything that *decides* something lives here as plain data and pure
//! functions or state machines, in the sans-IO style of quinn-proto and str0m:
//! the caller passes `now` in, and nothing in this crate reads a clock, opens a
//! file or a socket, or can fail because of I/O. The kiosk and the device
//! agents own the I/O and call in here for every decision, so the rules are
//! tested with simulated time and data tables alone.
//!
//! Modules:
//! - [`activity`]: activities with a life: sign-up, the waiting list's
//!   offers, attendance, volunteer hours, recurrence, what "held" means.
//! - [`booking`]: resources, slots, prices and packages; booking,
//!   cancelling, release of unstarted places, the waiting list, sessions.
//! - [`ids`]: validated identifiers (site, member, epoch).
//! - [`time`]: instants as milliseconds since the Unix epoch.
//! - [`calendar`]: which local hour, day and month an instant belongs to.
//! - [`pass`]: residents' signed QR passes, printed and live (issue and
//!   verify).
//! - [`fallback_code`]: the six characters under a live pass, for a phone
//!   screen a scanner cannot read.
//! - [`checkin`]: the decision at the door: accept or deny with a reason,
//!   repeat scans counted once.
//! - [`door`]: the 24-hour gym door: who may enter, and the lock machine.
//! - [`device_session`]: a session device's sessions (pianos, the robot):
//!   each ended at its time by the device's own timer.
//! - [`topics`]: the MQTT topic tree the kiosk and the agents share.
//! - [`messages`]: the versioned JSON messages on those topics.
//! - [`signed_command`]: commands sealed by the centre, addressed, numbered:
//!   what a device opens before it moves anything.
//! - [`replay_window`]: which sequence numbers a device has carried out.
//! - [`signed_answer`]: a device's acks and events, signed by its own key.
//! - [`claim`]: enrolment by QR: the label, the one-time code's proof,
//!   the PIN both screens show, the authenticated answer.
//! - [`ledger`]: volunteer points, double-entry and zero-sum: awards,
//!   redemptions held then committed or refunded, reversals, expiry.
//! - [`roster`]: the signed door roster, so a door decides alone.
//! - [`site_time`]: the centre's signed time, asked by a device.
//! - [`clock_judge`]: whether a device's clock is right, and the time to
//!   decide by when it is not.
//! - [`secret`]: PINs and passwords as Argon2id hashes (the salt given).
//! - [`self_test`]: the commissioning self-test's report lines.
//! - [`district`]: what a centre tells its district: subjects, message
//!   ids, per-centre pseudonyms, the events, and what the district refuses.
//! - [`staff`]: staff roles, what each may do, the PIN's shape and lockout.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod activity;
pub mod booking;
pub mod calendar;
pub mod checkin;
pub mod claim;
pub mod clock_judge;
pub mod device_session;
pub mod district;
pub mod door;
pub mod fallback_code;
pub mod ids;
pub mod ledger;
pub mod messages;
pub mod pass;
pub mod replay_window;
pub mod roster;
pub mod secret;
pub mod self_test;
pub mod signed_answer;
pub mod signed_command;
pub mod site_time;
pub mod staff;
pub mod time;
pub mod topics;
