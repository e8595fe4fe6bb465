//! Whole-system tests across real processes (filled from the issue "Device agents
//! over MQTT, and the 24-hour gym door" on).
//!
//! Black-box tests of a centre on loopback: a broker, device agents, simulated
//! devices and a headless kiosk as separate processes, with faults injected.
//! The kiosk's own command-line and screen tests live in `kiosk/tests/`;
//! this crate holds nothing yet.
