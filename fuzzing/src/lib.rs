//! The fuzz targets' bodies, one per parser that reads bytes from another
//! machine or a person: each takes any bytes and must return, never panic,
//! hang or allocate without bound. `fuzz/` (cargo-fuzz, libFuzzer) runs
//! them; `tests/corpora.rs` replays every saved input on stable Rust, so a
//! crash found once stays fixed.
//!
//! - [`targets`]: the bodies, one module each, and [`targets::ALL`] naming
//!   them for the replay.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod targets;
