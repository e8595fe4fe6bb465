//! The device agents: the program next to each device.
//!
//! The MQTT link, the clock and the file writer they share with the centre
//! are `keting_link`; the rules they apply are `keting_core`; the wires are
//! `keting_hardware`.
//!
//! - [`agent_loop`]: the one run loop every agent shares (link events,
//!   local inputs, timers, shutdown).
//! - [`config`]: the agent's TOML configuration, one device section as an
//!   enum; [`run`]: builds the agent it describes, on real or simulated
//!   hardware.
//! - [`door`]: the door agent (scanner, strike, contact, exit button, panel).
//! - [`vending`]: the vending agent: one drink per redemption id, every
//!   outcome remembered.
//! - [`piano`]: the piano-bank agent: a relay channel per piano, each
//!   session ended by the agent's own timer.
//! - [`robot`]: the robot agent: the booked program started, watched and
//!   stopped at the slot's end.
//! - [`reader`]: the room reader: scans verified here, counted as
//!   attendance at the centre, its greeting on the panel.
//! - [`claim`]: `device-agent --claim`: enrolment with a label's one-time code.
//! - [`identity`]: the device's own key, made on it, kept 0600, signing its
//!   answers.
//! - [`tls_request`]: the device's TLS key and the certificate request a
//!   claim carries.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod agent_loop;
pub mod claim;
pub mod config;
pub mod door;
pub mod identity;
pub mod piano;
pub mod reader;
pub mod robot;
pub mod run;
pub mod tls_request;
pub mod vending;
