//! Visits per hour, day and month: the centre's headline figures, as SQL.
//!
//! A visit is a counted check-in (see [`super::checkins`]). The spans come
//! from the site's calendar in `keting-core`, so "a day" means the centre's
//! local day; the grouping and counting are done by SQLite over the
//! `checkins_visits` index.

use keting_core::calendar::{SiteCalendar, Span, YearMonth};
use rusqlite::{Connection, named_params};
use time::Date;

use super::StoreError;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Runs a report query whose rows are one count each.
fn counts(
    conn: &Connection,
    sql: &str,
    params: &[(&str, &dyn rusqlite::ToSql)],
) -> Result<Vec<u64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| r.get::<_, i64>(0))?;
    rows.map(|n| Ok(u64::try_from(n?).unwrap_or(0))).collect()
}

/// Visits in each of the 24 local hours of `day`, hour 0 first.
pub fn visits_per_hour(
    conn: &Connection,
    cal: SiteCalendar,
    day: Date,
) -> Result<Vec<u64>, StoreError> {
    let span = cal.day_span(day);
    counts(
        conn,
        "WITH RECURSIVE
           hours(h) AS (SELECT 0 UNION ALL SELECT h + 1 FROM hours WHERE h < 23),
           visits(h, n) AS (
             SELECT ((at_ms + :offset) / :ms_per_hour) % 24, count(*)
             FROM checkins
             WHERE counted = 1 AND at_ms >= :start AND at_ms < :end
             GROUP BY 1)
         SELECT coalesce(visits.n, 0) FROM hours LEFT JOIN visits USING (h) ORDER BY hours.h",
        named_params! {
            ":offset": cal.offset_millis(),
            ":ms_per_hour": MS_PER_HOUR,
            ":start": span.start.as_unix_millis(),
            ":end": span.end.as_unix_millis(),
        },
    )
}

/// Visits on each local day of `month`, day 1 first.
pub fn visits_per_day(
    conn: &Connection,
    cal: SiteCalendar,
    month: YearMonth,
) -> Result<Vec<u64>, StoreError> {
    let span = cal.month_span(month);
    counts(
        conn,
        "WITH RECURSIVE
           days(d) AS (SELECT 1 UNION ALL SELECT d + 1 FROM days WHERE d < :days),
           visits(d, n) AS (
             SELECT (at_ms - :start) / :ms_per_day + 1, count(*)
             FROM checkins
             WHERE counted = 1 AND at_ms >= :start AND at_ms < :end
             GROUP BY 1)
         SELECT coalesce(visits.n, 0) FROM days LEFT JOIN visits USING (d) ORDER BY days.d",
        named_params! {
            ":days": i64::from(month.days()),
            ":ms_per_day": MS_PER_DAY,
            ":start": span.start.as_unix_millis(),
            ":end": span.end.as_unix_millis(),
        },
    )
}

/// Visits within a span (a day, a month, anything).
pub fn visits_in(conn: &Connection, span: Span) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM checkins WHERE counted = 1 AND at_ms >= ?1 AND at_ms < ?2",
        [span.start.as_unix_millis(), span.end.as_unix_millis()],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Volunteering within a span: (activities held, volunteers awarded, points
/// awarded), counted from the ledger's awards (a reversed award counts
/// until reversed: the reversal is its own posting).
pub fn volunteering_in(conn: &Connection, span: Span) -> Result<(u64, u64, i64), StoreError> {
    let (a, v, p): (i64, i64, i64) = conn.query_row(
        "SELECT count(DISTINCT p.activity_id), count(DISTINCT p.member_id), coalesce(sum(l.amount), 0)
         FROM ledger_postings p JOIN ledger_legs l ON l.posting_id = p.id AND l.account LIKE 'member:%'
         WHERE p.kind = 'earn' AND p.at_ms >= ?1 AND p.at_ms < ?2",
        [span.start.as_unix_millis(), span.end.as_unix_millis()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok((
        u64::try_from(a).unwrap_or(0),
        u64::try_from(v).unwrap_or(0),
        p,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::checkins::{ScanSource, insert};
    use keting_core::checkin::{CheckInDecision, DenyReason};
    use keting_core::ids::MemberId;
    use keting_core::time::Timestamp;
    use time::macros::date;

    fn at(cal: SiteCalendar, day: Date, h: i64, m: i64) -> Timestamp {
        Timestamp::from_unix_millis(
            cal.start_of(day).as_unix_millis() + h * MS_PER_HOUR + m * 60_000,
        )
    }

    #[test]
    fn counts_visits_in_local_hours_and_days() {
        let store = Store::open_in_memory().unwrap();
        let c = store.conn();
        let cal = SiteCalendar::china();
        let day = date!(2026 - 11 - 22);
        let visit = CheckInDecision::Accepted {
            member: MemberId(1),
            counted: true,
        };
        let repeat = CheckInDecision::Accepted {
            member: MemberId(1),
            counted: false,
        };
        let denied = CheckInDecision::Denied(DenyReason::Revoked);
        for (t, d) in [
            (at(cal, day, 0, 0), &visit), // first instant of the day
            (at(cal, day, 10, 30), &visit),
            (at(cal, day, 10, 59), &visit),
            (at(cal, day, 10, 35), &repeat), // not a visit
            (at(cal, day, 10, 40), &denied), // not a visit
            (at(cal, day, 23, 59), &visit),
            (at(cal, date!(2026 - 11 - 23), 0, 0), &visit), // next day
            (at(cal, date!(2026 - 11 - 21), 23, 59), &visit), // day before
        ] {
            insert(c, t, None, d, ScanSource::CommandLine).unwrap();
        }
        let hours = visits_per_hour(c, cal, day).unwrap();
        assert_eq!(hours.len(), 24);
        assert_eq!((hours[0], hours[10], hours[23]), (1, 2, 1));
        assert_eq!(hours.iter().sum::<u64>(), 4);
        assert_eq!(visits_in(c, cal.day_span(day)).unwrap(), 4);

        let month: YearMonth = "2026-11".parse().unwrap();
        let days = visits_per_day(c, cal, month).unwrap();
        assert_eq!(days.len(), 30);
        assert_eq!((days[20], days[21], days[22]), (1, 4, 1));
        assert_eq!(visits_in(c, cal.month_span(month)).unwrap(), 6);
    }
}

/// Visits of a span by kind: check-ins at the entrance, entries through
/// the gym door, and sessions used per kind of service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitsByKind {
    /// Counted check-ins at the kiosk.
    pub checkins: u64,
    /// Entries through a door (the gym at night).
    pub door_entries: u64,
    /// Sessions started or over, per kind of service (`piano`, `robot`,
    /// `childcare`, `room`), by kind.
    pub sessions: Vec<(String, u64)>,
}

/// The visits of `span` by kind.
pub fn visits_by_kind(conn: &Connection, span: Span) -> Result<VisitsByKind, StoreError> {
    let (start, end) = (span.start.as_unix_millis(), span.end.as_unix_millis());
    let door_entries: i64 = conn.query_row(
        "SELECT count(*) FROM door_events WHERE kind = 'access_granted' AND at_ms >= ?1 AND at_ms < ?2",
        [start, end],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT r.kind, count(*) FROM bookings b JOIN resources r ON r.id = b.resource_id
         WHERE b.state IN ('started', 'to_check', 'done') AND b.slot_start_ms >= ?1 AND b.slot_start_ms < ?2
         GROUP BY r.kind ORDER BY r.kind",
    )?;
    let sessions = stmt
        .query_map([start, end], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VisitsByKind {
        checkins: visits_in(conn, span)?,
        door_entries: u64::try_from(door_entries).unwrap_or(0),
        sessions,
    })
}
