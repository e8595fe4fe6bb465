//! What every simulated Modbus device shares: the holding registers of a
//! controller that is all holding registers ([`holding_registers`]), any
//! simulated device served over Modbus TCP ([`modbus_tcp`]) or over RTU on
//! a pseudo-terminal pair ([`rtu_pty`]). Each device's own simulator sits
//! beside its driver (`relay_board::sim`, `vending::sim`, `robot::sim`,
//! `gpio::sim`, `panel::sim`, `scanner::sim`). All of it is behind the
//! `sim` feature: tests, the demo site and `device check` use it; a build
//! without it carries no simulator.

pub mod holding_registers;
pub mod modbus_tcp;
pub mod rtu_pty;
