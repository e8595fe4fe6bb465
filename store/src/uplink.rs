//! The district uplink's outbox: the rows migration 16's triggers write in
//! the transaction of what the district needs to hear of, oldest first,
//! each read back as the district event it becomes (`keting_core::district`)
//! and marked sent once the district acknowledged it.
//!
//! An event is built when it is sent, from the row it points at, so what
//! leaves is only what the contract carries: a member as the centre's
//! pseudonym, never a name, a phone tail or a pass. A row whose source was
//! pruned since (device events older than the retention) becomes `None`:
//! the sender marks it sent and moves on.

use keting_core::district::{DISTRICT_VERSION, DistrictEvent, DistrictEventKind, Pseudonym};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// One row waiting to go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    /// Its number: the event's id in its message id.
    pub id: u64,
    /// What kind of row it points at.
    pub source: String,
    /// That row's id.
    pub ref_id: i64,
    /// When it happened.
    pub at_ms: i64,
}

/// The oldest `limit` rows not yet sent.
pub fn unsent(conn: &Connection, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, source, ref_id, at_ms FROM uplink_outbox WHERE sent_ms IS NULL ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(OutboxRow {
            id: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
            source: r.get(1)?,
            ref_id: r.get(2)?,
            at_ms: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many rows wait.
pub fn backlog(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM uplink_outbox WHERE sent_ms IS NULL",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Marks every row up to `id` sent (the district acknowledged them, in
/// order), `published` of them published (the rest pointed at nothing),
/// and adds them to the tally the district is told of.
pub fn mark_sent_through(
    conn: &Connection,
    id: u64,
    published: u64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let id = i64::try_from(id).unwrap_or(i64::MAX);
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE uplink_outbox SET sent_ms = ?2 WHERE id <= ?1 AND sent_ms IS NULL",
        params![id, now.as_unix_millis()],
    )?;
    tx.execute(
        "UPDATE uplink_tally SET sent_through = max(sent_through, ?1), published = published + ?2",
        params![id, i64::try_from(published).unwrap_or(i64::MAX)],
    )?;
    tx.commit()?;
    Ok(())
}

/// What the centre tells its district it sent since its last tally: of the
/// events numbered `from_id..=through_id`, `sent` left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The first number covered.
    pub from_id: u64,
    /// The last.
    pub through_id: u64,
    /// How many of them were published and acknowledged.
    pub sent: u64,
}

/// The tally to report, if anything was sent since the last one.
pub fn tally_due(conn: &Connection) -> Result<Option<Tally>, StoreError> {
    let (sent_through, published, counted_through): (i64, i64, i64) = conn.query_row(
        "SELECT sent_through, published, counted_through FROM uplink_tally",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok((sent_through > counted_through).then(|| Tally {
        from_id: n(counted_through) + 1,
        through_id: n(sent_through),
        sent: n(published),
    }))
}

/// The district acknowledged `tally`: the next one starts after it.
pub fn tally_reported(conn: &Connection, tally: &Tally) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE uplink_tally SET counted_through = max(counted_through, ?1),
                                 published = max(0, published - ?2)",
        params![
            i64::try_from(tally.through_id).unwrap_or(i64::MAX),
            i64::try_from(tally.sent).unwrap_or(i64::MAX)
        ],
    )?;
    Ok(())
}

/// The tally as the district event it is sent as.
pub fn tally_event(centre: &str, tally: &Tally, now: Timestamp) -> DistrictEvent {
    DistrictEvent {
        v: DISTRICT_VERSION,
        centre: centre.to_owned(),
        id: tally.through_id,
        at_ms: now.as_unix_millis(),
        event: DistrictEventKind::Tally {
            from_id: tally.from_id,
            sent: tally.sent,
        },
    }
}

/// Takes every unsent row of what happened before `before` out of the
/// outbox, so it never goes up: the demo site's invented past is not a
/// district's to count. (Numbers are never given again: the sequence
/// keeps the last.)
pub fn never_send_before(conn: &Connection, before: Timestamp) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM uplink_outbox WHERE at_ms < ?1 AND sent_ms IS NULL",
        params![before.as_unix_millis()],
    )?)
}

/// The most unsent rows a centre with a district keeps (a busy centre's
/// 1,000 visits a day are some 365,000 events a year): beyond it the oldest
/// go, said loudly.
pub const UNSENT_KEPT: i64 = 1_000_000;

/// Deletes the rows of events before `before`. A centre with no district
/// (`keep_unsent` `None`) deletes them sent or not, so its outbox does not
/// grow for ever. A centre with a district deletes only what was sent: an
/// event the district has not heard of is kept however long the link is
/// down, up to `keep_unsent` rows ([`UNSENT_KEPT`] in service), beyond
/// which the oldest unsent go (the second number returned; the caller says
/// so loudly). Returns (deleted, of which unsent).
pub fn prune(
    conn: &Connection,
    before: Timestamp,
    keep_unsent: Option<i64>,
) -> Result<(usize, usize), StoreError> {
    let Some(cap) = keep_unsent else {
        let unsent = conn.execute(
            "DELETE FROM uplink_outbox WHERE at_ms < ?1 AND sent_ms IS NULL",
            [before.as_unix_millis()],
        )?;
        let sent = conn.execute(
            "DELETE FROM uplink_outbox WHERE at_ms < ?1",
            [before.as_unix_millis()],
        )?;
        return Ok((sent + unsent, unsent));
    };
    let sent = conn.execute(
        "DELETE FROM uplink_outbox WHERE at_ms < ?1 AND sent_ms IS NOT NULL",
        [before.as_unix_millis()],
    )?;
    let over = conn.execute(
        "DELETE FROM uplink_outbox WHERE id IN (
             SELECT id FROM uplink_outbox WHERE sent_ms IS NULL ORDER BY id
             LIMIT max(0, (SELECT count(*) FROM uplink_outbox WHERE sent_ms IS NULL) - ?1))",
        [cap],
    )?;
    Ok((sent + over, over))
}

/// How far a restore moves the event numbers on: past anything the old
/// machine can have sent after its backup was made (a busy centre's 1,000
/// visits a day are some 365,000 events a year; this is four billion).
pub const RESTORE_GAP: i64 = 1 << 32;

/// After a backup was restored: the next event numbers start a generation
/// on, so none repeats one the old machine sent after the backup (the
/// district, and JetStream's duplicate window, would take it for a repeat
/// and drop it).
pub fn after_restore(conn: &Connection) -> Result<i64, StoreError> {
    conn.execute(
        "UPDATE uplink_sequence SET last_id = last_id + ?1",
        [RESTORE_GAP],
    )?;
    Ok(conn.query_row("SELECT last_id FROM uplink_sequence", [], |r| r.get(0))?)
}

/// The district event `row` becomes at `centre`, members pseudonymised
/// under `key`; `None` if what it points at is gone.
pub fn event(
    conn: &Connection,
    centre: &str,
    key: &[u8; 32],
    row: &OutboxRow,
) -> Result<Option<DistrictEvent>, StoreError> {
    let who = |m: Option<u32>| m.map(|m| Pseudonym::of(key, MemberId(m)));
    let one = |sql: &str| -> Result<Option<(Option<u32>, String, i64)>, StoreError> {
        Ok(conn
            .query_row(sql, [row.ref_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?)
    };
    let kind = match row.source.as_str() {
        "checkin" => one("SELECT member_id, '', 0 FROM checkins WHERE id = ?1")?
            .and_then(|(m, _, _)| who(m))
            .map(|visitor| DistrictEventKind::CheckIn { visitor }),
        "door_entry" => {
            one("SELECT member_id, device_id, 0 FROM door_events WHERE id = ?1")?.and_then(
                |(m, door, _)| who(m).map(|visitor| DistrictEventKind::DoorEntry { door, visitor }),
            )
        }
        "alarm_raised" | "alarm_cleared" => {
            let found: Option<(String, String)> = conn
                .query_row(
                    "SELECT device_id, kind FROM alarms WHERE id = ?1",
                    [row.ref_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            found.map(|(device, alarm)| DistrictEventKind::Alarm {
                device,
                alarm,
                raised: row.source == "alarm_raised",
            })
        }
        "rating" => one("SELECT stars, kind, 0 FROM ratings WHERE booking_id = ?1")?.map(
            |(stars, service, _)| DistrictEventKind::Rating {
                service,
                stars: u8::try_from(stars.unwrap_or(0)).unwrap_or(0),
            },
        ),
        "posting" => {
            let found: Option<(String, Option<u32>, Option<String>, i64)> = conn
                .query_row(
                    "SELECT p.kind, p.member_id, coalesce(a.name, p.memo),
                            coalesce((SELECT sum(l.amount) FROM ledger_legs l
                                      WHERE l.posting_id = p.id AND l.amount > 0), 0)
                     FROM ledger_postings p LEFT JOIN award_occasions a ON a.id = p.activity_id
                     WHERE p.id = ?1",
                    [row.ref_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            found.and_then(|(kind, m, activity, points)| {
                let points = u32::try_from(points).unwrap_or(0);
                let member = who(m)?;
                Some(match kind.as_str() {
                    "earn" => DistrictEventKind::PointsAwarded {
                        awarded_for: activity.unwrap_or_default(),
                        volunteer: member,
                        points,
                    },
                    _ => DistrictEventKind::PointsSpent { member, points },
                })
            })
        }
        "booking_done" => one(
            "SELECT NULL, r.kind, 0 FROM bookings b JOIN resources r ON r.id = b.resource_id WHERE b.id = ?1",
        )?
        .map(|(_, service, _)| DistrictEventKind::BookingDone { service }),
        "activity_held" => conn
            .query_row(
                "SELECT kind, starts_ms, attended, volunteer_minutes FROM activities WHERE id = ?1 AND held = 1",
                [row.ref_id],
                |r| {
                    Ok(DistrictEventKind::ActivityHeld {
                        activity: u64::try_from(row.ref_id).unwrap_or(0),
                        activity_kind: r.get(0)?,
                        starts_ms: r.get(1)?,
                        participants: r.get(2)?,
                        volunteer_minutes: r.get(3)?,
                    })
                },
            )
            .optional()?,
        other => {
            return Err(StoreError::Corrupt(format!(
                "an uplink row of source {other:?}"
            )));
        }
    };
    Ok(kind.map(|event| DistrictEvent {
        v: DISTRICT_VERSION,
        centre: centre.to_owned(),
        id: row.id,
        at_ms: row.at_ms,
        event,
    }))
}
