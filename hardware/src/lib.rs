//! Hardware drivers and their simulators.
//!
//! The traits the device agents drive, a driver for each real device, and a
//! simulator for each that speaks the real bus, so everything runs and is
//! tested without a Raspberry Pi. This crate knows nothing of Keting's rules
//! (those are in `keting-core`): it moves relays and reads inputs.
//!
//! - [`relay_board`]: an 8-channel RS-485 / Modbus TCP relay board (door
//!   strikes, piano power), with read-back confirmation.
//! - [`sim`]: simulators, each serving the real protocol, with fault injection.
//!
//! GPIO (gpiocdev), the door's status panel (embedded-graphics) and the
//! scanners come with the rest of the door agent.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod relay_board;
pub mod sim;
