//! What residents say: their ratings of activities they attended (the
//! sessions' ratings are `ratings`), and the suggestion box with staff's
//! answers.

use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// An activity a member attended and has not rated, ended since a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToRate {
    /// The activity.
    pub id: i64,
    /// Its titles, (Chinese, English).
    pub title: (String, String),
    /// When it ended.
    pub ended: Timestamp,
}

/// The activities `member` attended that ended in `[since, now]` and they
/// have not rated, the newest first.
pub fn activities_to_rate(
    conn: &Connection,
    member: MemberId,
    since: Timestamp,
    now: Timestamp,
) -> Result<Vec<ToRate>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.title_zh, a.title_en, a.ends_ms FROM activity_attendance t JOIN activities a ON a.id = t.activity_id
         WHERE t.member_id = ?1 AND a.ends_ms BETWEEN ?2 AND ?3
           AND NOT EXISTS (SELECT 1 FROM activity_ratings r WHERE r.activity_id = a.id AND r.member_id = t.member_id)
         ORDER BY a.ends_ms DESC LIMIT 20",
    )?;
    let rows = stmt.query_map(
        params![member.0, since.as_unix_millis(), now.as_unix_millis()],
        |r| {
            Ok(ToRate {
                id: r.get(0)?,
                title: (r.get(1)?, r.get(2)?),
                ended: Timestamp::from_unix_millis(r.get(3)?),
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records `member`'s rating of activity `id`; false if they rated it already.
pub fn rate_activity(
    conn: &Connection,
    id: i64,
    member: MemberId,
    stars: u8,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "INSERT INTO activity_ratings (activity_id, member_id, stars, at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![id, member.0, stars, now.as_unix_millis()],
    )? == 1)
}

/// Whether `member` rated activity `id`.
pub fn activity_rated(conn: &Connection, id: i64, member: MemberId) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM activity_ratings WHERE activity_id = ?1 AND member_id = ?2)",
        params![id, member.0],
        |r| r.get(0),
    )?)
}

/// Activities rated in `[from, to)`: (ratings, mean stars × 100).
pub fn activity_ratings_between(
    conn: &Connection,
    from: Timestamp,
    to: Timestamp,
) -> Result<(u32, u32), StoreError> {
    Ok(conn.query_row(
        "SELECT count(*), COALESCE(CAST(round(avg(stars) * 100) AS INTEGER), 0) FROM activity_ratings WHERE at_ms >= ?1 AND at_ms < ?2",
        params![from.as_unix_millis(), to.as_unix_millis()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// A suggestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// Its number.
    pub id: i64,
    /// Who made it.
    pub member: MemberId,
    /// Their name (for staff).
    pub name: String,
    /// What they wrote.
    pub text: String,
    /// When.
    pub at: Timestamp,
    /// Staff's answer, who answered and when.
    pub answer: Option<(String, String, Timestamp)>,
}

const SUGGESTION: &str = "SELECT s.id, s.member_id, m.display_name, s.text, s.at_ms, s.answer, s.answered_by, s.answered_ms
     FROM suggestions s JOIN members m ON m.id = s.member_id";

fn suggestion(r: &rusqlite::Row<'_>) -> rusqlite::Result<Suggestion> {
    let answer: Option<String> = r.get(5)?;
    let by: Option<String> = r.get(6)?;
    let at: Option<i64> = r.get(7)?;
    Ok(Suggestion {
        id: r.get(0)?,
        member: MemberId(r.get(1)?),
        name: r.get(2)?,
        text: r.get(3)?,
        at: Timestamp::from_unix_millis(r.get(4)?),
        answer: match (answer, at) {
            (Some(a), Some(at)) => {
                Some((a, by.unwrap_or_default(), Timestamp::from_unix_millis(at)))
            }
            _ => None,
        },
    })
}

/// Stores a suggestion; its number.
pub fn suggest(
    conn: &Connection,
    member: MemberId,
    text: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO suggestions (member_id, text, at_ms) VALUES (?1, ?2, ?3)",
        params![member.0, text, now.as_unix_millis()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// How many suggestions `member` made since `since`.
pub fn suggested_since(
    conn: &Connection,
    member: MemberId,
    since: Timestamp,
) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM suggestions WHERE member_id = ?1 AND at_ms >= ?2",
        params![member.0, since.as_unix_millis()],
        |r| r.get(0),
    )?)
}

/// `member`'s suggestions, the newest first (at most `limit`).
pub fn of_member(
    conn: &Connection,
    member: MemberId,
    limit: u32,
) -> Result<Vec<Suggestion>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SUGGESTION} WHERE s.member_id = ?1 ORDER BY s.at_ms DESC, s.id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![member.0, limit], suggestion)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every suggestion, unanswered first then the newest (at most `limit`).
pub fn all(conn: &Connection, limit: u32) -> Result<Vec<Suggestion>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SUGGESTION} ORDER BY s.answer IS NOT NULL, s.at_ms DESC, s.id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map(params![limit], suggestion)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Suggestion `id`.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Suggestion>, StoreError> {
    Ok(conn
        .query_row(&format!("{SUGGESTION} WHERE s.id = ?1"), [id], suggestion)
        .optional()?)
}

/// Answers suggestion `id` (an answer replaces an earlier one).
pub fn answer(
    conn: &Connection,
    id: i64,
    text: &str,
    by: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE suggestions SET answer = ?2, answered_by = ?3, answered_ms = ?4 WHERE id = ?1",
        params![id, text, by, now.as_unix_millis()],
    )? == 1)
}
