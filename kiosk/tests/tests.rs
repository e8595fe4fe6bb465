//! The screen's integration tests: one test binary, one module a topic.
//!
//! `ui` drives the screens headless through Slint's testing backend;
//! `first_boot` a new Pi's question; `translations` checks the Chinese
//! catalogue. (The `kiosk` program's own tests, which run it as a process,
//! are `keting-cli`'s.)

#![allow(clippy::unwrap_used)]

mod first_boot;
mod translations;
mod ui;
