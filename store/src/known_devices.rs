//! Whether the centre knows a device: it holds the device's key, registered
//! it as a door, runs a resource on it, or names it in the drinks
//! catalogue. What an unknown id says on the broker (a made-up device) is
//! not shown to the staff.

use keting_core::ids::DeviceId;
use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// Whether `device` is one of this centre's.
pub fn is_known(conn: &Connection, device: &DeviceId) -> Result<bool, StoreError> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM device_keys WHERE device_id = ?1)
                OR EXISTS (SELECT 1 FROM doors WHERE device_id = ?1)
                OR EXISTS (SELECT 1 FROM resources WHERE device_id = ?1)
                OR EXISTS (SELECT 1 FROM vending_slots WHERE device_id = ?1)",
            [device.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn a_device_is_known_by_its_key_its_door_its_resource_or_its_catalogue() {
        let mut store = Store::open_in_memory().unwrap();
        let id = |s: &str| DeviceId::new(s).unwrap();
        assert!(!is_known(store.conn(), &id("made-up")).unwrap());
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO doors (device_id, name, added_ms) VALUES ('gym-door', '健身房', 0)",
                    [],
                )
            })
            .unwrap();
        assert!(is_known(store.conn(), &id("gym-door")).unwrap());
        assert!(!is_known(store.conn(), &id("made-up")).unwrap());
    }
}
