//! The MQTT link: what the kiosk and every agent use to talk.
//!
//! - [`outbox`]: a durable queue in SQLite for what must arrive.
//! - [`backoff`]: how long to wait before reconnecting.
//! - [`connection`]: the rumqttc connection that ties them together.
//! - [`short_session`]: the login step of a one-off session (a claim, a check).
//! - [`device_topics`]: an agent's own topics: subscriptions, commands in, acks, events and status out.

pub mod backoff;
pub mod connection;
pub mod device_topics;
pub mod outbox;
pub mod short_session;
