//! Activities in SQLite: the plan of each occurrence, its list (places,
//! offers, the waiting list in turn), its attendance, the centre's
//! activity settings and the days it is closed.
//!
//! No decisions here: the desk reads a list, asks the core's
//! `activity::rules`, and writes the changes back through these functions
//! in one transaction.

use std::time::Duration;

use keting_core::activity::rules::{ActivityPolicy, Change, Entry, Standing};
use keting_core::activity::{ActivityKind, ActivityPlan, ActivityRefusal, Audience};
use keting_core::calendar::Span;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, named_params, params};
use time::Date;

use super::StoreError;

/// Where an activity is in its life, as stored (planned, open, on and
/// ended are read from its times).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivityState {
    /// Not closed or cancelled.
    Open,
    /// Closed by its organiser; `held` when someone attended.
    Closed {
        /// Whether it was held.
        held: bool,
    },
    /// Cancelled, with the reason.
    Cancelled(String),
}

impl ActivityState {
    /// `Ok` while open, else the state's name (for the core's rules).
    pub fn open(&self) -> Result<(), &'static str> {
        match self {
            ActivityState::Open => Ok(()),
            ActivityState::Closed { .. } => Err("closed"),
            ActivityState::Cancelled(_) => Err("cancelled"),
        }
    }
}

/// One activity as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRecord {
    /// Its number.
    pub id: i64,
    /// What a person set.
    pub plan: ActivityPlan,
    /// The staff member organising it (none: the command line, the
    /// district, or an outside organiser named in the plan).
    pub organiser: Option<MemberId>,
    /// The first occurrence of its repeat rule (itself for a one-off).
    pub series: Option<i64>,
    /// The repeat rule's text, if any.
    pub repeat_rule: String,
    /// Its state.
    pub state: ActivityState,
    /// People who attended (set when closed).
    pub attended: u32,
    /// Volunteer minutes confirmed (set when closed).
    pub volunteer_minutes: u32,
    /// The district notice it was adopted from.
    pub adopted_notice: Option<String>,
}

const COLUMNS: &str = "id, title_zh, title_en, room, kind, audience, starts_ms, ends_ms, capacity,
    points_per_hour, organiser_id, organiser_name, series_id, repeat_rule, state, held,
    cancel_reason, attended, volunteer_minutes, adopted_notice";

fn record(r: &Row<'_>) -> rusqlite::Result<ActivityRecord> {
    let kind: String = r.get(4)?;
    let audience: String = r.get(5)?;
    let state: String = r.get(14)?;
    let held: bool = r.get(15)?;
    let reason: String = r.get(16)?;
    Ok(ActivityRecord {
        id: r.get(0)?,
        plan: ActivityPlan {
            title_zh: r.get(1)?,
            title_en: r.get(2)?,
            room: r.get(3)?,
            kind: kind.parse().unwrap_or(ActivityKind::Event),
            audience: audience.parse().unwrap_or(Audience::Everyone),
            starts: Timestamp::from_unix_millis(r.get(6)?),
            ends: Timestamp::from_unix_millis(r.get(7)?),
            capacity: r.get(8)?,
            points_per_hour: r.get(9)?,
            organiser_name: r.get(11)?,
        },
        organiser: r.get::<_, Option<u32>>(10)?.map(MemberId),
        series: r.get(12)?,
        repeat_rule: r.get(13)?,
        state: match state.as_str() {
            "closed" => ActivityState::Closed { held },
            "cancelled" => ActivityState::Cancelled(reason),
            _ => ActivityState::Open,
        },
        attended: r.get(17)?,
        volunteer_minutes: r.get(18)?,
        adopted_notice: r.get(19)?,
    })
}

/// The centre's activity settings.
pub fn policy(conn: &Connection) -> Result<ActivityPolicy, StoreError> {
    let (offer, days): (u32, u32) = conn.query_row(
        "SELECT offer_minutes, signup_opens_days FROM activity_policy",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(ActivityPolicy {
        offer_window: Duration::from_secs(u64::from(offer) * 60),
        signup_opens_days: days,
        ..ActivityPolicy::default()
    })
}

/// Changes the centre's activity settings (minutes an offer is held, days
/// before the start sign-up opens).
pub fn set_policy(
    conn: &Connection,
    offer_minutes: u32,
    signup_opens_days: u32,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE activity_policy SET offer_minutes = ?1, signup_opens_days = ?2",
        params![offer_minutes, signup_opens_days],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::from(ActivityRefusal::BadPolicy)
        }
        e => e.into(),
    })?;
    Ok(())
}

/// Marks `day` closed (a public holiday): repeat rules skip it.
pub fn close_day(
    conn: &Connection,
    day: Date,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO closed_days (day, reason, created_by, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day) DO UPDATE SET reason = excluded.reason",
        params![day.to_string(), reason.trim(), by, now.as_unix_millis()],
    )?;
    Ok(())
}

/// The closed days from `from` on, with their reasons.
pub fn closed_days_from(conn: &Connection, from: Date) -> Result<Vec<(Date, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT day, reason FROM closed_days WHERE day >= ?1 ORDER BY day")?;
    let rows = stmt.query_map([from.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (day, reason) = row?;
        if let Ok(d) = keting_core::calendar::parse_date(&day) {
            out.push((d, reason));
        }
    }
    Ok(out)
}

/// Where a new activity comes from, beside its plan.
#[derive(Clone, Copy, Debug, Default)]
pub struct Origin<'a> {
    /// The staff member organising it.
    pub organiser: Option<MemberId>,
    /// The first occurrence of its repeat rule (none: it is the first).
    pub series: Option<i64>,
    /// The repeat rule's text ("" for a one-off).
    pub repeat_rule: &'a str,
    /// The district notice it was adopted from.
    pub adopted_notice: Option<&'a str>,
}

/// Writes a new activity; returns its number.
pub fn insert(
    conn: &Connection,
    plan: &ActivityPlan,
    origin: Origin<'_>,
    by: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let Origin {
        organiser,
        series,
        repeat_rule,
        adopted_notice,
    } = origin;
    conn.prepare_cached(
        "INSERT INTO activities (title_zh, title_en, room, kind, audience, starts_ms, ends_ms, capacity,
             points_per_hour, organiser_id, organiser_name, series_id, repeat_rule, adopted_notice,
             created_by, created_ms)
         VALUES (:zh, :en, :room, :kind, :aud, :s, :e, :cap, :pph, :org, :orgname, :series, :rule,
             :notice, :by, :now)",
    )?
    .execute(named_params! {
        ":zh": plan.title_zh.trim(), ":en": plan.title_en.trim(), ":room": plan.room.trim(),
        ":kind": plan.kind.as_str(), ":aud": plan.audience.as_str(),
        ":s": plan.starts.as_unix_millis(), ":e": plan.ends.as_unix_millis(),
        ":cap": plan.capacity, ":pph": plan.points_per_hour,
        ":org": organiser.map(|m| m.0), ":orgname": plan.organiser_name.trim(),
        ":series": series, ":rule": repeat_rule, ":notice": adopted_notice,
        ":by": by, ":now": now.as_unix_millis(),
    })?;
    let id = conn.last_insert_rowid();
    if series.is_none() && !repeat_rule.is_empty() {
        conn.execute("UPDATE activities SET series_id = id WHERE id = ?1", [id])?;
    }
    Ok(id)
}

/// Changes an open activity's plan.
pub fn update_plan(conn: &Connection, id: i64, plan: &ActivityPlan) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE activities SET title_zh = :zh, title_en = :en, room = :room, kind = :kind,
             audience = :aud, starts_ms = :s, ends_ms = :e, capacity = :cap, points_per_hour = :pph,
             organiser_name = :orgname
         WHERE id = :id",
        named_params! {
            ":zh": plan.title_zh.trim(), ":en": plan.title_en.trim(), ":room": plan.room.trim(),
            ":kind": plan.kind.as_str(), ":aud": plan.audience.as_str(),
            ":s": plan.starts.as_unix_millis(), ":e": plan.ends.as_unix_millis(),
            ":cap": plan.capacity, ":pph": plan.points_per_hour,
            ":orgname": plan.organiser_name.trim(), ":id": id,
        },
    )?;
    Ok(())
}

/// Activity `id`, if there is one.
pub fn get(conn: &Connection, id: i64) -> Result<Option<ActivityRecord>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM activities WHERE id = ?1"))?
        .query_row([id], record)
        .optional()?)
}

/// Activity `id`, or `NotFound`.
pub fn require(conn: &Connection, id: i64) -> Result<ActivityRecord, StoreError> {
    get(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("activity {id}")))
}

/// The activities starting within `span`, by start then room.
pub fn starting_in(conn: &Connection, span: Span) -> Result<Vec<ActivityRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM activities WHERE starts_ms >= ?1 AND starts_ms < ?2 ORDER BY starts_ms, room, id"
    ))?;
    let rows = stmt.query_map(
        [span.start.as_unix_millis(), span.end.as_unix_millis()],
        record,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The open activities in `room` on at `now` (from `early` before the
/// start to the end), soonest first.
pub fn on_in_room(
    conn: &Connection,
    room: &str,
    early: Duration,
    now: Timestamp,
) -> Result<Vec<ActivityRecord>, StoreError> {
    let early_ms = i64::try_from(early.as_millis()).unwrap_or(0);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM activities
         WHERE room = ?1 AND state = 'open' AND starts_ms - ?2 <= ?3 AND ends_ms >= ?3
         ORDER BY starts_ms, id"
    ))?;
    let rows = stmt.query_map(params![room, early_ms, now.as_unix_millis()], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The open activities not yet over at `now` whose lists have an offer or
/// someone waiting: the only ones whose lists can move with time.
pub fn with_queue(conn: &Connection, now: Timestamp) -> Result<Vec<ActivityRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM activities a
         WHERE state = 'open' AND ends_ms > ?1
           AND EXISTS (SELECT 1 FROM activity_places p
                       WHERE p.activity_id = a.id AND p.standing IN ('offered', 'waiting'))
         ORDER BY starts_ms, id"
    ))?;
    let rows = stmt.query_map([now.as_unix_millis()], record)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Activity `id`'s list in turn order.
pub fn list(conn: &Connection, id: i64) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, standing, offer_until_ms FROM activity_places
         WHERE activity_id = ?1 ORDER BY queue_no",
    )?;
    let rows = stmt.query_map([id], |r| {
        let standing: String = r.get(1)?;
        let until: Option<i64> = r.get(2)?;
        Ok(Entry {
            member: MemberId(r.get(0)?),
            standing: match (standing.as_str(), until) {
                ("place", _) => Standing::Place,
                ("offered", Some(u)) => Standing::Offered {
                    until: Timestamp::from_unix_millis(u),
                },
                ("waiting", _) => Standing::Waiting,
                ("lapsed", _) => Standing::Lapsed,
                _ => Standing::Cancelled,
            },
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes one change to a list. Someone joining (again) takes the next
/// turn; any other change keeps their turn.
pub fn write_change(
    conn: &Connection,
    id: i64,
    change: &Change,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let until = match change.standing {
        Standing::Offered { until } => Some(until.as_unix_millis()),
        _ => None,
    };
    let was: Option<String> = conn
        .prepare_cached(
            "SELECT standing FROM activity_places WHERE activity_id = ?1 AND member_id = ?2",
        )?
        .query_row(params![id, change.member.0], |r| r.get(0))
        .optional()?;
    let joining = matches!(change.standing, Standing::Place | Standing::Waiting)
        && !matches!(was.as_deref(), Some("place" | "offered" | "waiting"));
    if joining {
        conn.prepare_cached(
            "INSERT INTO activity_places (activity_id, member_id, standing, offer_until_ms, queue_no, changed_ms, changed_by)
             VALUES (?1, ?2, ?3, NULL,
                     (SELECT coalesce(max(queue_no), 0) + 1 FROM activity_places WHERE activity_id = ?1), ?4, ?5)
             ON CONFLICT (activity_id, member_id) DO UPDATE SET
                 standing = excluded.standing, offer_until_ms = NULL, queue_no = excluded.queue_no,
                 changed_ms = excluded.changed_ms, changed_by = excluded.changed_by",
        )?
        .execute(params![id, change.member.0, change.standing.as_str(), now.as_unix_millis(), by])?;
    } else {
        conn.prepare_cached(
            "UPDATE activity_places SET standing = ?3, offer_until_ms = ?4, changed_ms = ?5, changed_by = ?6
             WHERE activity_id = ?1 AND member_id = ?2",
        )?
        .execute(params![id, change.member.0, change.standing.as_str(), until, now.as_unix_millis(), by])?;
    }
    Ok(())
}

/// One person's attendance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttendanceRow {
    /// Who.
    pub member: MemberId,
    /// First scan (a volunteer's check-in).
    pub arrived: Timestamp,
    /// A volunteer's check-out.
    pub left: Option<Timestamp>,
    /// Minutes the organiser confirmed.
    pub confirmed_minutes: Option<u32>,
}

/// Activity `id`'s attendance, in order of arrival.
pub fn attendance(conn: &Connection, id: i64) -> Result<Vec<AttendanceRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT member_id, arrived_ms, left_ms, confirmed_minutes FROM activity_attendance
         WHERE activity_id = ?1 ORDER BY arrived_ms, member_id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(AttendanceRow {
            member: MemberId(r.get(0)?),
            arrived: Timestamp::from_unix_millis(r.get(1)?),
            left: r.get::<_, Option<i64>>(2)?.map(Timestamp::from_unix_millis),
            confirmed_minutes: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One activity a member attended, newest first in [`attended_by`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attended {
    /// The activity.
    pub id: i64,
    /// Its titles, (Chinese, English).
    pub title: (String, String),
    /// A volunteer shift.
    pub volunteer: bool,
    /// When it started.
    pub starts: Timestamp,
    /// Minutes confirmed for a volunteer (after closing).
    pub confirmed_minutes: Option<u32>,
}

/// The activities `member` attended that started at or after `since`,
/// newest first, at most `limit`.
pub fn attended_by(
    conn: &Connection,
    member: MemberId,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<Attended>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.title_zh, a.title_en, a.kind, a.starts_ms, t.confirmed_minutes
         FROM activity_attendance t JOIN activities a ON a.id = t.activity_id
         WHERE t.member_id = ?1 AND a.starts_ms >= ?2 ORDER BY a.starts_ms DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![member.0, since.as_unix_millis(), limit], |r| {
        Ok(Attended {
            id: r.get(0)?,
            title: (r.get(1)?, r.get(2)?),
            volunteer: r.get::<_, String>(3)? == "volunteer",
            starts: Timestamp::from_unix_millis(r.get(4)?),
            confirmed_minutes: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records `member`'s arrival (via a kiosk, a reader, staff).
pub fn record_arrival(
    conn: &Connection,
    id: i64,
    member: MemberId,
    via: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO activity_attendance (activity_id, member_id, arrived_ms, via) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, member.0, now.as_unix_millis(), via])?;
    Ok(())
}

/// Records a volunteer's check-out.
pub fn record_check_out(
    conn: &Connection,
    id: i64,
    member: MemberId,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE activity_attendance SET left_ms = ?3 WHERE activity_id = ?1 AND member_id = ?2",
    )?
    .execute(params![id, member.0, now.as_unix_millis()])?;
    Ok(())
}

/// Sets the minutes the organiser confirmed for a volunteer.
pub fn confirm_minutes(
    conn: &Connection,
    id: i64,
    member: MemberId,
    minutes: u32,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE activity_attendance SET confirmed_minutes = ?3 WHERE activity_id = ?1 AND member_id = ?2",
    )?
    .execute(params![id, member.0, minutes])?;
    Ok(())
}

/// Closes activity `id` (held when someone attended), with its counts.
pub fn close(
    conn: &Connection,
    id: i64,
    attended: u32,
    volunteer_minutes: u32,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE activities SET state = 'closed', held = ?2, attended = ?3, volunteer_minutes = ?4,
             closed_by = ?5, closed_ms = ?6
         WHERE id = ?1 AND state = 'open'",
        params![
            id,
            attended > 0,
            attended,
            volunteer_minutes,
            by,
            now.as_unix_millis()
        ],
    )?;
    Ok(())
}

/// Cancels activity `id` with `reason`.
pub fn cancel(
    conn: &Connection,
    id: i64,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE activities SET state = 'cancelled', cancel_reason = ?2, closed_by = ?3, closed_ms = ?4
         WHERE id = ?1 AND state = 'open'",
        params![id, reason.trim(), by, now.as_unix_millis()],
    )?;
    Ok(())
}

/// A span's activity figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldFigures {
    /// Activities held (closed with someone there), by their start.
    pub held: u64,
    /// Attendances at them.
    pub participants: u64,
    /// Distinct people who attended any.
    pub distinct_people: u64,
    /// Volunteer minutes confirmed.
    pub volunteer_minutes: u64,
}

/// The held activities that started within `span`.
pub fn held_in(conn: &Connection, span: Span) -> Result<HeldFigures, StoreError> {
    let (held, participants, minutes): (i64, i64, i64) = conn.query_row(
        "SELECT count(*), coalesce(sum(attended), 0), coalesce(sum(volunteer_minutes), 0)
         FROM activities WHERE held = 1 AND starts_ms >= ?1 AND starts_ms < ?2",
        [span.start.as_unix_millis(), span.end.as_unix_millis()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let people: i64 = conn.query_row(
        "SELECT count(DISTINCT t.member_id) FROM activity_attendance t JOIN activities a ON a.id = t.activity_id
         WHERE a.held = 1 AND a.starts_ms >= ?1 AND a.starts_ms < ?2",
        [span.start.as_unix_millis(), span.end.as_unix_millis()],
        |r| r.get(0),
    )?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(HeldFigures {
        held: n(held),
        participants: n(participants),
        distinct_people: n(people),
        volunteer_minutes: n(minutes),
    })
}

/// The activities `member` is on the list of and that have not ended by
/// `now`, with their standing, soonest first.
pub fn of_member(
    conn: &Connection,
    member: MemberId,
    now: Timestamp,
) -> Result<Vec<(ActivityRecord, Standing)>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} , p.standing, p.offer_until_ms FROM activities a JOIN activity_places p ON p.activity_id = a.id
         WHERE p.member_id = ?1 AND a.ends_ms > ?2 AND p.standing IN ('place', 'offered', 'waiting')
         ORDER BY a.starts_ms",
        COLUMNS.split(',').map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ")
    ))?;
    let rows = stmt.query_map(params![member.0, now.as_unix_millis()], |r| {
        let rec = record(r)?;
        let s: String = r.get(20)?;
        let until: Option<i64> = r.get(21)?;
        let standing = match (s.as_str(), until) {
            ("offered", Some(u)) => Standing::Offered {
                until: Timestamp::from_unix_millis(u),
            },
            ("waiting", _) => Standing::Waiting,
            _ => Standing::Place,
        };
        Ok((rec, standing))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Puts reader `device` in `room` (a reader in one room at a time).
pub fn set_reader(
    conn: &Connection,
    device: &str,
    room: &str,
    by: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO room_readers (device_id, room, set_by, set_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO UPDATE SET room = excluded.room, set_by = excluded.set_by, set_ms = excluded.set_ms",
        params![device, room.trim(), by, now.as_unix_millis()],
    )?;
    Ok(())
}

/// The room reader `device` is in, if it is a reader.
pub fn reader_room(conn: &Connection, device: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT room FROM room_readers WHERE device_id = ?1")?
        .query_row([device], |r| r.get(0))
        .optional()?)
}

/// Every reader and its room.
pub fn readers(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT device_id, room FROM room_readers ORDER BY device_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
