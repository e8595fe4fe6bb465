//! The hardware crate's integration tests: drivers against their simulators
//! over the real bus, and real peers (mbpoll) against the simulators.

#![allow(clippy::unwrap_used)]

mod mbpoll;
mod panel;
mod relay_board;
mod robot;
mod rtu;
mod scanner;
mod sim_program;
mod util;
mod vending;
