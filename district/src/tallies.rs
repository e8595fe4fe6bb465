//! What each centre says it sent against what the database holds.
//!
//! A centre reports a tally every minute or so while it sends
//! (`DistrictEventKind::Tally`: of its events numbered `from_id` through
//! `through_id`, `sent` left, each acknowledged by the stream). The ingest
//! keeps each tally with how many of its range the database held when it
//! came (`held`; the stream is in order, so a tally's events came before
//! it). Events are missing where
//! - a tally's range holds fewer than it says were sent (`held < sent`:
//!   the count is known), or
//! - no tally covers a range between two that do (their tally went with
//!   them, e.g. PostgreSQL restored from an older backup: the count is
//!   not known).
//!
//! `keting-district check` recounts every tally and names each range;
//! the health page shows the last week's; `keting-district repair` reads
//! the centre's events from the stream again and recounts.

use std::collections::HashMap;

use keting_core::district::DistrictEventKind;
use tokio_postgres::Client;

use crate::database::{DatabaseError, Incoming, db};

/// Events a centre sent that the database does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The centre.
    pub centre: String,
    /// The first event number of the range.
    pub from_id: i64,
    /// The last.
    pub through_id: i64,
    /// How many of the range are missing; `None` when the range's tally
    /// is missing too (all of it, or some).
    pub count: Option<i64>,
    /// When the district heard of the range (the tally after it, for an
    /// uncovered range), ms since the epoch.
    pub noticed_ms: i64,
}

/// Keeps the batch's tallies (a tally again changes nothing), each with how
/// many of its range the database holds now. In the batch's transaction,
/// after its events: returns how many were new.
pub(crate) async fn keep(
    tx: &tokio_postgres::Transaction<'_>,
    tallies: &[&Incoming],
    now_ms: i64,
) -> Result<usize, DatabaseError> {
    let mut rows: HashMap<(String, i64), (i64, i64, i64)> = HashMap::new();
    for i in tallies {
        if let DistrictEventKind::Tally { from_id, sent } = &i.event.event {
            rows.entry((i.event.centre.clone(), as_i64(i.event.id)))
                .or_insert((as_i64(*from_id), as_i64(*sent), i.event.at_ms));
        }
    }
    if rows.is_empty() {
        return Ok(0);
    }
    let (mut centres, mut through, mut from, mut sent, mut at) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((c, t), (f, s, a)) in rows {
        centres.push(c);
        through.push(t);
        from.push(f);
        sent.push(s);
        at.push(a);
    }
    let n = tx
        .execute(
            "INSERT INTO centre_tallies (centre, from_id, through_id, sent, held, at_ms, received_ms)
             SELECT c, f, t, s,
                    (SELECT count(*) FROM events e WHERE e.centre = c AND e.event_id BETWEEN f AND t),
                    a, $6
             FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[]) AS u(c, f, t, s, a)
             ON CONFLICT (centre, through_id) DO NOTHING",
            &[&centres, &from, &through, &sent, &at, &now_ms],
        )
        .await
        .map_err(db("keeping tallies"))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Counts again what every tally's range holds (of `centre`, or all): after
/// a repair, or to catch rows lost since a tally came. Returns the
/// tallies counted.
pub async fn recount(client: &Client, centre: Option<&str>) -> Result<u64, DatabaseError> {
    client
        .execute(
            "UPDATE centre_tallies t SET held = (
                 SELECT count(*) FROM events e
                 WHERE e.centre = t.centre AND e.event_id BETWEEN t.from_id AND t.through_id)
             WHERE $1::text IS NULL OR t.centre = $1",
            &[&centre.map(str::to_owned)],
        )
        .await
        .map_err(db("recounting tallies"))
}

/// Every range missing events (of tallies received since `since_ms`, or
/// all), by centre and number.
pub async fn missing(
    client: &Client,
    since_ms: Option<i64>,
) -> Result<Vec<Missing>, DatabaseError> {
    let rows = client
        .query(
            "WITH t AS (
                 SELECT centre, from_id, through_id, sent, held, received_ms,
                        max(through_id) OVER (PARTITION BY centre ORDER BY from_id, through_id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered
                 FROM centre_tallies)
             SELECT centre, from_id, through_id, sent - held, received_ms FROM t
                 WHERE held < sent AND ($1::int8 IS NULL OR received_ms >= $1)
             UNION ALL
             SELECT centre, covered + 1, from_id - 1, NULL, received_ms FROM t
                 WHERE from_id > covered + 1 AND ($1::int8 IS NULL OR received_ms >= $1)
             ORDER BY 1, 2",
            &[&since_ms],
        )
        .await
        .map_err(db("finding missing events"))?;
    Ok(rows
        .iter()
        .map(|r| Missing {
            centre: r.get(0),
            from_id: r.get(1),
            through_id: r.get(2),
            count: r.get(3),
            noticed_ms: r.get(4),
        })
        .collect())
}

/// How many tallies the database keeps, and the events they say were sent.
pub async fn totals(client: &Client) -> Result<(i64, i64), DatabaseError> {
    let row = client
        .query_one(
            "SELECT count(*), coalesce(sum(sent), 0)::int8 FROM centre_tallies",
            &[],
        )
        .await
        .map_err(db("counting tallies"))?;
    Ok((row.get(0), row.get(1)))
}
