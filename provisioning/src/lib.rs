//! The technicians' provisioning tool (`keting-provision`): a site
//! directory holding the site's identity and every device's identity,
//! credentials and agent configuration, and the broker files that enforce
//! them.
//!
//! - [`site_dir`]: `site init`: the site id, name, broker address and the
//!   Ed25519 key that signs passes and rosters (0600); every file is written
//!   whole or not at all.
//! - [`site_ca`]: the site's own CA: the broker's, the kiosk's and each
//!   device's certificates, and the revocation list.
//! - [`inventory`]: the devices of a site (`devices.toml`).
//! - [`device`]: `device add`: a checked device description becomes its
//!   agent configuration and its own broker login.
//! - [`device_claim`]: `device label`'s one-time claim (`claim.toml`),
//!   and [`label_image`]: the label as PNG or SVG with its QR code.
//! - [`device_list`], [`device_check`]: the tables `device list` and
//!   `device check` print.
//! - [`mosquitto_files`]: `broker config`: `mosquitto.conf`, the password
//!   file in Mosquitto's own hash format, and the ACL that lets each device
//!   touch only its own topics.
//! - [`broker_session`]: the tool's short visit to the broker with the
//!   kiosk's login: what each device last said, and the self-test.
//! - [`secrets`]: random secrets and the atomic file writer.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod broker_session;
pub mod device;
pub mod device_check;
pub mod device_claim;
pub mod device_list;
pub mod inventory;
pub mod label_image;
pub mod mosquitto_files;
pub mod secrets;
pub mod site_ca;
pub mod site_dir;
