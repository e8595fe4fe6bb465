//! Redemptions: points for a drink, one transaction from the ledger to the
//! tray, settled exactly once.
//!
//! ```text
//! reserved --sent--> sent --ack dispensed--> committed   (points spent, stock -1)
//!    |                 |  --ack other-----> refunded    (points back)
//!    |                 +--deadline/in doubt--> unknown --query answered--> committed | refunded
//!    +-- (the centre sends every reserved one; the agent refuses it past its deadline)
//! ```
//!
//! [`begin`] holds the points and writes the redemption in one transaction:
//! when it returns, the points are out of the member's reach and the
//! redemption will be settled whatever crashes next. The centre sends the
//! vend command (its id is the redemption's id) and settles on the agent's
//! answer ([`settle`]); past its deadline a redemption is `unknown` and the
//! centre asks the agent about it until the answer is final. A settlement
//! is written once: the ledger's unique index refuses a second one.

use std::time::Duration;

use keting_core::calendar::SiteCalendar;
use keting_core::ids::{DeviceId, MemberId};
use keting_core::ledger::Points;
use keting_core::messages::VendOutcome;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

use super::{StoreError, members, points, vending_slots};

/// The agent must start the vend within this long, or not at all.
pub const START_DEADLINE: Duration = Duration::from_secs(15);
/// Without an answer this long after it began, a redemption is in doubt.
pub const RESULT_DEADLINE: Duration = Duration::from_secs(30);
/// A redemption in doubt is asked about this often.
pub const QUERY_EVERY: Duration = Duration::from_secs(5);

/// Where a redemption is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Points held; the command not sent yet.
    Reserved,
    /// The command sent.
    Sent,
    /// No answer in time, or the answer was "in doubt": being asked about.
    Unknown,
    /// The drink dropped: points spent.
    Committed,
    /// No drink: points returned.
    Refunded,
}

impl State {
    fn parse(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "reserved" => Self::Reserved,
            "sent" => Self::Sent,
            "unknown" => Self::Unknown,
            "committed" => Self::Committed,
            "refunded" => Self::Refunded,
            other => return Err(StoreError::Corrupt(format!("redemption state {other:?}"))),
        })
    }

    /// Settled (committed or refunded).
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Committed | Self::Refunded)
    }
}

/// A redemption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    /// Its id (the vend command's id).
    pub id: String,
    /// Whose points.
    pub member: MemberId,
    /// The machine.
    pub device: DeviceId,
    /// The slot.
    pub slot: u8,
    /// The points.
    pub points: Points,
    /// Where it is.
    pub state: State,
    /// When it began.
    pub created: Timestamp,
    /// The agent's final answer, once settled.
    pub result: Option<VendOutcome>,
}

/// Why a redemption cannot begin, beyond the ledger's own refusals.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RedemptionRefusal {
    /// The slot is empty (by the catalogue).
    #[error("{0} is sold out")]
    SoldOut(String),
    /// The member has a redemption under way (a double tap, a second scan).
    #[error("a redemption of this member is in progress ({0}): wait for it to finish")]
    InProgress(String),
}

fn new_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::NoRandomness(e.to_string()))?;
    Ok(format!(
        "r-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

const COLUMNS: &str = "id, member_id, device_id, slot, points, state, created_ms, result";

/// A row as read: id, member, device, slot, points, state, created, result.
type RawRedemption = (String, u32, String, u8, Points, String, i64, Option<String>);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRedemption> {
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

fn redemption_of(t: RawRedemption) -> Result<Redemption, StoreError> {
    Ok(Redemption {
        id: t.0,
        member: MemberId(t.1),
        device: DeviceId::new(t.2).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        slot: t.3,
        points: t.4,
        state: State::parse(&t.5)?,
        created: Timestamp::from_unix_millis(t.6),
        result: t.7.as_deref().and_then(VendOutcome::parse),
    })
}

/// One redemption.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Redemption>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM redemptions WHERE id = ?1"),
        [id],
        row,
    )
    .optional()?
    .map(redemption_of)
    .transpose()
}

/// The member's redemption in progress, if any.
pub fn in_progress(conn: &Connection, member: MemberId) -> Result<Option<Redemption>, StoreError> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM redemptions WHERE member_id = ?1 AND state IN ('reserved', 'sent', 'unknown')
             ORDER BY created_ms DESC LIMIT 1"
        ),
        [member.0],
        row,
    )
    .optional()?
    .map(redemption_of)
    .transpose()
}

/// Begins a redemption of `slot` of `device` by `member`: holds the price
/// and writes the redemption, in the caller's transaction.
pub fn begin(
    conn: &Connection,
    member: MemberId,
    device: &DeviceId,
    slot: u8,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Redemption, StoreError> {
    members::require(conn, member)?;
    let item = vending_slots::get(conn, device, slot)?
        .ok_or_else(|| StoreError::NotFound(format!("slot {slot} of {device}")))?;
    if item.stock == 0 {
        return Err(RedemptionRefusal::SoldOut(item.name_zh).into());
    }
    if let Some(r) = in_progress(conn, member)? {
        return Err(RedemptionRefusal::InProgress(r.id).into());
    }
    let id = new_id()?;
    points::reserve(conn, member, item.price, &id, calendar, now)?;
    conn.execute(
        "INSERT INTO redemptions (id, member_id, device_id, slot, points, state, created_ms, deadline_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, 'reserved', ?6, ?7)",
        params![
            id,
            member.0,
            device.as_str(),
            slot,
            item.price,
            now.as_unix_millis(),
            now.saturating_add(RESULT_DEADLINE).as_unix_millis()
        ],
    )?;
    Ok(Redemption {
        id,
        member,
        device: device.clone(),
        slot,
        points: item.price,
        state: State::Reserved,
        created: now,
        result: None,
    })
}

/// Redemptions whose vend command is not sent yet.
pub fn unsent(conn: &Connection) -> Result<Vec<Redemption>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM redemptions WHERE state = 'reserved' ORDER BY created_ms"
    ))?;
    let rows = stmt.query_map([], row)?;
    rows.map(|r| redemption_of(r?)).collect()
}

/// The vend command of `id` is in the outbox.
pub fn mark_sent(conn: &Connection, id: &str, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE redemptions SET state = 'sent', sent_ms = ?2 WHERE id = ?1 AND state = 'reserved'",
        params![id, now.as_unix_millis()],
    )?;
    Ok(())
}

/// How many redemptions of each machine are in doubt (state unknown).
pub fn in_doubt_per_device(conn: &Connection) -> Result<Vec<(DeviceId, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, count(*) FROM redemptions WHERE state = 'unknown' GROUP BY device_id ORDER BY device_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for r in rows {
        let (d, n) = r?;
        out.push((
            DeviceId::new(d).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            n,
        ));
    }
    Ok(out)
}

/// Redemptions to ask the agent about now: sent past their deadline, or in
/// doubt and not asked within [`QUERY_EVERY`]. Marks them unknown and asked.
pub fn to_query(conn: &Connection, now: Timestamp) -> Result<Vec<Redemption>, StoreError> {
    let t = now.as_unix_millis();
    let every = i64::try_from(QUERY_EVERY.as_millis()).unwrap_or(i64::MAX);
    // Read first: most of the time nothing is due, and nothing is written.
    let due: Vec<Redemption> = {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM redemptions
             WHERE (state = 'sent' AND deadline_ms < ?1)
                OR (state = 'unknown' AND (queried_ms IS NULL OR queried_ms < ?2))
             ORDER BY created_ms"
        ))?;
        let rows = stmt.query_map(params![t, t - every], row)?;
        rows.map(|r| redemption_of(r?)).collect::<Result<_, _>>()?
    };
    for r in &due {
        conn.execute(
            "UPDATE redemptions SET state = 'unknown', queried_ms = ?2 WHERE id = ?1 AND state IN ('sent', 'unknown')",
            params![r.id, t],
        )?;
    }
    Ok(due)
}

/// Settles `id` on the agent's answer: `dispensed` spends the points (and
/// takes one from the stock), another final answer returns them, `in_doubt`
/// leaves it to be asked about. Settling twice changes nothing. Returns the
/// redemption as it now stands.
pub fn settle(
    conn: &Connection,
    id: &str,
    outcome: VendOutcome,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Option<Redemption>, StoreError> {
    let Some(r) = get(conn, id)? else {
        return Ok(None);
    };
    if r.state.is_settled() {
        return Ok(Some(r));
    }
    if !outcome.is_final() {
        conn.execute(
            "UPDATE redemptions SET state = 'unknown' WHERE id = ?1 AND state IN ('reserved', 'sent')",
            [id],
        )?;
        return get(conn, id);
    }
    let dispensed = outcome.is_dispensed();
    points::settle(conn, r.member, r.points, id, dispensed, calendar, now)?;
    if dispensed {
        vending_slots::take_one(conn, &r.device, r.slot)?;
    } else if outcome == VendOutcome::Empty {
        vending_slots::mark_empty(conn, &r.device, r.slot)?;
    }
    conn.execute(
        "UPDATE redemptions SET state = ?2, result = ?3, settled_ms = ?4 WHERE id = ?1",
        params![
            id,
            if dispensed { "committed" } else { "refunded" },
            outcome.as_str(),
            now.as_unix_millis()
        ],
    )?;
    get(conn, id)
}

/// Redemptions in progress, then the latest `limit` settled.
pub fn latest(conn: &Connection, limit: u32) -> Result<Vec<Redemption>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM (
             SELECT *, 0 AS k FROM redemptions WHERE state IN ('reserved', 'sent', 'unknown')
             UNION ALL
             SELECT * FROM (SELECT *, 1 AS k FROM redemptions WHERE state IN ('committed', 'refunded')
                            ORDER BY created_ms DESC LIMIT ?1)
         ) ORDER BY k, created_ms DESC"
    ))?;
    let rows = stmt.query_map([limit], row)?;
    rows.map(|r| redemption_of(r?)).collect()
}

/// Counts by state, for checks: (committed, refunded, open).
pub fn counts(conn: &Connection) -> Result<(i64, i64, i64), StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FILTER (WHERE state = 'committed'),
                COUNT(*) FILTER (WHERE state = 'refunded'),
                COUNT(*) FILTER (WHERE state IN ('reserved', 'sent', 'unknown'))
         FROM redemptions",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}
