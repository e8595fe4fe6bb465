//! The audit log: who did what, when, in plain rows staff can read.
//!
//! Nothing secret goes in here: never a pass (a pass is a bearer token), and
//! for scans that are not passes only their length and kind, since people
//! scan payment and ID codes by mistake.

use keting_core::time::Timestamp;
use rusqlite::{Connection, params};

use super::StoreError;

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who: `staff:<id>`, `command-line`, `kiosk`, `scanner`.
    pub actor: String,
    /// What, as a short code: `member.add`, `member.revoke`, `scan.rejected`...
    pub action: String,
    /// Details for a person to read.
    pub detail: String,
}

/// Appends an entry.
pub fn record(
    conn: &Connection,
    at: Timestamp,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit (at_ms, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![at.as_unix_millis(), actor, action, detail])?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(AuditEntry {
            at: Timestamp::from_unix_millis(r.get(0)?),
            actor: r.get(1)?,
            action: r.get(2)?,
            detail: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Entries since `since` whose action starts with `prefix`, oldest first.
pub fn since(
    conn: &Connection,
    since: Timestamp,
    prefix: &str,
) -> Result<Vec<(Timestamp, String, String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms, actor, action, detail FROM audit WHERE at_ms >= ?1 AND substr(action, 1, length(?2)) = ?2
         ORDER BY at_ms, id",
    )?;
    let rows = stmt.query_map(params![since.as_unix_millis(), prefix], |r| {
        Ok((
            Timestamp::from_unix_millis(r.get(0)?),
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
