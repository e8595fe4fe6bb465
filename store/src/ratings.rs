//! Residents rate a session they had, 1 to 5, once ("residents rate it");
//! the staff view sums the ratings per service.

use keting_core::booking::{BookingState, ResourceKind};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use thiserror::Error;

use super::StoreError;
use super::bookings::{self, Booking};

/// Why a rating was not taken.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RatingRefusal {
    /// Fewer than 1 or more than 5 stars.
    #[error("a rating is 1 to 5 stars, not {0}")]
    Stars(u8),
    /// The booking is another member's.
    #[error("that booking is not this member's")]
    NotYours,
    /// The session is not over yet (or never happened).
    #[error("this booking is {0}: a session is rated once it is over")]
    NotOver(BookingState),
    /// Rated once already.
    #[error("this session was rated already")]
    RatedAlready,
}

/// A session can be rated this long after it ended (at the next scan).
pub const RATE_WITHIN_MS: i64 = 24 * 3_600_000;

/// Records `member`'s rating of booking `booking` (`None`: staff entering
/// it for them).
pub fn rate(
    conn: &Connection,
    booking: i64,
    member: Option<MemberId>,
    stars: u8,
    now: Timestamp,
) -> Result<(), StoreError> {
    if !(1..=5).contains(&stars) {
        return Err(RatingRefusal::Stars(stars).into());
    }
    let b = bookings::get(conn, booking)?;
    if member.is_some_and(|m| m != b.member) {
        return Err(RatingRefusal::NotYours.into());
    }
    if !matches!(
        b.state,
        BookingState::Done | BookingState::ToCheck | BookingState::Failed
    ) {
        return Err(RatingRefusal::NotOver(b.state).into());
    }
    let new = conn.execute(
        "INSERT INTO ratings (booking_id, member_id, resource_id, kind, stars, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (booking_id) DO NOTHING",
        params![
            booking,
            b.member.0,
            b.resource,
            b.kind.as_str(),
            stars,
            now.as_unix_millis()
        ],
    )?;
    if new == 0 {
        return Err(RatingRefusal::RatedAlready.into());
    }
    Ok(())
}

/// `member`'s latest session, ended within [`RATE_WITHIN_MS`] and not
/// rated: what the next scan asks about.
pub fn to_rate(
    conn: &Connection,
    member: MemberId,
    now: Timestamp,
) -> Result<Option<Booking>, StoreError> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT b.id FROM bookings b
             WHERE b.member_id = ?1 AND b.state IN ('done', 'to_check', 'failed') AND b.started_ms IS NOT NULL
               AND b.ended_ms >= ?2
               AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.booking_id = b.id)
             ORDER BY b.ended_ms DESC LIMIT 1",
            params![member.0, now.as_unix_millis() - RATE_WITHIN_MS],
            |r| r.get(0),
        )
        .optional()?;
    id.map(|id| bookings::get(conn, id)).transpose()
}

/// `member`'s sessions over since `since` and not rated, the newest first.
pub fn unrated_since(
    conn: &Connection,
    member: MemberId,
    since: Timestamp,
) -> Result<Vec<Booking>, StoreError> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT b.id FROM bookings b
             WHERE b.member_id = ?1 AND b.state IN ('done', 'to_check', 'failed') AND b.started_ms IS NOT NULL
               AND b.ended_ms >= ?2
               AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.booking_id = b.id)
             ORDER BY b.ended_ms DESC LIMIT 20",
        )?
        .query_map(params![member.0, since.as_unix_millis()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.into_iter().map(|id| bookings::get(conn, id)).collect()
}

/// The ratings of one kind of service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRatings {
    /// The service.
    pub kind: ResourceKind,
    /// How many ratings.
    pub count: u32,
    /// The average, in hundredths of a star (4.25 stars is 425).
    pub average_x100: u32,
    /// How many gave 4 or 5 stars ("satisfied").
    pub satisfied: u32,
}

/// Ratings per service since `since`, best rated first.
pub fn per_service(conn: &Connection, since: Timestamp) -> Result<Vec<ServiceRatings>, StoreError> {
    per_service_between(conn, since, Timestamp::from_unix_millis(i64::MAX))
}

/// Ratings per service given from `from` to before `until`, best rated first.
pub fn per_service_between(
    conn: &Connection,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<ServiceRatings>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, count(*), (sum(stars) * 100 + count(*) / 2) / count(*), sum(stars >= 4)
         FROM ratings WHERE at_ms >= ?1 AND at_ms < ?2 GROUP BY kind ORDER BY 3 DESC, kind",
    )?;
    let rows = stmt.query_map([from.as_unix_millis(), until.as_unix_millis()], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, count, average_x100, satisfied) = row?;
        out.push(ServiceRatings {
            kind: ResourceKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("rating kind {kind:?}")))?,
            count,
            average_x100,
            satisfied,
        });
    }
    Ok(out)
}
