//! The vending agent's memory of every redemption it was asked about, in
//! SQLite (WAL, `synchronous=FULL`) in its state directory.
//!
//! A redemption id is written here, with the machine's request number,
//! *before* the machine is told to vend; its outcome is written when known.
//! An id asked about before its vend command arrived is written as
//! cancelled, so that command, arriving late, never vends. Nothing is
//! forgotten: a query months later gets the same answer.

use std::path::Path;

use keting_core::messages::VendOutcome;
use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

/// An error of the vend log's database.
#[derive(Debug, Error)]
#[error("vend log: {0}")]
pub struct VendLogError(#[from] rusqlite::Error);

/// What the log knows of a redemption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The machine was (or was about to be) told to vend, as request
    /// `request`, from `slot`; no outcome yet.
    Started {
        /// The machine's request number.
        request: u32,
        /// The slot.
        slot: u8,
    },
    /// The outcome is known.
    Done(VendOutcome),
}

/// The log.
pub struct VendLog {
    conn: Connection,
}

impl VendLog {
    /// Opens (creating) the log at `path`.
    pub fn open(path: &Path) -> Result<Self, VendLogError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS vends (
                 request    INTEGER PRIMARY KEY AUTOINCREMENT,
                 redemption TEXT    NOT NULL UNIQUE,
                 slot       INTEGER NOT NULL,
                 outcome    TEXT,
                 at_ms      INTEGER NOT NULL
             ) STRICT;",
        )?;
        Ok(Self { conn })
    }

    /// What the log knows of `redemption`.
    pub fn get(&self, redemption: &str) -> Result<Option<Entry>, VendLogError> {
        let row: Option<(i64, u8, Option<String>)> = self
            .conn
            .query_row(
                "SELECT request, slot, outcome FROM vends WHERE redemption = ?1",
                [redemption],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(request, slot, outcome)| {
            match outcome.as_deref().and_then(VendOutcome::parse) {
                Some(o) => Entry::Done(o),
                None => Entry::Started {
                    request: u32::try_from(request).unwrap_or(u32::MAX),
                    slot,
                },
            }
        }))
    }

    /// Redemptions started whose outcome is not known: (id, request).
    pub fn in_doubt(&self) -> Result<Vec<(String, u32)>, VendLogError> {
        let mut stmt = self.conn.prepare(
            "SELECT redemption, request FROM vends WHERE outcome IS NULL ORDER BY request",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u32::try_from(r.get::<_, i64>(1)?).unwrap_or(u32::MAX),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records that `redemption` is about to vend from `slot`; returns the
    /// machine's request number. On disk when this returns.
    pub fn start(&self, redemption: &str, slot: u8, now_ms: i64) -> Result<u32, VendLogError> {
        self.conn.execute(
            "INSERT INTO vends (redemption, slot, at_ms) VALUES (?1, ?2, ?3)",
            params![redemption, slot, now_ms],
        )?;
        Ok(u32::try_from(self.conn.last_insert_rowid()).unwrap_or(u32::MAX))
    }

    /// Records the outcome of `redemption` (creating the entry if the id was
    /// never started: a cancellation).
    pub fn finish(
        &self,
        redemption: &str,
        outcome: VendOutcome,
        now_ms: i64,
    ) -> Result<(), VendLogError> {
        self.conn.execute(
            "INSERT INTO vends (redemption, slot, outcome, at_ms) VALUES (?1, 0, ?2, ?3)
             ON CONFLICT (redemption) DO UPDATE SET outcome = ?2, at_ms = ?3",
            params![redemption, outcome.as_str(), now_ms],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_is_remembered_and_a_cancellation_blocks_a_late_vend() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vends.db");
        let log = VendLog::open(&path).unwrap();
        let r = log.start("r-1", 3, 1).unwrap();
        assert_eq!(
            log.get("r-1").unwrap(),
            Some(Entry::Started {
                request: r,
                slot: 3
            })
        );
        log.finish("r-1", VendOutcome::Dispensed, 2).unwrap();
        log.finish("r-2", VendOutcome::NotVended, 3).unwrap();
        drop(log);
        let log = VendLog::open(&path).unwrap();
        assert_eq!(
            log.get("r-1").unwrap(),
            Some(Entry::Done(VendOutcome::Dispensed))
        );
        assert_eq!(
            log.get("r-2").unwrap(),
            Some(Entry::Done(VendOutcome::NotVended))
        );
        assert!(
            log.start("r-2", 1, 4).is_err(),
            "a cancelled id never starts"
        );
        assert_eq!(log.get("r-3").unwrap(), None);
        assert_ne!(
            log.start("r-3", 1, 5).unwrap(),
            r,
            "request numbers are never reused"
        );
    }
}
