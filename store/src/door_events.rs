//! What the devices report (entries, refusals, alarms, faults, sessions
//! ended), stored once
//! each: a redelivered event (QoS 1 delivers at least once) is ignored. A
//! new event is also written to the audit log.

use keting_core::calendar::SiteCalendar;
use keting_core::door::occupancy::{Passage, Way};
use keting_core::ids::{DeviceId, MemberId};
use keting_core::messages::{Event, EventKind};
use keting_core::time::Timestamp;
use rusqlite::{Connection, params};

use super::{StoreError, audit};

/// Deletes the devices' events received before `before`; returns how many.
pub fn prune(conn: &Connection, before: Timestamp) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM door_events WHERE received_ms < ?1",
        [before.as_unix_millis()],
    )?)
}

/// Stores `event` from `device`; returns false if it was already stored.
pub fn record(
    conn: &Connection,
    device: &DeviceId,
    event: &Event,
    received: Timestamp,
) -> Result<bool, StoreError> {
    let (kind, member, detail) = match &event.kind {
        EventKind::AccessGranted { member } => ("access_granted", Some(*member), String::new()),
        EventKind::AccessRefused { member, reason } => {
            ("access_refused", *member, reason.code().to_owned())
        }
        EventKind::Alarm { alarm, raised } => (
            "alarm",
            None,
            format!(
                "{} {}",
                serde_json::to_value(alarm)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                if *raised { "raised" } else { "cleared" }
            ),
        ),
        EventKind::RosterRejected { reason } => ("roster_rejected", None, reason.clone()),
        EventKind::Scanned { member, epoch } => {
            ("scanned", Some(*member), format!("epoch {}", epoch.0))
        }
        EventKind::Fault { message } => ("fault", None, message.clone()),
        EventKind::CommandRefused { reason, command } => (
            "command_refused",
            None,
            match command {
                Some(id) => format!("{reason} ({})", id.as_str()),
                None => reason.clone(),
            },
        ),
        EventKind::Clock {
            wrong,
            offset_ms,
            synced,
        } => (
            "clock",
            None,
            format!(
                "{}{}{}",
                if *wrong { "wrong" } else { "right" },
                offset_ms
                    .map(|o| format!(", ahead by {}", super::alarms::clock_skew(-o)))
                    .unwrap_or_default(),
                match synced {
                    Some(false) => ", not synchronised by NTP",
                    _ => "",
                }
            ),
        ),
        EventKind::Passed { way, member } => ("passed", *member, way.as_str().to_owned()),
        EventKind::SessionEnded {
            session,
            channel,
            reason,
            fault,
        } => (
            "session_ended",
            None,
            format!(
                "booking {session} on channel {channel}: {}{}",
                reason.as_str(),
                fault
                    .as_deref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            ),
        ),
    };
    let new = conn.execute(
        "INSERT INTO door_events (device_id, event_id, at_ms, kind, member_id, detail, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (device_id, event_id) DO NOTHING",
        params![
            device.as_str(),
            event.id.as_str(),
            event.at_ms,
            kind,
            member.map(|m| m.0),
            detail,
            received.as_unix_millis()
        ],
    )? > 0;
    if new {
        let who = member.map(|m| format!(" member {m}")).unwrap_or_default();
        audit::record(
            conn,
            Timestamp::from_unix_millis(event.at_ms),
            device.as_str(),
            &format!("door.{kind}"),
            &format!(
                "{}{who}{}{detail}",
                event.id.as_str(),
                if detail.is_empty() { "" } else { ": " }
            ),
        )?;
    }
    Ok(new)
}

/// One entry through a door.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub member: MemberId,
    /// Their name, if the member is known.
    pub name: Option<String>,
    /// Which door.
    pub door: String,
}

/// The start of "tonight": 18:00 local today, or yesterday's if it is not yet 18:00.
pub fn tonight_starts(calendar: SiteCalendar, now: Timestamp) -> Timestamp {
    let day = calendar.date_of(now);
    let evening = calendar
        .start_of(day)
        .saturating_add(std::time::Duration::from_secs(18 * 3600));
    if now >= evening {
        evening
    } else {
        Timestamp::from_unix_millis(evening.as_unix_millis() - 24 * 3600 * 1000)
    }
}

/// Entries since `since`, newest first, at most `limit`.
pub fn entries_since(
    conn: &Connection,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT e.at_ms, e.member_id, m.display_name, COALESCE(d.name, e.device_id)
         FROM door_events e LEFT JOIN members m ON m.id = e.member_id LEFT JOIN doors d ON d.device_id = e.device_id
         WHERE e.kind = 'access_granted' AND e.at_ms >= ?1 ORDER BY e.at_ms DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![since.as_unix_millis(), limit], |r| {
        Ok(Entry {
            at: Timestamp::from_unix_millis(r.get(0)?),
            member: MemberId(r.get(1)?),
            name: r.get(2)?,
            door: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Who last came in through `device` since `since`, if anyone.
pub fn last_entry_at(
    conn: &Connection,
    device: &DeviceId,
    since: Timestamp,
) -> Result<Option<Entry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.at_ms, e.member_id, m.display_name, COALESCE(d.name, e.device_id)
         FROM door_events e LEFT JOIN members m ON m.id = e.member_id LEFT JOIN doors d ON d.device_id = e.device_id
         WHERE e.kind = 'access_granted' AND e.device_id = ?1 AND e.at_ms >= ?2
         ORDER BY e.at_ms DESC LIMIT 1",
    )?;
    let mut rows = stmt.query_map(params![device.as_str(), since.as_unix_millis()], |r| {
        Ok(Entry {
            at: Timestamp::from_unix_millis(r.get(0)?),
            member: MemberId(r.get(1)?),
            name: r.get(2)?,
            door: r.get(3)?,
        })
    })?;
    Ok(rows.next().transpose()?)
}

/// Every door's passages (in, out) since `since`, oldest first: what the
/// head count is made of.
pub fn passages_since(
    conn: &Connection,
    since: Timestamp,
) -> Result<Vec<(DeviceId, Passage)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, at_ms, detail, member_id FROM door_events
         WHERE kind = 'passed' AND at_ms >= ?1 ORDER BY at_ms, id",
    )?;
    let rows = stmt.query_map([since.as_unix_millis()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<u32>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (device, at, way, member) = row?;
        // A row this build did not write is skipped, never guessed.
        let (Ok(device), Some(way)) = (DeviceId::new(device), Way::parse(&way)) else {
            continue;
        };
        out.push((
            device,
            Passage {
                at: Timestamp::from_unix_millis(at),
                way,
                member: member.map(MemberId),
            },
        ));
    }
    Ok(out)
}

/// How many events of `kind` a device sent (for tests and the doors view).
pub fn count(conn: &Connection, device: &DeviceId, kind: &str) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM door_events WHERE device_id = ?1 AND kind = ?2",
        params![device.as_str(), kind],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}
