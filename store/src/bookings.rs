//! Bookings and sessions in the database: book, cancel, check in, finish,
//! fail, clear, and the sweep that releases places nobody started and
//! promotes the waiting list.
//!
//! Every function runs in the caller's write transaction (`Store::write`,
//! `BEGIN IMMEDIATE`): the places taken and the member's bookings are read
//! and the decision (the core's `booking::rules`) written under one lock,
//! so two kiosks, or a kiosk and a shell, can never both take the last
//! place. A trigger refuses a slot over capacity as a second line.
//!
//! Charges: a package session is spent by the booking row itself (the
//! package's used count is counted from the rows) and given back by marking
//! the row `returned`; points are held at booking and spent when the
//! session ends or its place is released unstarted, returned when it is
//! cancelled in time or the device fails; yuan are owed at the desk.

use keting_core::booking::rules::{self, Request};
use keting_core::booking::slots::{self, Slot};
use keting_core::booking::{
    BookingPolicy, BookingState, Charge, Decision, MemberBookings, ResourceKind, Transition,
};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::{DeviceId, MemberId};
use keting_core::ledger::Points;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::resources::{self, ResourceRecord, format_hours};
use super::{StoreError, members, packages, points};

const MS_PER_DAY: i64 = 86_400_000;

/// One booking (or walk-up session), as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    /// Its id.
    pub id: i64,
    /// The resource.
    pub resource: String,
    /// The resource's kind.
    pub kind: ResourceKind,
    /// Whose.
    pub member: MemberId,
    /// The member's name.
    pub member_name: String,
    /// When.
    pub slot: Slot,
    /// A walk-up session (a piano), not a booked slot.
    pub walk_up: bool,
    /// Where it is.
    pub state: BookingState,
    /// What it costs (`None` while waiting).
    pub charge: Option<Charge>,
    /// Whether the charge was given back.
    pub returned: bool,
    /// Must be started by then, or the place goes to the next person.
    pub start_by: Option<Timestamp>,
    /// Why it ended (`time_up`, `ended_early`, the device's fault).
    pub end_reason: Option<String>,
    /// The device that powers the resource, and its channel.
    pub device: Option<(DeviceId, u8)>,
}

impl Booking {
    /// The points id of this booking's hold in the ledger.
    pub fn points_ref(&self) -> String {
        points_ref(self.id)
    }
}

fn points_ref(id: i64) -> String {
    format!("booking-{id}")
}

const COLUMNS: &str =
    "b.id, b.resource_id, r.kind, b.member_id, m.display_name, b.slot_start_ms, b.slot_end_ms,
    b.walk_up, b.state, b.charge, b.points, b.fen, b.trial, b.package_id, b.returned, b.start_by_ms,
    b.end_reason, r.device_id, r.channel";
const FROM: &str =
    "bookings b JOIN resources r ON r.id = b.resource_id JOIN members m ON m.id = b.member_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Result<Booking, StoreError>> {
    let id: i64 = row.get(0)?;
    let kind: String = row.get(2)?;
    let state: String = row.get(8)?;
    let charge: String = row.get(9)?;
    let (pts, fen, trial, package): (Option<u32>, Option<u32>, bool, Option<i64>) =
        (row.get(10)?, row.get(11)?, row.get(12)?, row.get(13)?);
    let device: Option<String> = row.get(17)?;
    let channel: Option<u8> = row.get(18)?;
    let ms = |i| row.get::<_, i64>(i).map(Timestamp::from_unix_millis);
    let slot = Slot {
        start: ms(5)?,
        end: ms(6)?,
    };
    let resource: String = row.get(1)?;
    let member = MemberId(row.get(3)?);
    let member_name = row.get(4)?;
    let walk_up = row.get(7)?;
    let returned = row.get(14)?;
    let start_by = row
        .get::<_, Option<i64>>(15)?
        .map(Timestamp::from_unix_millis);
    let end_reason = row.get(16)?;
    Ok((|| {
        let corrupt = |w: &str| StoreError::Corrupt(format!("booking {id}: stored {w} unreadable"));
        let charge = match (charge.as_str(), pts, fen, package) {
            ("none", ..) => None,
            ("free", ..) => Some(Charge::Free),
            ("points", Some(points), ..) => Some(Charge::Points { points }),
            ("yuan", _, Some(fen), _) => Some(Charge::Yuan { fen, trial }),
            ("package", _, _, Some(package)) => Some(Charge::Package { package }),
            _ => return Err(corrupt("charge")),
        };
        Ok(Booking {
            id,
            resource,
            kind: ResourceKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
            member,
            member_name,
            slot,
            walk_up,
            state: BookingState::parse(&state).ok_or_else(|| corrupt("state"))?,
            charge,
            returned,
            start_by,
            end_reason,
            device: match (device, channel) {
                (Some(d), Some(c)) => Some((DeviceId::new(d).map_err(|_| corrupt("device"))?, c)),
                (Some(d), None) => Some((DeviceId::new(d).map_err(|_| corrupt("device"))?, 0)),
                _ => None,
            },
        })
    })())
}

fn query(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Booking>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM {FROM} WHERE {filter}"))?;
    let rows = stmt.query_map(params, from_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r??);
    }
    Ok(out)
}

/// The booking `id`.
pub fn get(conn: &Connection, id: i64) -> Result<Booking, StoreError> {
    query(conn, "b.id = ?1", [id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("booking {id}")))
}

/// `member`'s bookings from `since` on (by slot start), earliest first.
pub fn of_member(
    conn: &Connection,
    member: MemberId,
    since: Timestamp,
) -> Result<Vec<Booking>, StoreError> {
    query(
        conn,
        "b.member_id = ?1 AND b.slot_end_ms > ?2 ORDER BY b.slot_start_ms, b.id",
        params![member.0, since.as_unix_millis()],
    )
}

/// Sessions over and waiting for staff to check the device, oldest first.
pub fn to_check(conn: &Connection) -> Result<Vec<Booking>, StoreError> {
    query(
        conn,
        "b.state = 'to_check' ORDER BY b.slot_start_ms, b.id",
        [],
    )
}

/// Every booking of `resource` in `[from, to)`, by slot.
pub fn of_resource(
    conn: &Connection,
    resource: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Booking>, StoreError> {
    query(
        conn,
        "b.resource_id = ?1 AND b.slot_start_ms >= ?2 AND b.slot_start_ms < ?3 ORDER BY b.slot_start_ms, b.id",
        params![resource, from.as_unix_millis(), to.as_unix_millis()],
    )
}

/// The local week (Monday to Sunday) holding `t`.
pub fn week_of(calendar: SiteCalendar, t: Timestamp) -> (Timestamp, Timestamp) {
    let day = calendar.date_of(t);
    let back = i64::from(day.weekday().number_days_from_monday());
    let start = calendar.start_of(day).as_unix_millis() - back * MS_PER_DAY;
    (
        Timestamp::from_unix_millis(start),
        Timestamp::from_unix_millis(start + 7 * MS_PER_DAY),
    )
}

/// The query counting the places taken in a slot: the states that hold a
/// place come from the core's rule (`BookingState::holds_place`), listed
/// once.
static PLACES_TAKEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let states: Vec<String> = BookingState::ALL
        .iter()
        .filter(|s| s.holds_place())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!(
        "SELECT count(*) FROM bookings WHERE resource_id = ?1 AND slot_start_ms = ?2 AND state IN ({})",
        states.join(", ")
    )
});

/// The fullest slot of `resource` starting at `from` or later: its start
/// and the places taken in it (`None`: nothing booked).
pub fn fullest_slot_from(
    conn: &Connection,
    resource: &str,
    from: Timestamp,
) -> Result<Option<(Timestamp, u16)>, StoreError> {
    let states: Vec<String> = BookingState::ALL
        .iter()
        .filter(|s| s.holds_place())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let sql = format!(
        "SELECT slot_start_ms, count(*) AS n FROM bookings
         WHERE resource_id = ?1 AND slot_start_ms >= ?2 AND walk_up = 0 AND state IN ({})
         GROUP BY slot_start_ms ORDER BY n DESC, slot_start_ms LIMIT 1",
        states.join(", ")
    );
    Ok(conn
        .query_row(&sql, params![resource, from.as_unix_millis()], |r| {
            Ok((Timestamp::from_unix_millis(r.get(0)?), r.get(1)?))
        })
        .optional()?)
}

/// Places taken in a slot.
pub fn places_taken(
    conn: &Connection,
    resource: &str,
    slot_start: Timestamp,
) -> Result<u16, StoreError> {
    Ok(conn.query_row(
        &PLACES_TAKEN,
        params![resource, slot_start.as_unix_millis()],
        |r| r.get(0),
    )?)
}

/// What the rules need to know about `member` for a slot of `r`: their
/// bookings of its kind in the slot's week, a place in the slot, a session
/// of it before (no trial then), their packages for its kind.
pub(super) fn member_bookings(
    conn: &Connection,
    calendar: SiteCalendar,
    r: &ResourceRecord,
    member: MemberId,
    slot: Slot,
) -> Result<MemberBookings, StoreError> {
    let (from, to) = week_of(calendar, slot.start);
    let mut stmt = conn.prepare(
        "SELECT b.slot_start_ms, b.slot_end_ms, b.state, b.resource_id FROM bookings b JOIN resources r ON r.id = b.resource_id
         WHERE b.member_id = ?1 AND r.kind = ?2 AND b.slot_start_ms >= ?3 AND b.slot_start_ms < ?4",
    )?;
    let rows = stmt.query_map(
        params![
            member.0,
            r.resource.kind.as_str(),
            from.as_unix_millis(),
            to.as_unix_millis()
        ],
        |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        },
    )?;
    let mut out = MemberBookings::default();
    for row in rows {
        let (s, e, st, res) = row?;
        let state = BookingState::parse(&st)
            .ok_or_else(|| StoreError::Corrupt(format!("booking state {st:?}")))?;
        let booked = Slot {
            start: Timestamp::from_unix_millis(s),
            end: Timestamp::from_unix_millis(e),
        };
        if res == r.resource.id.as_str()
            && booked.start == slot.start
            && (state.holds_place() || state == BookingState::Waiting)
        {
            out.in_this_slot = true;
        }
        out.this_week.push((booked, state));
    }
    out.had_session = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM bookings WHERE member_id = ?1 AND resource_id = ?2
                        AND state IN ('booked', 'started', 'to_check', 'done', 'released'))",
        params![member.0, r.resource.id.as_str()],
        |row| row.get(0),
    )?;
    out.packages = packages::of_member(conn, member, Some(r.resource.kind))?;
    Ok(out)
}

/// What booking the slot of `resource` starting at `slot_start` would cost
/// `member` now (to show before they confirm).
pub fn quote(
    conn: &Connection,
    calendar: SiteCalendar,
    resource: &str,
    slot_start: Timestamp,
    member: MemberId,
    now: Timestamp,
) -> Result<Charge, StoreError> {
    let r = resources::require(conn, resource)?;
    let slot =
        slots::slot_starting(&r.resource, calendar, slot_start).map_err(|_| no_such_slot(&r))?;
    let me = member_bookings(conn, calendar, &r, member, slot)?;
    Ok(rules::charge(&r.resource, &me, now)?)
}

/// The refusal for a time at which no slot of `r` starts, with its hours.
fn no_such_slot(r: &ResourceRecord) -> StoreError {
    StoreError::NoSuchSlot {
        resource: r.resource.id.to_string(),
        hours: format_hours(&r.resource.hours),
        slots: r
            .resource
            .slot_minutes
            .map_or("one slot a window".into(), |m| {
                format!("slots of {m} minutes")
            }),
    }
}

/// What became of a booking request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    /// The new booking.
    pub booking: Booking,
    /// Waiting: its place on the list (1 = next).
    pub waiting_position: Option<u32>,
}

/// Books the slot of `resource` starting at `slot_start` for `member`, or
/// puts them on its waiting list (`wait_if_full`).
#[allow(clippy::too_many_arguments)]
pub fn book(
    conn: &Connection,
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    resource: &str,
    slot_start: Timestamp,
    member: MemberId,
    wait_if_full: bool,
    now: Timestamp,
) -> Result<Booked, StoreError> {
    members::require(conn, member)?;
    let r = resources::require(conn, resource)?;
    if r.resource.kind == ResourceKind::Piano {
        return Err(StoreError::PianoNotBookable);
    }
    let slot =
        slots::slot_starting(&r.resource, calendar, slot_start).map_err(|_| no_such_slot(&r))?;
    let me = member_bookings(conn, calendar, &r, member, slot)?;
    let taken = places_taken(conn, resource, slot.start)?;
    let req = Request {
        resource: &r.resource,
        slot,
        now,
        wait_if_full,
    };
    let decision = rules::decide(policy, calendar, &req, &me, taken)?;
    let id = insert(
        conn,
        resource,
        member,
        slot,
        false,
        decision,
        rules::start_by(policy, slot, now),
        now,
    )?;
    if let Decision::Booked(Charge::Points { points: p }) = decision {
        points::reserve(
            conn,
            member,
            Points::from(p),
            &points_ref(id),
            calendar,
            now,
        )?;
    }
    let waiting_position = match decision {
        Decision::Waiting => Some(waiting_position(conn, id)?),
        Decision::Booked(_) => None,
    };
    Ok(Booked {
        booking: get(conn, id)?,
        waiting_position,
    })
}

#[allow(clippy::too_many_arguments)]
fn insert(
    conn: &Connection,
    resource: &str,
    member: MemberId,
    slot: Slot,
    walk_up: bool,
    decision: Decision,
    start_by: Timestamp,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let (state, charge) = match decision {
        Decision::Waiting => (BookingState::Waiting, None),
        Decision::Booked(c) => (BookingState::Booked, Some(c)),
    };
    conn.execute(
        "INSERT INTO bookings (resource_id, member_id, slot_start_ms, slot_end_ms, walk_up, state, charge,
                               points, fen, trial, package_id, created_ms, start_by_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'none', NULL, NULL, 0, NULL, ?7, ?8)",
        params![
            resource,
            member.0,
            slot.start.as_unix_millis(),
            slot.end.as_unix_millis(),
            walk_up,
            state.as_str(),
            now.as_unix_millis(),
            (state == BookingState::Booked).then_some(start_by.as_unix_millis()),
        ],
    )
    .map_err(full_or)?;
    let id = conn.last_insert_rowid();
    if let Some(c) = charge {
        set_charge(conn, id, c)?;
    }
    Ok(id)
}

/// The capacity trigger's refusal as the rules' own.
fn full_or(e: rusqlite::Error) -> StoreError {
    if e.to_string().contains("the slot is full") {
        StoreError::Booking(keting_core::booking::BookingRefusal::Full)
    } else {
        e.into()
    }
}

fn set_charge(conn: &Connection, id: i64, c: Charge) -> Result<(), StoreError> {
    let (name, p, fen, trial, package) = match c {
        Charge::Free => ("free", None, None, false, None),
        Charge::Points { points } => ("points", Some(points), None, false, None),
        Charge::Yuan { fen, trial } => ("yuan", None, Some(fen), trial, None),
        Charge::Package { package } => ("package", None, None, false, Some(package)),
    };
    conn.execute(
        "UPDATE bookings SET charge = ?2, points = ?3, fen = ?4, trial = ?5, package_id = ?6 WHERE id = ?1",
        params![id, name, p, fen, trial, package],
    )?;
    Ok(())
}

/// Booking `id`'s place on its slot's waiting list (1: next).
pub fn waiting_position(conn: &Connection, id: i64) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM bookings w JOIN bookings me ON me.id = ?1
         WHERE w.resource_id = me.resource_id AND w.slot_start_ms = me.slot_start_ms
           AND w.state = 'waiting' AND (w.created_ms, w.id) <= (me.created_ms, me.id)",
        [id],
        |r| r.get(0),
    )?)
}

fn set_state(
    conn: &Connection,
    b: &Booking,
    t: Transition,
    checked: bool,
    now: Timestamp,
) -> Result<BookingState, StoreError> {
    let next = b.state.apply(t, checked).map_err(|e| {
        StoreError::Booking(keting_core::booking::BookingRefusal::NotBooked(e.from))
    })?;
    let ended = matches!(
        next,
        BookingState::Done | BookingState::ToCheck | BookingState::Failed
    ) && b.state == BookingState::Started;
    conn.execute(
        "UPDATE bookings SET state = ?2,
             started_ms = CASE WHEN ?2 = 'started' THEN ?3 ELSE started_ms END,
             ended_ms = CASE WHEN ?4 THEN ?3 ELSE ended_ms END
         WHERE id = ?1",
        params![b.id, next.as_str(), now.as_unix_millis(), ended],
    )
    .map_err(full_or)?;
    Ok(next)
}

/// Gives the booking's charge back (package session, held points).
fn give_back(
    conn: &Connection,
    b: &Booking,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let Some(Charge::Points { points: p }) = b.charge {
        points::settle(
            conn,
            b.member,
            Points::from(p),
            &b.points_ref(),
            false,
            calendar,
            now,
        )?;
    }
    conn.execute("UPDATE bookings SET returned = 1 WHERE id = ?1", [b.id])?;
    Ok(())
}

/// Spends the booking's held points, if it has any.
fn spend(
    conn: &Connection,
    b: &Booking,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let Some(Charge::Points { points: p }) = b.charge {
        points::settle(
            conn,
            b.member,
            Points::from(p),
            &b.points_ref(),
            true,
            calendar,
            now,
        )?;
    }
    Ok(())
}

/// What a cancellation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancelled {
    /// Whether the charge was given back.
    pub returned: bool,
    /// Who was promoted from the waiting list into the place.
    pub promoted: Vec<Booking>,
}

/// Cancels booking `id`. `member`: the member asking (it must be theirs);
/// `None`: staff, who may cancel inside the window too.
pub fn cancel(
    conn: &Connection,
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    id: i64,
    member: Option<MemberId>,
    now: Timestamp,
) -> Result<Cancelled, StoreError> {
    let b = get(conn, id)?;
    if member.is_some_and(|m| m != b.member) {
        return Err(StoreError::NotFound(format!("booking {id} of this member")));
    }
    let give = rules::cancel(policy, b.state, b.slot, now, member.is_none())?;
    set_state(conn, &b, Transition::Cancel, false, now)?;
    if give {
        give_back(conn, &b, calendar, now)?;
    }
    let promoted = promote(conn, policy, calendar, &b.resource, b.slot.start, now)?;
    Ok(Cancelled {
        returned: give,
        promoted,
    })
}

/// Fills free places of a slot from its waiting list, first come first
/// served; a member whose charge is refused now (package expired since)
/// lapses and the next is asked.
pub fn promote(
    conn: &Connection,
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    resource: &str,
    slot_start: Timestamp,
    now: Timestamp,
) -> Result<Vec<Booking>, StoreError> {
    let r = resources::require(conn, resource)?;
    let mut promoted = Vec::new();
    loop {
        let next = query(
            conn,
            "b.resource_id = ?1 AND b.slot_start_ms = ?2 AND b.state = 'waiting' ORDER BY b.created_ms, b.id LIMIT 1",
            params![resource, slot_start.as_unix_millis()],
        )?
        .pop();
        let Some(w) = next else { break };
        if now >= w.slot.end {
            set_state(conn, &w, Transition::Lapse, false, now)?;
            continue;
        }
        if places_taken(conn, resource, slot_start)? >= r.resource.capacity {
            break;
        }
        let me = member_bookings(conn, calendar, &r, w.member, w.slot)?;
        match rules::charge(&r.resource, &me, now) {
            Ok(charge) => {
                set_state(conn, &w, Transition::Promote, false, now)?;
                set_charge(conn, w.id, charge)?;
                conn.execute(
                    "UPDATE bookings SET start_by_ms = ?2 WHERE id = ?1",
                    params![w.id, rules::start_by(policy, w.slot, now).as_unix_millis()],
                )?;
                if let Charge::Points { points: p } = charge
                    && let Err(e) = points::reserve(
                        conn,
                        w.member,
                        Points::from(p),
                        &points_ref(w.id),
                        calendar,
                        now,
                    )
                {
                    tracing::info!(booking = w.id, "promotion refused: {e}");
                    conn.execute(
                        "UPDATE bookings SET state = 'lapsed', charge = 'none' WHERE id = ?1",
                        [w.id],
                    )?;
                    continue;
                }
                promoted.push(get(conn, w.id)?);
            }
            Err(e) => {
                tracing::info!(booking = w.id, "promotion refused: {e}");
                set_state(conn, &w, Transition::Lapse, false, now)?;
            }
        }
    }
    Ok(promoted)
}

/// Starts `member`'s booking that may start now: of `resource` if given,
/// else their next one. A walk-up session's time starts now.
pub fn check_in(
    conn: &Connection,
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    member: MemberId,
    resource: Option<&str>,
    now: Timestamp,
) -> Result<Booking, StoreError> {
    let candidates = query(
        conn,
        "b.member_id = ?1 AND b.state = 'booked' AND (?2 IS NULL OR b.resource_id = ?2)
         AND b.slot_end_ms > ?3 ORDER BY b.slot_start_ms, b.id",
        params![member.0, resource, now.as_unix_millis()],
    )?;
    let Some(b) = candidates.first() else {
        return Err(StoreError::NotFound("a booking to start now".into()));
    };
    let start_by = b.start_by.unwrap_or(b.slot.end);
    rules::check_in(policy, b.state, b.slot, start_by, now)?;
    if b.walk_up {
        let r = resources::require(conn, &b.resource)?;
        let length = r.session;
        let slot = slots::walk_up(&r.resource, calendar, now, length)
            .map_err(|_| closed_now(&r.resource.name_zh, None))?;
        conn.execute(
            "UPDATE bookings SET slot_start_ms = ?2, slot_end_ms = ?3 WHERE id = ?1",
            params![b.id, slot.start.as_unix_millis(), slot.end.as_unix_millis()],
        )?;
    }
    set_state(conn, b, Transition::CheckIn, false, now)?;
    get(conn, b.id)
}

/// Ends a started session: `reason` is `time_up`, `ended_early` or what
/// the device said. The device is told to stop unless `device_stopped`.
pub fn finish(
    conn: &Connection,
    calendar: SiteCalendar,
    id: i64,
    reason: &str,
    device_stopped: bool,
    now: Timestamp,
) -> Result<Booking, StoreError> {
    let b = get(conn, id)?;
    let r = resources::require(conn, &b.resource)?;
    set_state(
        conn,
        &b,
        Transition::Finish,
        r.resource.checked_after_use,
        now,
    )?;
    spend(conn, &b, calendar, now)?;
    end_on_device(conn, id, reason, device_stopped, now)?;
    get(conn, id)
}

/// A session the device could not finish: failed, its charge given back.
pub fn fail(
    conn: &Connection,
    calendar: SiteCalendar,
    id: i64,
    fault: &str,
    now: Timestamp,
) -> Result<Booking, StoreError> {
    let b = get(conn, id)?;
    set_state(conn, &b, Transition::Fail, false, now)?;
    give_back(conn, &b, calendar, now)?;
    end_on_device(conn, id, fault, true, now)?;
    get(conn, id)
}

fn end_on_device(
    conn: &Connection,
    id: i64,
    reason: &str,
    stopped: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE bookings SET end_reason = ?2,
             device_off_ms = CASE WHEN ?3 THEN coalesce(device_off_ms, ?4) ELSE device_off_ms END
         WHERE id = ?1",
        params![id, reason, stopped, now.as_unix_millis()],
    )?;
    Ok(())
}

/// Staff checked the device after a session ("to check" → done).
pub fn clear(conn: &Connection, id: i64, now: Timestamp) -> Result<Booking, StoreError> {
    let b = get(conn, id)?;
    set_state(conn, &b, Transition::Clear, true, now)?;
    get(conn, id)
}

/// What a sweep changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Places nobody started in time, released.
    pub released: Vec<Booking>,
    /// Members promoted into freed places.
    pub promoted: Vec<Booking>,
    /// Sessions whose time is up.
    pub finished: Vec<Booking>,
}

/// A robot session the device never reported is closed this long after
/// its slot, for staff to check.
const DEVICE_REPORT_GRACE_MS: i64 = 5 * 60_000;

/// Releases unstarted places, lapses waiting members of ended slots,
/// ends sessions whose time is up; promotes the waiting list.
pub fn sweep(
    conn: &Connection,
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Swept, StoreError> {
    let mut out = Swept::default();
    let t = now.as_unix_millis();
    // The booked places (an index covers them); which are due is the core's rule.
    let due = query(conn, "b.state = 'booked' AND b.start_by_ms IS NOT NULL", [])?
        .into_iter()
        .filter(|b| {
            b.start_by
                .is_some_and(|by| rules::release_due(b.state, by, now))
        });
    for b in due {
        set_state(conn, &b, Transition::Release, false, now)?;
        spend(conn, &b, calendar, now)?;
        out.released.push(get(conn, b.id)?);
        if !b.walk_up {
            out.promoted.extend(promote(
                conn,
                policy,
                calendar,
                &b.resource,
                b.slot.start,
                now,
            )?);
        }
    }
    for b in query(conn, "b.state = 'waiting' AND b.slot_end_ms <= ?1", [t])? {
        set_state(conn, &b, Transition::Lapse, false, now)?;
    }
    // Sessions with a device that reports its own end (the robot) are left
    // to it, with a grace; the rest end on time.
    let ended = query(
        conn,
        "b.state = 'started' AND (
            (b.slot_end_ms <= ?1 AND (r.kind <> 'robot' OR r.device_id IS NULL))
         OR (b.slot_end_ms <= ?1 - ?2))",
        params![t, DEVICE_REPORT_GRACE_MS],
    )?;
    for b in ended {
        let reason = if b.kind == ResourceKind::Robot && b.device.is_some() {
            "the device did not report the end"
        } else {
            "time_up"
        };
        // A piano bank powers its piano off on its own at the end.
        let device_stops_itself = b.walk_up;
        out.finished.push(finish(
            conn,
            calendar,
            b.id,
            reason,
            device_stops_itself,
            now,
        )?);
    }
    Ok(out)
}

/// Resend a session command not acknowledged after this long (the agent
/// carries out each session once, so a repeat is harmless).
const RESEND_AFTER_MS: i64 = 10_000;

/// What the centre must tell a device about a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceWork {
    /// Switch on (start) the session.
    On,
    /// Switch off (stop) the session.
    Off,
}

/// `device` (re)appeared: what it was told and has not answered is sent
/// again at once rather than after [`RESEND_AFTER_MS`] (a command sent
/// while it was away was lost).
pub fn resend_to(conn: &Connection, device: &DeviceId) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE bookings SET device_cmd_ms = NULL
         WHERE device_cmd_ms IS NOT NULL
           AND ((state = 'started' AND device_on_ms IS NULL)
             OR (device_on_ms IS NOT NULL AND device_off_ms IS NULL))
           AND resource_id IN (SELECT id FROM resources WHERE device_id = ?1)",
        [device.as_str()],
    )?)
}

/// Sessions whose device must be told something now: started ones not yet
/// on, ended ones switched on and not yet off; each once until
/// [`RESEND_AFTER_MS`] passes without an answer.
pub fn device_work(
    conn: &Connection,
    now: Timestamp,
) -> Result<Vec<(DeviceWork, Booking)>, StoreError> {
    let resend = now.as_unix_millis() - RESEND_AFTER_MS;
    let mut out = Vec::new();
    for b in query(
        conn,
        "r.device_id IS NOT NULL AND b.state = 'started' AND b.device_on_ms IS NULL
         AND (b.device_cmd_ms IS NULL OR b.device_cmd_ms <= ?1) ORDER BY b.id",
        [resend],
    )? {
        out.push((DeviceWork::On, b));
    }
    for b in query(
        conn,
        "r.device_id IS NOT NULL AND b.state IN ('done', 'to_check', 'failed', 'cancelled')
         AND b.device_on_ms IS NOT NULL AND b.device_off_ms IS NULL
         AND (b.device_cmd_ms IS NULL OR b.device_cmd_ms <= ?1) ORDER BY b.id",
        [resend],
    )? {
        out.push((DeviceWork::Off, b));
    }
    Ok(out)
}

/// A command about booking `id` was queued at `now`.
pub fn mark_command_sent(conn: &Connection, id: i64, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE bookings SET device_cmd_ms = ?2 WHERE id = ?1",
        params![id, now.as_unix_millis()],
    )?;
    Ok(())
}

/// The device switched booking `id`'s session on (`on`) or off.
pub fn mark_device(conn: &Connection, id: i64, on: bool, now: Timestamp) -> Result<(), StoreError> {
    let sql = if on {
        "UPDATE bookings SET device_on_ms = coalesce(device_on_ms, ?2), device_cmd_ms = NULL WHERE id = ?1"
    } else {
        "UPDATE bookings SET device_off_ms = coalesce(device_off_ms, ?2), device_cmd_ms = NULL WHERE id = ?1"
    };
    conn.execute(sql, params![id, now.as_unix_millis()])?;
    Ok(())
}
/// The refusal of a walk-up session outside the resource's hours.
pub(crate) fn closed_now(name: &str, hours: Option<String>) -> StoreError {
    StoreError::Booking(keting_core::booking::BookingRefusal::ClosedNow {
        resource: name.to_owned(),
        hours,
    })
}
