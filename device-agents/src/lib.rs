//! The device agents and the MQTT link the kiosk and the agents share.
//!
//! So far: the link's durable [`link::outbox`] (messages that must arrive
//! leave it only when the broker has acknowledged them) and its reconnect
//! [`link::backoff`] (jittered, exponential). The rumqttc connection, the
//! `device-agent` program and the door agent come next (issue "Device agents
//! over MQTT, and the 24-hour gym door").

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod link;
