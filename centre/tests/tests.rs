//! The centre library's integration tests: one test binary, one module a
//! topic. `bookings` runs the booking store under simulated time.

#![allow(clippy::unwrap_used)]

mod bookings;
