//! The kiosk: the centre's touch screen. The centre itself (database,
//! desks, MQTT controller) is `keting_centre`; this crate only shows it.
//!
//! The `kiosk` program (`keting-cli`) opens it; this crate has no binary
//! and no command line. The modules:
//!
//! - [`controller`]: the pages' state and routing, with no Slint types.
//! - [`words`]: the sentences made in Rust, translated through the same
//!   bundled catalogue as the `.slint` strings.
//! - [`scan_input`]: turns a keyboard-wedge scanner's keystrokes into scans.
//! - [`screen_devices`]: whether the screen and the input devices can be
//!   opened, before the window opens on DRM/KMS.
//! - [`first_boot`]: a new Pi's first-boot answer and its helper's status,
//!   the files the question window and the privileged helper share.
//! - [`ui`]: the Slint screens and the adapters, the only code that touches
//!   Slint types.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod controller;
pub mod first_boot;
pub mod scan_input;
pub mod screen_devices;
pub mod ui;
pub mod words;
