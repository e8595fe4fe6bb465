//! The durable outbox: what must arrive is written here first and leaves
//! only when the broker has acknowledged it (PUBACK).
//!
//! rumqttc drops QoS 1 messages in flight when the broker has no session for
//! the client, so an event (a door opened, a drink vended) goes through this
//! SQLite queue (WAL, `synchronous=FULL`): it survives a crash, a power cut
//! and a broker restart, and is sent again until acknowledged. Delivery is at
//! least once; every message carries an id so receivers drop duplicates.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

/// An error of the outbox's database.
#[derive(Debug, Error)]
#[error("outbox: {0}")]
pub struct OutboxError(#[from] rusqlite::Error);

/// A message waiting for the broker's acknowledgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The outbox's number for it; increases with every message.
    pub seq: i64,
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// Whether the broker should retain it.
    pub retain: bool,
}

/// The outbox.
pub struct Outbox {
    conn: Connection,
}

impl Outbox {
    /// Opens (creating) the outbox database at `path`.
    pub fn open(path: &Path) -> Result<Self, OutboxError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS outbox (
                 seq     INTEGER PRIMARY KEY AUTOINCREMENT,
                 topic   TEXT    NOT NULL,
                 payload BLOB    NOT NULL,
                 retain  INTEGER NOT NULL CHECK (retain IN (0, 1))
             ) STRICT;",
        )?;
        Ok(Self { conn })
    }

    /// Adds a message; it is on disk when this returns.
    pub fn push(&self, topic: &str, payload: &[u8], retain: bool) -> Result<i64, OutboxError> {
        self.conn.execute(
            "INSERT INTO outbox (topic, payload, retain) VALUES (?1, ?2, ?3)",
            params![topic, payload, retain],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Up to `limit` waiting messages, oldest first, after `after` (exclusive).
    pub fn pending_after(&self, after: i64, limit: u32) -> Result<Vec<OutboxMessage>, OutboxError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, topic, payload, retain FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok(OutboxMessage {
                seq: r.get(0)?,
                topic: r.get(1)?,
                payload: r.get(2)?,
                retain: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The broker acknowledged message `seq`: it leaves the outbox.
    pub fn acknowledged(&self, seq: i64) -> Result<(), OutboxError> {
        self.conn
            .execute("DELETE FROM outbox WHERE seq = ?1", [seq])?;
        Ok(())
    }

    /// How many messages wait.
    pub fn len(&self) -> Result<u64, OutboxError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> Result<bool, OutboxError> {
        Ok(self
            .conn
            .query_row("SELECT seq FROM outbox LIMIT 1", [], |r| r.get::<_, i64>(0))
            .optional()?
            .is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_leave_only_when_acknowledged_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.db");
        let outbox = Outbox::open(&path).unwrap();
        assert!(outbox.is_empty().unwrap());
        let a = outbox
            .push("keting/v1/s/device/d/event", b"{\"id\":1}", false)
            .unwrap();
        let b = outbox
            .push("keting/v1/s/device/d/event", b"{\"id\":2}", false)
            .unwrap();
        let c = outbox
            .push("keting/v1/s/device/d/status", b"{}", true)
            .unwrap();
        assert!(a < b && b < c);
        outbox.acknowledged(b).unwrap();
        drop(outbox);

        let outbox = Outbox::open(&path).unwrap();
        let pending = outbox.pending_after(0, 10).unwrap();
        assert_eq!(pending.iter().map(|m| m.seq).collect::<Vec<_>>(), [a, c]);
        assert_eq!(pending[0].payload, b"{\"id\":1}");
        assert!(pending[1].retain);
        assert_eq!(outbox.pending_after(a, 10).unwrap().len(), 1);
        assert_eq!(outbox.len().unwrap(), 2);
        // A new message after a restart never reuses an acknowledged number.
        let d = outbox.push("t", b"", false).unwrap();
        assert!(d > c);
    }
}
