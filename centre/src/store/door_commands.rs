//! Commands to doors (a staff member opening a door remotely), written here
//! by whoever asks (the staff page, `kiosk door open`) and sent by the
//! centre, which notices the database change. Each has an id, a deadline
//! and, once the door answers, an outcome; a command whose deadline passes
//! unsent is never sent.

use std::time::Duration;

use keting_core::ids::{DeviceId, MemberId};
use keting_core::messages::{Ack, Outcome};
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// A door must carry out a command within this long, or not at all.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A command waiting to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCommand {
    /// Its id (the ack carries it).
    pub command_id: String,
    /// The door.
    pub device: DeviceId,
    /// On whose behalf, for the door's log.
    pub member: Option<MemberId>,
    /// Not carried out after this.
    pub deadline: Timestamp,
}

/// Asks `device` to unlock for one pulse; returns the command id.
pub fn request_unlock(
    conn: &Connection,
    device: &DeviceId,
    member: Option<MemberId>,
    requested_by: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    let known: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM doors WHERE device_id = ?1",
            [device.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!(
            "door {device} (see `kiosk door list`)"
        )));
    }
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| StoreError::Invalid(format!("no randomness: {e}")))?;
    let command_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute(
        "INSERT INTO door_commands (command_id, device_id, action, member_id, requested_by, requested_ms, deadline_ms)
         VALUES (?1, ?2, 'unlock', ?3, ?4, ?5, ?6)",
        params![
            command_id,
            device.as_str(),
            member.map(|m| m.0),
            requested_by,
            now.as_unix_millis(),
            now.saturating_add(DEADLINE).as_unix_millis()
        ],
    )?;
    Ok(command_id)
}

/// Commands not yet sent; those past their deadline are closed as expired.
pub fn take_unsent(conn: &Connection, now: Timestamp) -> Result<Vec<PendingCommand>, StoreError> {
    conn.execute(
        "UPDATE door_commands SET outcome = 'expired', outcome_ms = ?1
         WHERE sent_ms IS NULL AND outcome IS NULL AND deadline_ms < ?1",
        [now.as_unix_millis()],
    )?;
    let mut stmt = conn.prepare(
        "SELECT command_id, device_id, member_id, deadline_ms FROM door_commands
         WHERE sent_ms IS NULL AND outcome IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<u32>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (command_id, device, member, deadline) = row?;
        let device = DeviceId::new(device).map_err(|e| StoreError::Invalid(e.to_string()))?;
        out.push(PendingCommand {
            command_id,
            device,
            member: member.map(MemberId),
            deadline: Timestamp::from_unix_millis(deadline),
        });
    }
    Ok(out)
}

/// Marks a command as handed to the link (durable in its outbox).
pub fn mark_sent(conn: &Connection, command_id: &str, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE door_commands SET sent_ms = ?2 WHERE command_id = ?1",
        params![command_id, now.as_unix_millis()],
    )?;
    Ok(())
}

/// Records a door's answer (the first answer counts).
pub fn record_ack(
    conn: &Connection,
    device: &DeviceId,
    ack: &Ack,
    now: Timestamp,
) -> Result<(), StoreError> {
    let outcome = match &ack.outcome {
        Outcome::Done => "done".to_owned(),
        Outcome::Expired => "expired".to_owned(),
        Outcome::Refused { reason } => format!("refused: {reason}"),
        // A technician's self-test (keting-provision sends it, not the kiosk).
        Outcome::Vended { result, .. } => format!("vended: {}", result.as_str()),
        Outcome::SelfTested { checks } => format!(
            "self-test: {} of {} checks passed",
            checks.iter().filter(|c| c.passed).count(),
            checks.len()
        ),
    };
    conn.execute(
        "UPDATE door_commands SET outcome = ?3, outcome_ms = ?4
         WHERE command_id = ?1 AND device_id = ?2 AND outcome IS NULL",
        params![
            ack.id.as_str(),
            device.as_str(),
            outcome,
            now.as_unix_millis()
        ],
    )?;
    Ok(())
}

/// A command's outcome, once the door answered (or it expired).
pub fn outcome(conn: &Connection, command_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT outcome FROM door_commands WHERE command_id = ?1",
            [command_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}
