//! The centre library's integration tests: one test binary, one module a
//! topic. `bookings` runs the booking store under simulated time; `backup`
//! backs up and restores a centre while it writes; `backup_push` copies a
//! backup to another host through a real sshd.

#![allow(clippy::unwrap_used)]

mod backup;
mod backup_push;
mod bookings;
