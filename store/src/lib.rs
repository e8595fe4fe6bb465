//! The centre's database: SQLite in WAL mode with `synchronous=FULL`.
//!
//! Every write the centre acknowledges (a check-in decision shown on screen or
//! printed by the command line) has been committed and synced first, so a
//! power cut or a `kill -9` loses nothing that was acknowledged. Migrations
//! are numbered and tracked in `user_version` ([`migrations`]); reports are
//! SQL ([`reports`]).
//!
//! One [`Store`] owns one connection. Several processes may open the same
//! database (the kiosk window and a `kiosk checkin` from a shell): writers
//! take the write lock up front (`BEGIN IMMEDIATE`) and wait up to
//! [`BUSY_TIMEOUT`] for each other.

//!
//! The tables, one module each: [`members`], [`checkins`], [`audit`],
//! [`programme`], [`site_record`], [`reports`]; the doors: [`doors`],
//! [`gym`], [`door_events`], [`known_devices`], [`device_commands`], [`device_claims`],
//! [`alarms`], [`alerts`] (alarms told off-site: channels, routes, the
//! outbox), and [`welfare_watch`] (alone inside too long at night); every
//! device's commands and keys: [`command_sequence`], [`device_keys`],
//! [`status_marks`] (the newest signed status taken, across restarts); staff: [`staff_access`]; points
//! and drinks: [`points`], [`vending_slots`], [`redemptions`]; bookings:
//! [`resources`], [`packages`], [`bookings`], [`walk_up`], [`ratings`],
//! [`booking_policy`]; the district: [`uplink`] (what goes up) and
//! [`district_notices`] (what comes down); activities: [`activities`]
//! (their plans, lists, attendance, closed days); residents' phones:
//! [`resident_phones`] (bound phones, one-time invitations); what residents
//! say: [`feedback`] (activity ratings, the suggestion box).
//! They hold queries, not decisions: the rules are the core's, applied by
//! the desks (`keting_desk`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod activities;
pub mod alarms;
pub mod alerts;
pub mod audit;
pub mod booking_policy;
pub mod bookings;
pub mod checkins;
pub mod command_sequence;
pub mod device_claims;
pub mod device_commands;
pub mod device_keys;
pub mod district_notices;
pub mod door_events;
pub mod doors;
pub mod feedback;
pub mod gym;
pub mod known_devices;
pub mod members;
pub mod migrations;
pub mod packages;
pub mod points;
pub mod programme;
pub mod ratings;
pub mod redemptions;
pub mod reports;
pub mod resident_phones;
pub mod resources;
pub mod site_record;
pub mod staff_access;
pub mod status_marks;
pub mod uplink;
pub mod vending_slots;
pub mod walk_up;
pub mod welfare_watch;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use thiserror::Error;

/// How long a writer waits for another process holding the write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An error from the database.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer kiosk.
    #[error(
        "the database has schema version {found}, newer than this Keting knows ({known}): upgrade Keting"
    )]
    NewerSchema {
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A record that was asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// What is stored cannot be read back: a damaged or hand-edited
    /// database, never a person's mistake.
    #[error("the database holds something unreadable: {0}")]
    Corrupt(String),
    /// The system's random number source failed.
    #[error("no randomness from the system: {0}")]
    NoRandomness(String),
    /// SQLite would not use WAL mode (a network or read-only filesystem).
    #[error("the database refused WAL mode (got {0}): keep the data directory on a local disk")]
    NoWal(String),
    /// A counter has no number left (member numbers, a card's reissues).
    #[error("{0} are exhausted")]
    Exhausted(&'static str),
    /// A posting was not well formed (a bug) or would take a member below
    /// zero.
    #[error("ledger: {0}")]
    Ledger(#[from] keting_core::ledger::PostingError),
    /// A session's rating was refused.
    #[error(transparent)]
    Rating(#[from] ratings::RatingRefusal),
    /// A drink slot's settings were refused.
    #[error(transparent)]
    DrinkSlot(#[from] vending_slots::DrinkSlotRefusal),
    /// A course package was refused.
    #[error(transparent)]
    Package(#[from] packages::PackageRefusal),
    /// A home-page programme item was refused.
    #[error(transparent)]
    Programme(#[from] programme::ProgrammeRefusal),
    /// No bookable slot of a resource starts at the time asked.
    #[error("no slot of {resource} starts then (its hours: {hours}, {slots})")]
    NoSuchSlot {
        /// The resource's id.
        resource: String,
        /// Its opening hours, `HH:MM-HH:MM,…`.
        hours: String,
        /// Its slots: "slots of N minutes" or "one slot a window".
        slots: String,
    },
    /// Pianos are played by walking up, never booked.
    #[error("pianos are not booked: scan at the kiosk to play on a free one")]
    PianoNotBookable,
    /// No resource with that id.
    #[error("no resource {id:?} here (there are: {known})")]
    UnknownResource {
        /// The id asked for.
        id: String,
        /// The ids there are, comma separated.
        known: String,
    },
    /// A new member's details were refused.
    #[error(transparent)]
    NewMember(#[from] members::NewMemberError),
    /// The points ledger said no.
    #[error(transparent)]
    Points(#[from] keting_core::ledger::rules::PointsRefusal),
    /// The booking rules said no.
    #[error(transparent)]
    Booking(#[from] keting_core::booking::BookingRefusal),
    /// The activity rules said no.
    #[error(transparent)]
    Activity(#[from] keting_core::activity::ActivityRefusal),
    /// A redemption cannot begin.
    #[error(transparent)]
    Redemption(#[from] redemptions::RedemptionRefusal),
    /// The staff member's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] keting_core::staff::Forbidden),
    /// A resource's settings do not hold (the core's rule).
    #[error(transparent)]
    Resource(#[from] keting_core::booking::ResourceError),
}

/// The centre's database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL: readers never block the writer. FULL: a commit is on the disk
        // when it returns, so an acknowledged scan survives a power cut.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal(mode));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        let mut store = Self { conn };
        migrations::migrate(&mut store.conn)?;
        Ok(store)
    }

    /// An in-memory database with the current schema, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        migrations::migrate(&mut conn)?;
        Ok(Self { conn })
    }

    /// Runs `f` in a transaction that holds the write lock from its start,
    /// and commits (synced to disk) if `f` succeeds.
    pub fn write<T, E>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// A number that changes whenever another connection (another process,
    /// or another `Store`) commits a change to the database.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// The connection, for reads.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}
