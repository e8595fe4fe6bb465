//! What the centre and every device agent share, so there is one of each:
//!
//! - [`connection`]: the rumqttc connection with birth and last will,
//!   resubscription on every CONNACK, persistent sessions, a fresh client
//!   per connection.
//! - [`outbox`]: a durable queue in SQLite for what must arrive (a message
//!   leaves it only on PUBACK).
//! - [`backoff`]: how long to wait before reconnecting (exponential, full
//!   jitter).
//! - [`short_session`]: the login step of a one-off session (a claim, a check).
//! - [`device_topics`]: an agent's own topics: subscriptions, commands in,
//!   acks, events and status out.
//! - [`command_guard`]: every command a device takes, opened with the site
//!   key and its sequence number written down first.
//! - [`sd_notify`]: systemd's readiness and watchdog notifications.
//! - [`clock`]: the wall clock, read in one place, and the kernel's NTP flag.
//! - [`site_clock`]: a device's clock against the centre's signed time.
//! - [`atomic_file`]: files written whole or not at all.
//! - [`tls`]: TLS to the broker, trusting only the site CA, with the
//!   client's own certificate.
//! - [`pinned_ca`]: TLS for a claim, trusting the CA whose fingerprint is
//!   on the label.
//! - [`district_link`]: NATS to the district's cluster: every server named,
//!   jittered reconnects, the centre's NKey and the district's CA.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod atomic_file;
pub mod backoff;
pub mod clock;
pub mod command_guard;
pub mod connection;
pub mod device_topics;
pub mod district_link;
pub mod outbox;
pub mod pinned_ca;
pub mod sd_notify;
pub mod short_session;
pub mod site_clock;
pub mod tls;
