//! Hardware drivers and their simulators.
//!
//! The traits the device agents drive, a driver for each real device, and a
//! simulator for each that speaks the real bus, so everything runs and is
//! tested without a Raspberry Pi. This crate knows nothing of Keting's rules
//! (those are in `keting-core`): it moves relays and reads inputs.
//!
//! - [`bus`]: how a Modbus device is addressed (`tcp:HOST:PORT`, `rtu:DEV@BAUD`).
//! - [`gpio`]: digital lines (strike, door contact, exit button) as traits;
//!   [`gpio_cdev`] implements them on the kernel's GPIO character device.
//! - [`relay_board`]: an 8-channel RS-485 / Modbus TCP relay board (door
//!   strikes, piano power), with read-back confirmation.
//! - [`modbus_client`]: connecting to a Modbus device at a bus address,
//!   every call bounded and its failure sorted.
//! - [`vending`]: the drinks vending controller: its register map, the
//!   [`vending::VendingController`] trait and its Modbus driver.
//! - [`robot`]: the moxibustion robot's controller: register map and
//!   Modbus driver.
//! - [`sim`] (feature `sim`): what the simulators share (Modbus TCP and RTU
//!   serving); each device's simulator is its module's `sim`, beside its
//!   driver, serving the real protocol (or, for GPIO, the same traits in
//!   memory) with fault injection.
//!
//! - [`panel`]: 128x64 status panels drawn with embedded-graphics (Chinese
//!   text from the bundled font), rendered to PNG for tests and people.
//! - [`scanner`]: QR scanners (USB keyboard-wedge via evdev, grabbed; serial).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod bus;
pub mod gpio;
pub mod gpio_cdev;
pub mod modbus_client;
pub mod panel;
pub mod relay_board;
pub mod robot;
pub mod scanner;
#[cfg(feature = "sim")]
pub mod sim;
pub mod vending;
