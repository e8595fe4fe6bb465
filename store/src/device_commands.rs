//! Commands to devices that staff ask for: a door opened remotely (the
//! staff page, `kiosk door open`), a door released for a fire reset
//! (`kiosk door reset`, the dashboard), a device's self-test (the dashboard).
//! They are written here by whoever asks and sent by the centre, which
//! notices the database change. Each has an id, a deadline and, once the
//! device answers, an outcome (and a self-test's report); a command whose
//! deadline passes unsent is never sent.

use std::time::Duration;

use keting_core::ids::{DeviceId, MemberId};
use keting_core::messages::{Ack, Outcome};
use keting_core::self_test::SelfCheck;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// A door must carry out a command within this long, or not at all.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A self-test reads every part of a device (a relay pulse, the bus, a
/// panel); it must be under way within this long.
pub const SELF_TEST_DEADLINE: Duration = Duration::from_secs(30);

/// What a command asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandAction {
    /// A door: one pulse of the strike.
    Unlock,
    /// Any device: its commissioning self-test (nothing dispensed).
    SelfTest,
    /// A door released by its fire-alarm input: lock again.
    ResetRelease,
}

impl CommandAction {
    fn as_str(self) -> &'static str {
        match self {
            CommandAction::Unlock => "unlock",
            CommandAction::SelfTest => "self_test",
            CommandAction::ResetRelease => "reset_release",
        }
    }
}

/// A command, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRecord {
    /// The device.
    pub device: DeviceId,
    /// What was asked.
    pub action: CommandAction,
    /// Who asked (`staff:ID` or `command-line`).
    pub requested_by: String,
    /// When.
    pub requested: Timestamp,
    /// Not carried out after this.
    pub deadline: Timestamp,
    /// Handed to the link.
    pub sent: Option<Timestamp>,
    /// The device's answer (`done`, `refused: ...`, `expired`,
    /// `self-test: ...`), once it came.
    pub outcome: Option<String>,
    /// A self-test's checks, once the device answered.
    pub report: Vec<SelfCheck>,
}

/// A command waiting to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCommand {
    /// Its id (the ack carries it).
    pub command_id: String,
    /// The device.
    pub device: DeviceId,
    /// What it asks.
    pub action: CommandAction,
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
    insert(
        conn,
        device,
        CommandAction::Unlock,
        member,
        requested_by,
        now,
        DEADLINE,
    )
}

/// Asks door `device`, released for a fire, to lock again; returns the
/// command id. The door refuses while its fire input is still active.
pub fn request_reset(
    conn: &Connection,
    device: &DeviceId,
    requested_by: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    insert(
        conn,
        device,
        CommandAction::ResetRelease,
        None,
        requested_by,
        now,
        DEADLINE,
    )
}

/// Asks `device` (any kind) for its self-test; returns the command id.
pub fn request_self_test(
    conn: &Connection,
    device: &DeviceId,
    requested_by: &str,
    now: Timestamp,
) -> Result<String, StoreError> {
    insert(
        conn,
        device,
        CommandAction::SelfTest,
        None,
        requested_by,
        now,
        SELF_TEST_DEADLINE,
    )
}

fn insert(
    conn: &Connection,
    device: &DeviceId,
    action: CommandAction,
    member: Option<MemberId>,
    requested_by: &str,
    now: Timestamp,
    deadline: Duration,
) -> Result<String, StoreError> {
    let mut id = [0u8; 8];
    getrandom::fill(&mut id).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
    let command_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    conn.execute(
        "INSERT INTO device_commands (command_id, device_id, action, member_id, requested_by, requested_ms, deadline_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            command_id,
            device.as_str(),
            action.as_str(),
            member.map(|m| m.0),
            requested_by,
            now.as_unix_millis(),
            now.saturating_add(deadline).as_unix_millis()
        ],
    )?;
    Ok(command_id)
}

fn action_of(s: &str) -> Result<CommandAction, StoreError> {
    match s {
        "unlock" => Ok(CommandAction::Unlock),
        "self_test" => Ok(CommandAction::SelfTest),
        "reset_release" => Ok(CommandAction::ResetRelease),
        other => Err(StoreError::Corrupt(format!("a command's action {other:?}"))),
    }
}

/// Commands not yet sent; those past their deadline are closed as expired.
pub fn take_unsent(conn: &Connection, now: Timestamp) -> Result<Vec<PendingCommand>, StoreError> {
    conn.execute(
        "UPDATE device_commands SET outcome = 'expired', outcome_ms = ?1
         WHERE sent_ms IS NULL AND outcome IS NULL AND deadline_ms < ?1",
        [now.as_unix_millis()],
    )?;
    let mut stmt = conn.prepare(
        "SELECT command_id, device_id, member_id, deadline_ms, action FROM device_commands
         WHERE sent_ms IS NULL AND outcome IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<u32>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (command_id, device, member, deadline, action) = row?;
        let device = DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        out.push(PendingCommand {
            command_id,
            device,
            action: action_of(&action)?,
            member: member.map(MemberId),
            deadline: Timestamp::from_unix_millis(deadline),
        });
    }
    Ok(out)
}

/// Marks a command as handed to the link (durable in its outbox).
pub fn mark_sent(conn: &Connection, command_id: &str, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE device_commands SET sent_ms = ?2 WHERE command_id = ?1",
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
        // A vend is settled elsewhere; a self-test's checks go in `report`.
        Outcome::Vended { result, .. } => format!("vended: {}", result.as_str()),
        Outcome::SelfTested { checks } => format!(
            "self-test: {} of {} checks passed",
            checks.iter().filter(|c| c.passed).count(),
            checks.len()
        ),
    };
    let report = match &ack.outcome {
        Outcome::SelfTested { checks } => {
            Some(serde_json::to_string(checks).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        }
        _ => None,
    };
    conn.execute(
        "UPDATE device_commands SET outcome = ?3, outcome_ms = ?4, report = ?5
         WHERE command_id = ?1 AND device_id = ?2 AND outcome IS NULL",
        params![
            ack.id.as_str(),
            device.as_str(),
            outcome,
            now.as_unix_millis(),
            report
        ],
    )?;
    Ok(())
}

/// A command's outcome, once the device answered (or it expired).
pub fn outcome(conn: &Connection, command_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT outcome FROM device_commands WHERE command_id = ?1",
            [command_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// A command, by its id.
pub fn get(conn: &Connection, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
    let row = conn
        .query_row(
            "SELECT device_id, action, requested_by, requested_ms, deadline_ms, sent_ms, outcome, report
             FROM device_commands WHERE command_id = ?1",
            [command_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((device, action, requested_by, requested, deadline, sent, outcome, report)) = row
    else {
        return Ok(None);
    };
    let report = match report {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("a self-test report: {e}")))?,
        None => Vec::new(),
    };
    Ok(Some(CommandRecord {
        device: DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        action: action_of(&action)?,
        requested_by,
        requested: Timestamp::from_unix_millis(requested),
        deadline: Timestamp::from_unix_millis(deadline),
        sent: sent.map(Timestamp::from_unix_millis),
        outcome,
        report,
    }))
}
