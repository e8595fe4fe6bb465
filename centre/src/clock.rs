//! The wall clock, read in one place for the centre and the agents alike.
//!
//! The core never reads a clock; the centre reads this one and passes the
//! result in. Tests of the core use their own timestamps instead.

pub use keting_link::clock::now;
