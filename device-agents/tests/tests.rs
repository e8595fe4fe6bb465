//! The device agents' integration tests, against a real Mosquitto started by
//! each test on a free loopback port.

#![allow(clippy::unwrap_used)]

mod cli;
mod door;
mod link;
mod piano;
mod robot;
mod session_watch;
mod util;
mod vending;
