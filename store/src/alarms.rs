//! Alarms with a life: raised (by the centre, from what a device said or
//! did not say), acknowledged by a named person, cleared when the cause is
//! gone. At most one open alarm per device and kind (a unique index), so a
//! repeated cause does not pile up; a cleared alarm is history.

use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// What an alarm is about.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A door opened while locked.
    Forced,
    /// A door open longer than allowed.
    HeldOpen,
    /// A reader locked out after too many refused scans.
    ReaderLockout,
    /// A device offline for more than a minute.
    Offline,
    /// A device reports a fault.
    Fault,
    /// A drink whose outcome is not known yet.
    VendInDoubt,
    /// A clock more than a minute from the centre's (a device's), or one
    /// that cannot be right (the centre's own, before 2026).
    ClockWrong,
    /// Someone pressed a door's help (SOS) button: urgent, told to every
    /// channel at once, cleared when staff acknowledge it.
    Help,
    /// A door released by the fire-alarm input: cleared when staff reset
    /// the door once the input is clear (the door's signed event).
    Fire,
    /// Someone alone in the gym at night longer than the welfare watch
    /// allows: cleared when they leave or someone joins them.
    Welfare,
    /// Someone left through a door whom no scan let in (two in on one
    /// scan): cleared when staff acknowledge it.
    Tailgating,
}

impl AlarmKind {
    /// Every kind.
    pub const ALL: [AlarmKind; 11] = [
        AlarmKind::Forced,
        AlarmKind::HeldOpen,
        AlarmKind::ReaderLockout,
        AlarmKind::Offline,
        AlarmKind::Fault,
        AlarmKind::VendInDoubt,
        AlarmKind::ClockWrong,
        AlarmKind::Help,
        AlarmKind::Fire,
        AlarmKind::Welfare,
        AlarmKind::Tailgating,
    ];

    /// Its name in the database and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Forced => "forced",
            AlarmKind::HeldOpen => "held_open",
            AlarmKind::ReaderLockout => "reader_lockout",
            AlarmKind::Offline => "offline",
            AlarmKind::Fault => "fault",
            AlarmKind::VendInDoubt => "vend_in_doubt",
            AlarmKind::ClockWrong => "clock_wrong",
            AlarmKind::Help => "help",
            AlarmKind::Fire => "fire",
            AlarmKind::Welfare => "welfare",
            AlarmKind::Tailgating => "tailgating",
        }
    }

    /// The kind of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A clock's lead over the centre's (negative: behind) as `+H:MM:SS`: the
/// clock alarm's detail.
pub fn clock_skew(ahead_ms: i64) -> String {
    let sign = if ahead_ms < 0 { '-' } else { '+' };
    let s = ahead_ms.unsigned_abs() / 1000;
    format!("{sign}{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// One alarm.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Alarm {
    /// Its number.
    pub id: i64,
    /// The device.
    pub device: DeviceId,
    /// What it is about.
    pub kind: AlarmKind,
    /// More, for people (a fault's words, how many drinks are in doubt).
    pub detail: String,
    /// When it was raised.
    pub raised: Timestamp,
    /// Who acknowledged it and when.
    pub acked: Option<(String, Timestamp)>,
    /// When its cause went away.
    pub cleared: Option<Timestamp>,
}

type AlarmRow = (
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlarmRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

const COLUMNS: &str = "id, device_id, kind, detail, raised_ms, acked_by, acked_ms, cleared_ms";

fn alarms(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<Alarm>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(p, row)?;
    let mut out = Vec::new();
    for r in rows {
        let (id, device, kind, detail, raised, by, acked, cleared) = r?;
        out.push(Alarm {
            id,
            device: DeviceId::new(device).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            kind: AlarmKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("alarm kind {kind:?}")))?,
            detail,
            raised: Timestamp::from_unix_millis(raised),
            acked: by.zip(acked.map(Timestamp::from_unix_millis)),
            cleared: cleared.map(Timestamp::from_unix_millis),
        });
    }
    Ok(out)
}

/// Raises `kind` for `device` unless one is open; returns the new alarm's
/// number (`None`: already open).
pub fn raise(
    conn: &Connection,
    device: &DeviceId,
    kind: AlarmKind,
    detail: &str,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO alarms (device_id, kind, detail, raised_ms) VALUES (?1, ?2, ?3, ?4)",
        params![device.as_str(), kind.as_str(), detail, now.as_unix_millis()],
    )?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// Replaces the detail of the open `kind` alarm of `device` (a clock's
/// lead, once the centre's time is known); returns whether one was open.
pub fn update_detail(
    conn: &Connection,
    device: &DeviceId,
    kind: AlarmKind,
    detail: &str,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE alarms SET detail = ?3 WHERE device_id = ?1 AND kind = ?2 AND cleared_ms IS NULL AND detail <> ?3",
        params![device.as_str(), kind.as_str(), detail],
    )?;
    Ok(n > 0)
}

/// Deletes the alarms cleared before `before` (an open one is never
/// deleted); returns how many.
pub fn prune_cleared(conn: &Connection, before: Timestamp) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM alarms WHERE cleared_ms IS NOT NULL AND cleared_ms < ?1",
        [before.as_unix_millis()],
    )?)
}

/// Clears the open `kind` alarm of `device`, if any; returns whether one was.
pub fn clear(
    conn: &Connection,
    device: &DeviceId,
    kind: AlarmKind,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = conn.execute(
        "UPDATE alarms SET cleared_ms = ?3 WHERE device_id = ?1 AND kind = ?2 AND cleared_ms IS NULL",
        params![device.as_str(), kind.as_str(), now.as_unix_millis()],
    )?;
    Ok(n > 0)
}

/// Records that `by` acknowledged alarm `id` (the first acknowledgement
/// stays); the alarm as it is now.
pub fn ack(conn: &Connection, id: i64, by: &str, now: Timestamp) -> Result<Alarm, StoreError> {
    conn.execute(
        "UPDATE alarms SET acked_by = ?2, acked_ms = ?3 WHERE id = ?1 AND acked_ms IS NULL",
        params![id, by, now.as_unix_millis()],
    )?;
    get(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("alarm {id}")))
}

/// One alarm.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Alarm>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM alarms WHERE id = ?1");
    Ok(alarms(conn, &sql, [id])?.into_iter().next())
}

/// The alarms not cleared, newest first.
pub fn open(conn: &Connection) -> Result<Vec<Alarm>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alarms WHERE cleared_ms IS NULL ORDER BY raised_ms DESC, id DESC"
    );
    alarms(conn, &sql, [])
}

/// The newest `limit` alarms, cleared or not.
pub fn recent(conn: &Connection, limit: i64) -> Result<Vec<Alarm>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM alarms ORDER BY raised_ms DESC, id DESC LIMIT ?1");
    alarms(conn, &sql, [limit])
}

/// Whether `device` has an open `kind` alarm.
pub fn is_open(conn: &Connection, device: &DeviceId, kind: AlarmKind) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM alarms WHERE device_id = ?1 AND kind = ?2 AND cleared_ms IS NULL",
            params![device.as_str(), kind.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn an_alarm_is_raised_once_acknowledged_by_a_person_and_cleared_into_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let c = store.conn();
        let door = DeviceId::new("gym-door").unwrap();
        let t = Timestamp::from_unix_millis;
        let id = raise(c, &door, AlarmKind::Forced, "", t(1_000))
            .unwrap()
            .unwrap();
        assert_eq!(
            raise(c, &door, AlarmKind::Forced, "", t(2_000)).unwrap(),
            None,
            "once"
        );
        raise(c, &door, AlarmKind::HeldOpen, "", t(3_000))
            .unwrap()
            .unwrap();
        assert_eq!(open(c).unwrap().len(), 2);
        let a = ack(c, id, "staff:5", t(4_000)).unwrap();
        assert_eq!(a.acked, Some(("staff:5".to_owned(), t(4_000))));
        let again = ack(c, id, "staff:6", t(5_000)).unwrap();
        assert_eq!(
            again.acked,
            Some(("staff:5".to_owned(), t(4_000))),
            "the first stays"
        );
        assert!(clear(c, &door, AlarmKind::Forced, t(6_000)).unwrap());
        assert!(!clear(c, &door, AlarmKind::Forced, t(7_000)).unwrap());
        assert_eq!(open(c).unwrap().len(), 1);
        assert!(!is_open(c, &door, AlarmKind::Forced).unwrap());
        // The same cause later is a new alarm; the old one is history.
        let second = raise(c, &door, AlarmKind::Forced, "", t(8_000))
            .unwrap()
            .unwrap();
        assert_ne!(second, id);
        let history = recent(c, 10).unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[2].cleared, Some(t(6_000)));
        assert!(ack(c, 999, "staff:5", t(9_000)).is_err());
    }

    #[test]
    fn old_device_events_and_cleared_alarms_are_pruned_and_open_alarms_never() {
        use keting_core::messages::{Event, EventKind, MessageId, PROTOCOL_VERSION};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let c = store.conn();
        let door = DeviceId::new("gym-door").unwrap();
        let t = Timestamp::from_unix_millis;
        let event = |n: u32| Event {
            v: PROTOCOL_VERSION,
            id: MessageId::new(format!("e-{n}")).unwrap(),
            at_ms: 0,
            kind: EventKind::Fault {
                message: "relay board unreachable".into(),
            },
        };
        for n in 0..10 {
            super::super::door_events::record(c, &door, &event(n), t(i64::from(n) * 1_000))
                .unwrap();
        }
        raise(c, &door, AlarmKind::Forced, "", t(1_000)).unwrap();
        clear(c, &door, AlarmKind::Forced, t(2_000)).unwrap();
        raise(c, &door, AlarmKind::HeldOpen, "", t(3_000)).unwrap();
        assert_eq!(super::super::door_events::prune(c, t(5_000)).unwrap(), 5);
        assert_eq!(prune_cleared(c, t(5_000)).unwrap(), 1);
        assert_eq!(
            open(c).unwrap().len(),
            1,
            "the open alarm stays, however old"
        );
        let left: i64 = c
            .query_row("SELECT count(*) FROM door_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 5);
    }
}
