//! The newest signed status the centre took from each device, by the
//! device's own time: what a status must be newer than to prove anything,
//! kept across the centre's restarts (a status recorded on the broker and
//! played again after a restart is still old).

use keting_core::ids::DeviceId;
use rusqlite::{Connection, params};

use super::StoreError;

/// Every device's mark.
pub fn all(conn: &Connection) -> Result<Vec<(DeviceId, i64)>, StoreError> {
    let mut stmt = conn.prepare("SELECT device_id, signed_at_ms FROM device_status_marks")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at) = row?;
        // An id no longer valid is skipped, not fatal.
        if let Ok(id) = DeviceId::new(id) {
            out.push((id, at));
        }
    }
    Ok(out)
}

/// Raises `device`'s mark to `signed_at_ms` (never lowers it).
pub fn raise(conn: &Connection, device: &DeviceId, signed_at_ms: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO device_status_marks (device_id, signed_at_ms) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE SET signed_at_ms = max(signed_at_ms, excluded.signed_at_ms)",
        params![device.as_str(), signed_at_ms],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn a_mark_only_rises() {
        let store = Store::open_in_memory().unwrap();
        let id = DeviceId::new("gym-door").unwrap();
        raise(store.conn(), &id, 10).unwrap();
        raise(store.conn(), &id, 5).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![(id.clone(), 10)]);
        raise(store.conn(), &id, 12).unwrap();
        assert_eq!(all(store.conn()).unwrap(), vec![(id, 12)]);
    }
}
