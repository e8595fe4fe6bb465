//! The district (issue 15): what a hundred centres send up, kept once.
//!
//! - [`stream`]: the district's JetStream stream (three replicas, a
//!   window for repeated ids) and the ingest's durable consumer.
//! - [`database`]: PostgreSQL: every event once by (centre, event id), the
//!   daily rollups moved only by new rows, and their recount.
//! - [`enrolment`]: an NKey per centre, its `district.toml`, and the
//!   cluster's `authorization` block (each centre its own subject).
//! - [`ingest`]: the stream into the database, a batch at a time,
//!   acknowledged after the commit; refusals logged, the stream flowing.
//! - [`tallies`]: each centre's own count of what it sent against what the
//!   database holds: the ranges of events missing.
//! - [`notices`]: announcements, activities and lost cards sent to the
//!   centres, each on its own downlink subject, refused for a centre
//!   never heard from.
//! - [`users`]: the district dashboard's users (manager, observer), their
//!   Argon2id passwords and lockout.
//! - [`reports`]: what the dashboard reads: months by centre, the trend,
//!   a centre's days, open alarms and devices offline.
//! - [`web`]: the district dashboard.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod database;
pub mod enrolment;
pub mod ingest;
pub mod notices;
pub mod reports;
pub mod stream;
pub mod tallies;
pub mod users;
pub mod web;
