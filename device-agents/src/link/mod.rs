//! The MQTT link: what the kiosk and every agent use to talk.
//!
//! - [`outbox`]: a durable queue in SQLite for what must arrive.
//! - [`backoff`]: how long to wait before reconnecting.

pub mod backoff;
pub mod outbox;
