//! The device agents and the MQTT link the kiosk and the agents share.
//!
//! So far: the [`link`]: the rumqttc connection with birth and last will,
//! resubscription on every CONNACK, persistent sessions, the durable
//! [`link::outbox`] (messages leave it only on PUBACK) and jittered
//! [`link::backoff`]. The `device-agent` program and the door agent come next
//! (issue "Device agents over MQTT, and the 24-hour gym door").

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod clock;
pub mod config;
pub mod door;
pub mod link;
pub mod run;
