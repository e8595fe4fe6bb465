//! Hardware drivers and their simulators (filled from the issue "Device agents over
//! MQTT, and the 24-hour gym door" on).
//!
//! This crate will hold the traits the agents drive (GPIO lines, Modbus relay
//! boards, the vending controller, status panels, scanners), a driver for each
//! real device and a simulator for each that speaks the real bus. It knows
//! nothing of Keting's rules: those are in `keting-core`. It holds nothing yet.
