//! The device agents and the MQTT link the kiosk and the agents share.
//!
//! - [`link`]: the rumqttc connection with birth and last will,
//!   resubscription on every CONNACK, persistent sessions, the durable
//!   [`link::outbox`] (messages leave it only on PUBACK) and jittered
//!   [`link::backoff`].
//! - [`agent_loop`]: the one run loop every agent shares (link events,
//!   local inputs, timers, shutdown).
//! - [`config`]: the agent's TOML configuration; [`run`]: builds the agent
//!   it describes, on real or simulated hardware.
//! - [`door`]: the door agent (scanner, strike, contact, exit button, panel).
//! - [`vending`]: the vending agent: one drink per redemption id, every
//!   outcome remembered.
//! - [`piano`]: the piano-bank agent: a relay channel per piano, each
//!   session ended by the agent's own timer.
//! - [`robot`]: the robot agent: the booked program started, watched and
//!   stopped at the slot's end.
//! - [`claim`]: `device-agent --claim`: enrolment with a label's one-time code.
//! - [`clock`], [`atomic_file`]: the wall clock, and files written whole.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod agent_loop;
pub mod atomic_file;
pub mod claim;
pub mod clock;
pub mod config;
pub mod door;
pub mod link;
pub mod piano;
pub mod robot;
pub mod run;
pub mod vending;
