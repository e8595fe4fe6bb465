//! The doors the centre serves: each gets the signed roster on its `roster`
//! topic and is listed on the doors view.

use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, params};

use super::StoreError;

/// A registered door.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Door {
    /// Its device id.
    pub id: DeviceId,
    /// Its name for people (`健身房`).
    pub name: String,
}

/// Registers a door, or renames it (the name checked by the doors desk).
pub fn add(conn: &Connection, id: &DeviceId, name: &str, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO doors (device_id, name, added_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (device_id) DO UPDATE SET name = excluded.name",
        params![id.as_str(), name.trim(), now.as_unix_millis()],
    )?;
    Ok(())
}

/// Every door, by name.
pub fn list(conn: &Connection) -> Result<Vec<Door>, StoreError> {
    let mut stmt = conn.prepare("SELECT device_id, name FROM doors ORDER BY name, device_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut doors = Vec::new();
    for row in rows {
        let (id, name) = row?;
        let id = DeviceId::new(id)
            .map_err(|e| StoreError::Corrupt(format!("door id in the database: {e}")))?;
        doors.push(Door { id, name });
    }
    Ok(doors)
}
