//! The sequence numbers the centre signs commands with, one series per
//! device: each number is higher than the last (a device carries out each
//! at most once) and at least the clock's milliseconds, so a database
//! restored from an older backup still numbers above what the devices saw.

use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// The next number for `device` at `now`, written down before it is used.
pub fn next(conn: &Connection, device: &DeviceId, now: Timestamp) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .query_row(
            "SELECT last_seq FROM command_sequence WHERE device_id = ?1",
            [device.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    let seq = last
        .unwrap_or(0)
        .saturating_add(1)
        .max(now.as_unix_millis())
        .max(1);
    conn.execute(
        "INSERT INTO command_sequence (device_id, last_seq) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE SET last_seq = excluded.last_seq",
        params![device.as_str(), seq],
    )?;
    Ok(u64::try_from(seq).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn numbers_rise_per_device_and_follow_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let door = DeviceId::new("gym-door").unwrap();
        let bank = DeviceId::new("piano-bank").unwrap();
        let t = Timestamp::from_unix_millis(1_000);
        assert_eq!(next(store.conn(), &door, t).unwrap(), 1_000);
        assert_eq!(next(store.conn(), &door, t).unwrap(), 1_001);
        assert_eq!(next(store.conn(), &bank, t).unwrap(), 1_000);
        // The clock went back: still rising.
        let earlier = Timestamp::from_unix_millis(10);
        assert_eq!(next(store.conn(), &door, earlier).unwrap(), 1_002);
        let later = Timestamp::from_unix_millis(5_000);
        assert_eq!(next(store.conn(), &door, later).unwrap(), 5_000);
    }
}
