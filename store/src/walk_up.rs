//! Walk-up sessions ("scan the code and play"): a free piano now, or a
//! place in the queue. When a piano frees, the first in the queue gets it
//! as a booked session they must start (scan again) within the grace, or it
//! goes to the next. Which piano a scan gets, and that walk-up sessions
//! are free, are the core's rules (`keting_core::booking::walk_up`).

use keting_core::booking::rules::{self, Request};
use keting_core::booking::slots::{self, Slot};
use keting_core::booking::walk_up::{self, Allocation};
use keting_core::booking::{BookingPolicy, BookingRefusal, Decision, ResourceKind};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::bookings::{self, Booking};
use super::resources::{self, ResourceRecord};
use super::{StoreError, members};

/// What a walk-up scan got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalkUp {
    /// A session started now on this resource (its device is switched on).
    Started(Booking),
    /// Already playing: the session in progress.
    AlreadyPlaying(Booking),
    /// Everything is taken: in the queue at this place (1 = next).
    Queued {
        /// Place in the queue.
        position: u32,
    },
}

fn open_session(
    conn: &Connection,
    member: MemberId,
    kind: ResourceKind,
    state: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT b.id FROM bookings b JOIN resources r ON r.id = b.resource_id
             WHERE b.member_id = ?1 AND r.kind = ?2 AND b.walk_up = 1 AND b.state = ?3",
            params![member.0, kind.as_str(), state],
            |row| row.get(0),
        )
        .optional()?)
}

fn queue_position(
    conn: &Connection,
    kind: ResourceKind,
    member: MemberId,
) -> Result<Option<u32>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT (SELECT count(*) FROM walk_up_queue o WHERE o.kind = q.kind AND o.state = 'waiting'
                       AND (o.created_ms, o.id) <= (q.created_ms, q.id))
             FROM walk_up_queue q WHERE q.kind = ?1 AND q.member_id = ?2 AND q.state = 'waiting'",
            params![kind.as_str(), member.0],
            |row| row.get(0),
        )
        .optional()?)
}

/// The resources of `kind` with a walk-up session kept or in progress.
pub fn in_use(conn: &Connection, kind: ResourceKind) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT b.resource_id FROM bookings b JOIN resources r ON r.id = b.resource_id
         WHERE r.kind = ?1 AND b.walk_up = 1 AND b.state IN ('booked', 'started')",
    )?;
    let rows = stmt.query_map([kind.as_str()], |row| row.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

/// How many wait for `kind`.
pub fn queue_length(conn: &Connection, kind: ResourceKind) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM walk_up_queue WHERE kind = ?1 AND state = 'waiting'",
        [kind.as_str()],
        |row| row.get(0),
    )?)
}

/// `member` scanned for a walk-up resource of `kind` (a piano). Resources
/// listed in `unavailable` (their device is offline) are not given.
pub fn scan(
    conn: &Connection,
    policy: &BookingPolicy,
    calendar: SiteCalendar,
    kind: ResourceKind,
    member: MemberId,
    unavailable: &[String],
    now: Timestamp,
) -> Result<WalkUp, StoreError> {
    members::require(conn, member)?;
    if let Some(id) = open_session(conn, member, kind, "started")? {
        return Ok(WalkUp::AlreadyPlaying(bookings::get(conn, id)?));
    }
    // A piano kept for them from the queue: this scan starts it.
    if open_session(conn, member, kind, "booked")?.is_some() {
        let b = bookings::check_in(conn, policy, calendar, member, None, now)?;
        return Ok(WalkUp::Started(b));
    }
    if let Some(position) = queue_position(conn, kind, member)? {
        return Ok(WalkUp::Queued { position });
    }
    let all = resources::list(conn, Some(kind))?;
    let Some(any) = all.first() else {
        return Err(StoreError::NotFound(format!(
            "a {} at this centre",
            kind.as_str()
        )));
    };
    let length = any.session;
    let slot = slots::walk_up(&any.resource, calendar, now, length).map_err(|_| {
        bookings::closed_now(
            &any.resource.name_zh,
            Some(resources::format_hours(&any.resource.hours)),
        )
    })?;
    // The member's limits, as for a booking.
    let me = bookings::member_bookings(conn, calendar, any, member, slot)?;
    let req = Request {
        resource: &any.resource,
        slot,
        now,
        wait_if_full: false,
    };
    let Decision::Booked(charge) = rules::decide(policy, calendar, &req, &me, 0)? else {
        // Asked with no waiting list, the rules book or refuse.
        return Err(BookingRefusal::Full.into());
    };
    let nobody_waiting = queue_length(conn, kind)? == 0;
    let taken = in_use(conn, kind)?;
    let ids: Vec<String> = all.iter().map(|r| r.resource.id.to_string()).collect();
    if let Allocation::Resource(id) = walk_up::allocate(&ids, unavailable, &taken, nobody_waiting)
        && let Some(r) = all.iter().find(|r| r.resource.id.as_str() == id)
    {
        let slot = slots::walk_up(&r.resource, calendar, now, r.session)
            .map_err(|_| bookings::closed_now(&r.resource.name_zh, None))?;
        let id = start_walk_up(conn, r, member, slot, charge, now)?;
        return Ok(WalkUp::Started(bookings::get(conn, id)?));
    }
    conn.execute(
        "INSERT INTO walk_up_queue (kind, member_id, created_ms, state) VALUES (?1, ?2, ?3, 'waiting')",
        params![kind.as_str(), member.0, now.as_unix_millis()],
    )?;
    let position = queue_position(conn, kind, member)?.unwrap_or(1);
    Ok(WalkUp::Queued { position })
}

fn start_walk_up(
    conn: &Connection,
    r: &ResourceRecord,
    member: MemberId,
    slot: Slot,
    charge: keting_core::booking::Charge,
    now: Timestamp,
) -> Result<i64, StoreError> {
    walk_up::charge(charge)?;
    let charge_name = "free";
    conn.execute(
        "INSERT INTO bookings (resource_id, member_id, slot_start_ms, slot_end_ms, walk_up, state, charge,
                               created_ms, start_by_ms, started_ms)
         VALUES (?1, ?2, ?3, ?4, 1, 'started', ?5, ?6, ?6, ?6)",
        params![r.resource.id.as_str(), member.0, slot.start.as_unix_millis(), slot.end.as_unix_millis(), charge_name, now.as_unix_millis()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Gives free resources of `kind` to the queue, first come first served:
/// each gets a booked session to start within the grace. Returns them.
pub fn serve_queue(
    conn: &Connection,
    policy: &BookingPolicy,
    kind: ResourceKind,
    unavailable: &[String],
    now: Timestamp,
) -> Result<Vec<Booking>, StoreError> {
    let mut served = Vec::new();
    let taken = in_use(conn, kind)?;
    let all = resources::list(conn, Some(kind))?;
    let ids: Vec<String> = all.iter().map(|r| r.resource.id.to_string()).collect();
    for id in walk_up::free_for_queue(&ids, unavailable, &taken) {
        let Some(r) = all.iter().find(|r| r.resource.id.as_str() == id) else {
            continue;
        };
        let next: Option<(i64, u32)> = conn
            .query_row(
                "SELECT id, member_id FROM walk_up_queue WHERE kind = ?1 AND state = 'waiting' ORDER BY created_ms, id LIMIT 1",
                [kind.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((queue_id, member)) = next else {
            break;
        };
        let length = r.session;
        // The slot is provisional: its time starts when they scan.
        let slot = Slot {
            start: now,
            end: now.saturating_add(length),
        };
        let start_by = rules::start_by(policy, slot, now);
        conn.execute(
            "INSERT INTO bookings (resource_id, member_id, slot_start_ms, slot_end_ms, walk_up, state, charge,
                                   created_ms, start_by_ms)
             VALUES (?1, ?2, ?3, ?4, 1, 'booked', 'free', ?3, ?5)",
            params![r.resource.id.as_str(), member, slot.start.as_unix_millis(), slot.end.as_unix_millis(), start_by.as_unix_millis()],
        )?;
        let id = conn.last_insert_rowid();
        conn.execute(
            "UPDATE walk_up_queue SET state = 'assigned', booking_id = ?2 WHERE id = ?1",
            params![queue_id, id],
        )?;
        served.push(bookings::get(conn, id)?);
    }
    Ok(served)
}

/// `member` leaves the queue for `kind`.
pub fn leave_queue(
    conn: &Connection,
    kind: ResourceKind,
    member: MemberId,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE walk_up_queue SET state = 'left' WHERE kind = ?1 AND member_id = ?2 AND state = 'waiting'",
        params![kind.as_str(), member.0],
    )? > 0)
}
