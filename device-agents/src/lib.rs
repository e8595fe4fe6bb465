//! The device agents and the MQTT link (filled by the issue "Device agents over MQTT,
//! and the 24-hour gym door").
//!
//! This crate will hold the link both sides use (rumqttc with backoff, birth and
//! last will, a durable outbox) and the `device-agent` program that drives a door,
//! the vending controller, the piano relays or the robot. It holds nothing yet.
