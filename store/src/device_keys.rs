//! Each device's own public key: a vend's outcome and a session's end count
//! only when signed with it. Learnt from the device's confirmed claim, the
//! demo, or `kiosk device trust`.

use ed25519_dalek::VerifyingKey;
use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// Records `key` as `device`'s (replacing an earlier one: a replaced
/// device's new key), saying where it came from.
pub fn put(
    conn: &Connection,
    device: &DeviceId,
    key: &VerifyingKey,
    source: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO device_keys (device_id, public_key, source, added_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO UPDATE SET public_key = excluded.public_key,
             source = excluded.source, added_ms = excluded.added_ms",
        params![
            device.as_str(),
            key.as_bytes().as_slice(),
            source,
            now.as_unix_millis()
        ],
    )?;
    Ok(())
}

/// `device`'s key, if the centre knows one.
pub fn get(conn: &Connection, device: &DeviceId) -> Result<Option<VerifyingKey>, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .query_row(
            "SELECT public_key FROM device_keys WHERE device_id = ?1",
            [device.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(bytes
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok()))
}

/// Every device's key: (device, key, source, when).
pub fn list(
    conn: &Connection,
) -> Result<Vec<(String, VerifyingKey, String, Timestamp)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT device_id, public_key, source, added_ms FROM device_keys ORDER BY device_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (device, bytes, source, at) = row?;
        if let Some(key) = <[u8; 32]>::try_from(bytes.as_slice())
            .ok()
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        {
            out.push((device, key, source, Timestamp::from_unix_millis(at)));
        }
    }
    Ok(out)
}
