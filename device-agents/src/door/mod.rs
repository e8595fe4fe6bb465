//! The door agent: a door's scanner, strike, contact, exit button and panel,
//! decided by the core's rules with the roster the kiosk publishes.
//!
//! - [`agent`]: the run loop (one task; every input, timer and message
//!   goes through it, so the door has one state at a time).
//! - [`strike`]: drives the strike (GPIO line or relay-board coil), confirms
//!   it, and reconnects to a board that went away.
//! - [`alarm_output`]: a siren or light on a relay channel, on while the
//!   door is forced or held open.
//! - [`inputs`]: forwards the scanner and the GPIO inputs to the loop.
//! - [`panel_words`]: what the panel says in each state, Chinese first.
//! - [`roster_file`]: the last roster in force, kept on disk so the door
//!   decides alone after a reboot with the kiosk and the broker down.
//!
//! Architecture invariant: the relock at the end of a pulse is driven by the
//! agent's own timer (the core's lock machine), never by a message.

pub mod agent;
pub mod alarm_output;
pub mod inputs;
pub mod panel_words;
pub mod roster_file;
pub mod strike;
