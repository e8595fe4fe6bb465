//! Simulators for every device, each speaking the real bus, with faults to
//! inject. Tests, the demo site and `device check` run against these.

pub mod gpio;
pub mod holding_registers;
pub mod modbus_tcp;
pub mod panel;
pub mod relay_board;
pub mod robot;
pub mod rtu_pty;
pub mod scanner;
pub mod vending;
