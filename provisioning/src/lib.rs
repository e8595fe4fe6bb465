//! The technicians' provisioning tool (`keting-provision`): a site
//! directory holding the site's identity and every device's identity,
//! credentials and agent configuration, and the broker files that enforce
//! them.
//!
//! - [`site_dir`]: `site init`: the site id, name, broker address and the
//!   Ed25519 key that signs passes and rosters (0600); every file is written
//!   whole or not at all.
//! - [`inventory`]: the devices of a site (`devices.toml`).
//! - [`device`]: `device add`: a checked device description becomes its
//!   agent configuration and its own broker login.
//! - [`mosquitto_files`]: `broker config`: `mosquitto.conf`, the password
//!   file in Mosquitto's own hash format, and the ACL that lets each device
//!   touch only its own topics.
//! - [`secrets`]: random secrets and the atomic file writer.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod device;
pub mod inventory;
pub mod mosquitto_files;
pub mod secrets;
pub mod site_dir;
