//! The durable outbox: what must arrive is written here first and leaves
//! only when the broker has acknowledged it (PUBACK).
//!
//! rumqttc drops QoS 1 messages in flight when the broker has no session for
//! the client, so an event (a door opened, a drink vended) goes through this
//! SQLite queue (WAL): it survives a crash, a power cut and a broker
//! restart, and is sent again until acknowledged. Delivery is at least once;
//! every message carries an id so receivers drop duplicates.
//!
//! Only an event waits for the disk (`synchronous=FULL`): its commit is
//! synced, and with it whatever was written before it. State (a status, a
//! roster, a time ask) and the removal of what the broker acknowledged are
//! committed without a sync: a power cut may take back the last of them, and
//! then a removed message is sent again (dropped by its id) and state is sent
//! anew when its owner starts, as it is on every start. On a Pi's SD card a
//! sync costs milliseconds, and the link shares its thread with the door:
//! one sync per scan instead of six, none of them between two scans.
//!
//! Bounded where it can be without losing anything: state is coalesced, a
//! retained message (a roster, a status) replaces whatever still waits on its
//! topic, since the broker would keep only the last anyway, and so does a
//! latest-only one (a time ask); events are never dropped, and the link
//! reports how many wait ([`REPORT_EVERY`]).

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

/// While messages pile up (the broker away), the link reports the count each
/// time this many more were queued.
pub const REPORT_EVERY: i64 = 1000;

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
        Self::with_schema(conn)
    }

    /// An outbox in memory, for an agent whose state directory cannot be
    /// written (a read-only or full SD card): messages still wait for the
    /// broker's acknowledgement, but do not outlive the process.
    pub fn in_memory() -> Result<Self, OutboxError> {
        Self::with_schema(Connection::open_in_memory()?)
    }

    fn with_schema(conn: Connection) -> Result<Self, OutboxError> {
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS outbox (
                 seq     INTEGER PRIMARY KEY AUTOINCREMENT,
                 topic   TEXT    NOT NULL,
                 payload BLOB    NOT NULL,
                 retain  INTEGER NOT NULL CHECK (retain IN (0, 1))
             ) STRICT;
             CREATE INDEX IF NOT EXISTS outbox_topic ON outbox (topic);",
        )?;
        Ok(Self { conn })
    }

    /// Adds a message (an event); it is on disk, synced, when this returns.
    pub fn push(&self, topic: &str, payload: &[u8], retain: bool) -> Result<i64, OutboxError> {
        self.conn.execute_batch("PRAGMA synchronous = FULL")?;
        let inserted = self.conn.execute(
            "INSERT INTO outbox (topic, payload, retain) VALUES (?1, ?2, ?3)",
            params![topic, payload, retain],
        );
        let seq = self.conn.last_insert_rowid();
        self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        inserted?;
        Ok(seq)
    }

    /// Adds a message that replaces any still waiting on `topic` (state:
    /// a retained message, or one only the latest of which matters);
    /// returns its number and how many it replaced. Committed without a
    /// sync: its owner sends state anew on every start.
    pub fn push_latest(
        &self,
        topic: &str,
        payload: &[u8],
        retain: bool,
    ) -> Result<(i64, usize), OutboxError> {
        let tx = self.conn.unchecked_transaction()?;
        let replaced = tx.execute("DELETE FROM outbox WHERE topic = ?1", [topic])?;
        tx.execute(
            "INSERT INTO outbox (topic, payload, retain) VALUES (?1, ?2, ?3)",
            params![topic, payload, retain],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok((seq, replaced))
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

    /// The broker acknowledged message `seq`: it leaves the outbox (without
    /// a sync: after a power cut it may be sent again, and dropped by its id).
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
    fn state_is_coalesced_to_the_latest_and_events_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("outbox.db")).unwrap();
        // A day offline: 1,000 events and 1,000 rosters.
        for i in 0..1000 {
            outbox
                .push(
                    "keting/v1/s/device/d/event",
                    format!("{{\"id\":{i}}}").as_bytes(),
                    false,
                )
                .unwrap();
            outbox
                .push_latest(
                    "keting/v1/s/device/d/roster",
                    format!("roster {i}").as_bytes(),
                    true,
                )
                .unwrap();
        }
        assert_eq!(outbox.len().unwrap(), 1001, "every event, one roster");
        let pending = outbox.pending_after(0, 2000).unwrap();
        let rosters: Vec<_> = pending
            .iter()
            .filter(|m| m.topic.ends_with("roster"))
            .collect();
        assert_eq!(rosters.len(), 1);
        assert_eq!(rosters[0].payload, b"roster 999");
        let events: Vec<_> = pending
            .iter()
            .filter(|m| m.topic.ends_with("event"))
            .collect();
        assert_eq!(events.first().unwrap().payload, b"{\"id\":0}");
        assert_eq!(events.last().unwrap().payload, b"{\"id\":999}");
    }

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
