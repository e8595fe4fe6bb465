//! Simulators for every device, each speaking the real bus, with faults to
//! inject. Tests, the demo site and `device check` run against these.

//!
//! - [`gpio`]: an in-memory GPIO chip; [`scanner`]: scans fed through a
//!   channel; [`panel`]: the last frame shown.
//! - [`relay_board`], [`vending`], [`robot`]: the Modbus devices, their
//!   holding registers shared in [`holding_registers`], served over Modbus
//!   TCP by [`modbus_tcp`] or over RTU on a pseudo-terminal by [`rtu_pty`].

pub mod gpio;
pub mod holding_registers;
pub mod modbus_tcp;
pub mod panel;
pub mod relay_board;
pub mod robot;
pub mod rtu_pty;
pub mod scanner;
pub mod vending;
