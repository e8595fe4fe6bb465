//! The centre: everything a community service centre runs but the touch
//! screen. No Slint in its dependency tree (checked by a test over
//! `cargo metadata`); the kiosk, the command line and every later surface
//! (the staff's web dashboard, the district uplink) are built on it.
//!
//! The layers, from the bottom:
//!
//! - [`data_dir`]: where the centre keeps its files, and the one clear error
//!   when it cannot.
//! - `keting_store` (its own crate): the centre's SQLite database with
//!   numbered migrations: the tables and their queries, no decisions.
//! - [`site`]: the site's identity and its signing key file;
//!   [`provisioned_devices`]: what `kiosk site import` registers of a
//!   provisioned site's devices (doors, pianos, the robot).
//! - `keting_desk` (its own crate): the use cases, once: each a function of
//!   (actor, request, now) that decides with the core's rules, writes its
//!   audit row in the same transaction, and returns a typed outcome or a
//!   typed refusal. Every surface calls these and nothing below them.
//! - [`service`]: the running centre: the embedded MQTT broker, the
//!   controller (roster, device events, sessions, claims), the demo devices.
//! - The staff dashboard (`--http`) is its own crate, `keting_dashboard`,
//!   on the desks and the web kit; the service starts it beside itself.
//! - [`demo_scenes`]: the states of the demo site its screenshots show.
//! - [`demo`]: the demo site anyone can try without hardware; [`demo_error`]:
//!   why it could not be filled; [`demo_ids`]: its devices by id.
//! - [`demo_activities`]: the demo's week of activities to sign up for,
//!   and four weeks of them held; [`demo_history`]: four weeks of visits
//!   and drinks.
//! - [`backup`]: a consistent backup of the data directory, and its
//!   checked restore; [`backup_push`]: a backup copied to another host over
//!   SSH with rsync.
//! - [`clock`]: the wall clock (`keting_link`'s, read in one place).
//!
//! Files are written whole with `keting_link::atomic_file`, the one writer
//! the centre and the agents share.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod backup;
pub mod backup_push;
pub mod clock;
pub mod data_dir;
pub mod demo;
pub mod demo_activities;
pub mod demo_error;
pub mod demo_history;
pub mod demo_ids;
pub mod demo_scenes;
pub mod provisioned_devices;
pub mod service;
pub mod site;
