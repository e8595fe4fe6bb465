//! The `kiosk` program's integration tests: one test binary, one module a
//! topic, each driving the real binary against temporary data directories.
//!
//! `cli` the command groups; `activities` and `points` theirs end to end;
//! `durability` kills the binary in the middle of writes; `screens` renders
//! every page of the screen to PNG through `kiosk screenshot`.

#![allow(clippy::unwrap_used)]

mod activities;
mod cli;
mod durability;
mod points;
mod screens;
mod util;
