//! The MQTT link: what the kiosk and every agent use to talk.
//!
//! - [`outbox`]: a durable queue in SQLite for what must arrive.
//! - [`backoff`]: how long to wait before reconnecting.
//! - [`connection`]: the rumqttc connection that ties them together.
//! - [`short_session`]: the login step of a one-off session (a claim, a check).
//! - [`replies`]: an agent's acks, events and status on its own topics.

pub mod backoff;
pub mod connection;
pub mod outbox;
pub mod replies;
pub mod short_session;
