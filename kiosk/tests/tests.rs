//! The kiosk's integration tests: one test binary, one module a topic.
//!
//! `cli` drives the real `kiosk` binary against temporary data directories;
//! `ui` drives the screens headless through Slint's testing backend;
//! `durability` kills the binary in the middle of writes; `first_boot` a
//! new Pi's question; `screens` renders
//! every page to PNG; `translations` checks the Chinese catalogue.

#![allow(clippy::unwrap_used)]

mod activities;
mod cli;
mod durability;
mod first_boot;
mod points;
mod screens;
mod translations;
mod ui;
mod util;
