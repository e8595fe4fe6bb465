//! Devices claiming their identity (see `keting_core::claim`): the centre
//! records each request with its PIN; a technician confirms it (the staff
//! page, `kiosk claim confirm`), and the centre, which notices the change,
//! answers the device. A request lives until its label's window closes.

use keting_core::claim::pin_for_print;
use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// A request waiting for a technician.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingClaim {
    /// The device.
    pub device: DeviceId,
    /// The PIN to compare with the device's panel.
    pub pin: String,
    /// When it arrived.
    pub requested: Timestamp,
    /// When the label's window closes.
    pub expires: Timestamp,
}

/// A confirmed request the centre has yet to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfirmedClaim {
    /// Row id.
    pub id: i64,
    /// The device.
    pub device: DeviceId,
    /// The request's nonce.
    pub nonce: String,
    /// The device's certificate request (PEM), if it carried one.
    pub csr: Option<String>,
}

/// A device's claim as the centre judged it.
pub struct Request<'a> {
    /// The device.
    pub device: &'a DeviceId,
    /// The request's nonce.
    pub nonce: &'a str,
    /// The PIN both screens show.
    pub pin: &'a str,
    /// The device's own public key (base64url), under the code's proof.
    pub device_key: &'a str,
    /// Its certificate request (PEM), under the code's proof.
    pub csr: &'a str,
}

/// Records a request (a repeated delivery of the same one changes nothing).
pub fn record_request(
    conn: &Connection,
    request: &Request<'_>,
    expires: Timestamp,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO device_claims (device_id, nonce, pin, requested_ms, expires_ms, state, device_key, csr)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
        params![
            request.device.as_str(),
            request.nonce,
            request.pin,
            now.as_unix_millis(),
            expires.as_unix_millis(),
            request.device_key,
            request.csr,
        ],
    )?;
    Ok(())
}

/// Requests waiting for a technician, newest first.
pub fn pending(conn: &Connection, now: Timestamp) -> Result<Vec<PendingClaim>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT device_id, pin, requested_ms, expires_ms FROM device_claims
         WHERE state = 'pending' AND expires_ms >= ?1 ORDER BY requested_ms DESC, id DESC",
    )?;
    let rows = stmt.query_map([now.as_unix_millis()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (device, pin, requested, expires) = row?;
        out.push(PendingClaim {
            device: DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            pin,
            requested: Timestamp::from_unix_millis(requested),
            expires: Timestamp::from_unix_millis(expires),
        });
    }
    Ok(out)
}

/// Why a claim was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// No request of the device is waiting (or its window closed).
    #[error(
        "{0} not found: a claim of {0} waiting for confirmation (on the device: `device-agent --claim ...`; the label's window may have closed)"
    )]
    NoClaim(DeviceId),
    /// The PIN typed is not the one the device shows.
    #[error(
        "PIN {typed} is not the PIN of {device}'s claim ({shown}): another device may be claiming it; nothing confirmed"
    )]
    WrongPin {
        /// The device.
        device: DeviceId,
        /// The PIN typed, for print.
        typed: String,
        /// The PIN the request carries, for print.
        shown: String,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ConfirmError {
    fn from(e: rusqlite::Error) -> Self {
        ConfirmError::Store(e.into())
    }
}

/// Confirms the newest pending request of `device`. With `pin` (typed from
/// the device's panel) it must be that request's PIN: another PIN means
/// another device is claiming, and nothing is confirmed. Returns the public
/// key the confirmed request carried.
pub fn confirm(
    conn: &Connection,
    device: &DeviceId,
    pin: Option<&str>,
    by: &str,
    now: Timestamp,
) -> Result<Option<String>, ConfirmError> {
    let newest: Option<(i64, String, Option<String>)> = conn
        .query_row(
            "SELECT id, pin, device_key FROM device_claims
             WHERE device_id = ?1 AND state = 'pending' AND expires_ms >= ?2
             ORDER BY requested_ms DESC, id DESC LIMIT 1",
            params![device.as_str(), now.as_unix_millis()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, shown, device_key)) = newest else {
        return Err(ConfirmError::NoClaim(device.clone()));
    };
    if let Some(pin) = pin {
        let typed: String = pin.chars().filter(char::is_ascii_digit).collect();
        if typed != shown {
            return Err(ConfirmError::WrongPin {
                device: device.clone(),
                typed: pin_for_print(&typed),
                shown: pin_for_print(&shown),
            });
        }
    }
    conn.execute(
        "UPDATE device_claims SET state = 'confirmed', confirmed_by = ?2, decided_ms = ?3 WHERE id = ?1",
        params![id, by, now.as_unix_millis()],
    )?;
    Ok(device_key)
}

/// Confirmed requests not yet answered.
pub fn confirmed(conn: &Connection) -> Result<Vec<ConfirmedClaim>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, device_id, nonce, csr FROM device_claims WHERE state = 'confirmed' ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, device, nonce, csr) = row?;
        out.push(ConfirmedClaim {
            id,
            device: DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            nonce,
            csr,
        });
    }
    Ok(out)
}

/// The centre answered: the request is closed, and every other pending
/// request of the same device with it (the code is spent).
pub fn mark_answered(
    conn: &Connection,
    claim: &ConfirmedClaim,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE device_claims SET state = 'answered', decided_ms = ?3
         WHERE id = ?1 OR (device_id = ?2 AND state = 'pending')",
        params![claim.id, claim.device.as_str(), now.as_unix_millis()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_millis(s * 1000)
    }

    #[test]
    fn a_claim_is_confirmed_with_its_own_pin_only_and_answered_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let c = store.conn();
        let door = DeviceId::new("gym-door").unwrap();
        record_request(
            c,
            &Request {
                device: &door,
                nonce: "n1",
                pin: "111111",
                device_key: "k-n1",
                csr: "csr",
            },
            at(180),
            at(10),
        )
        .unwrap();
        record_request(
            c,
            &Request {
                device: &door,
                nonce: "n1",
                pin: "111111",
                device_key: "k-n1",
                csr: "csr",
            },
            at(180),
            at(11),
        )
        .unwrap();
        record_request(
            c,
            &Request {
                device: &door,
                nonce: "n2",
                pin: "222222",
                device_key: "k-n2",
                csr: "csr",
            },
            at(180),
            at(20),
        )
        .unwrap();
        let p = pending(c, at(30)).unwrap();
        assert_eq!(p.len(), 2, "a repeated delivery is one request");
        assert_eq!(p[0].pin, "222222", "newest first");
        let e = confirm(c, &door, Some("111 111"), "刘主任", at(30)).unwrap_err();
        assert!(
            e.to_string().contains("another device may be claiming"),
            "{e}"
        );
        assert!(confirmed(c).unwrap().is_empty());
        confirm(c, &door, Some("222 222"), "刘主任", at(31)).unwrap();
        let done = confirmed(c).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].nonce, "n2");
        mark_answered(c, &done[0], at(32)).unwrap();
        assert!(confirmed(c).unwrap().is_empty());
        assert!(pending(c, at(33)).unwrap().is_empty(), "the code is spent");
        let e = confirm(c, &door, None, "刘主任", at(34)).unwrap_err();
        assert!(matches!(e, ConfirmError::NoClaim(_)), "{e}");
    }

    #[test]
    fn a_claim_past_its_window_cannot_be_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let c = store.conn();
        let door = DeviceId::new("gym-door").unwrap();
        record_request(
            c,
            &Request {
                device: &door,
                nonce: "n1",
                pin: "111111",
                device_key: "k-n1",
                csr: "csr",
            },
            at(180),
            at(10),
        )
        .unwrap();
        assert!(pending(c, at(181)).unwrap().is_empty());
        assert!(confirm(c, &door, None, "x", at(181)).is_err());
    }
}
