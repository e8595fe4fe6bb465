//! The kiosk: the centre's controller, its database, and its touch screen.
//!
//! The binary (`src/main.rs`) is a thin command line over this library. The
//! layers, from the bottom:
//!
//! - [`data_dir`]: where the kiosk keeps its files, and the one clear error
//!   when it cannot.
//! - [`store`]: the centre's SQLite database (members, check-ins, audit log,
//!   programme) with numbered migrations and the reports as SQL.
//! - [`site`]: the site's identity and its signing key file.
//! - [`checkin_desk`]: a scan in, a durable decision out; the one code path
//!   the screen and the command line share.
//! - [`demo`]: the demo site anyone can try without hardware.
//! - [`qr_image`]: a pass as a QR code in a PNG.
//! - [`atomic_file`]: whole-or-nothing file writes (key, QR codes, screenshots).
//! - [`scan_input`]: turns a keyboard-wedge scanner's keystrokes into scans.
//! - [`centre`]: the centre controller: embedded MQTT broker, door roster,
//!   door events, device states, the demo site's simulated gym door.
//! - [`ui`]: the Slint screens and the adapters, the only code that touches
//!   Slint types.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod atomic_file;
pub mod centre;
pub mod checkin_desk;
pub mod clock;
pub mod data_dir;
pub mod demo;
pub mod qr_image;
pub mod scan_input;
pub mod site;
pub mod store;
pub mod ui;
