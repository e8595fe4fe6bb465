//! What is on today, for the home screen: activities on one date, on a
//! weekday every week, or every day.
//!
//! Bookable sessions (pianos, the robot, childcare) will feed this list once
//! bookings exist; until then the rows are the centre's own timetable.

use rusqlite::{Connection, named_params};
use time::Date;

use thiserror::Error;

use super::StoreError;

/// Why a programme item was not taken.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProgrammeRefusal {
    /// Its start is not `HH:MM`.
    #[error("a programme item starts at HH:MM, got {0:?}")]
    Starts(String),
}

/// When a programme item happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recurrence {
    /// Every day.
    Daily,
    /// Every week on this ISO weekday (1 = Monday ... 7 = Sunday).
    Weekly(u8),
    /// Once, on this date.
    Once(Date),
}

/// One activity on the programme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgrammeItem {
    /// Start time, `HH:MM` local.
    pub starts: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// Title in English.
    pub title_en: String,
    /// Where, in Chinese.
    pub place_zh: String,
    /// Where, in English.
    pub place_en: String,
}

/// Adds an item to the programme.
pub fn add(conn: &Connection, when: Recurrence, item: &ProgrammeItem) -> Result<(), StoreError> {
    let (on_date, weekday) = match when {
        Recurrence::Daily => (None, None),
        Recurrence::Weekly(d) => (None, Some(d)),
        Recurrence::Once(d) => (Some(d.to_string()), None),
    };
    conn.execute(
        "INSERT INTO programme (on_date, weekday, starts, title_zh, title_en, place_zh, place_en)
         VALUES (:on_date, :weekday, :starts, :title_zh, :title_en, :place_zh, :place_en)",
        named_params! {
            ":on_date": on_date, ":weekday": weekday, ":starts": item.starts,
            ":title_zh": item.title_zh, ":title_en": item.title_en,
            ":place_zh": item.place_zh, ":place_en": item.place_en,
        },
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::from(ProgrammeRefusal::Starts(item.starts.clone()))
        }
        e => e.into(),
    })?;
    Ok(())
}

/// The items on `day`, by start time.
pub fn for_day(conn: &Connection, day: Date) -> Result<Vec<ProgrammeItem>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT starts, title_zh, title_en, place_zh, place_en FROM programme
         WHERE on_date = :date OR weekday = :weekday OR (on_date IS NULL AND weekday IS NULL)
         ORDER BY starts, id",
    )?;
    let rows = stmt.query_map(
        named_params! { ":date": day.to_string(), ":weekday": day.weekday().number_from_monday() },
        |r| {
            Ok(ProgrammeItem {
                starts: r.get(0)?,
                title_zh: r.get(1)?,
                title_en: r.get(2)?,
                place_zh: r.get(3)?,
                place_en: r.get(4)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use time::macros::date;

    #[test]
    fn daily_weekly_and_once() {
        let store = Store::open_in_memory().unwrap();
        let c = store.conn();
        let item = |starts: &str, t: &str| ProgrammeItem {
            starts: starts.into(),
            title_zh: t.into(),
            title_en: t.into(),
            place_zh: "室".into(),
            place_en: "room".into(),
        };
        add(c, Recurrence::Daily, &item("10:30", "daily")).unwrap();
        add(c, Recurrence::Weekly(7), &item("09:00", "sundays")).unwrap();
        add(
            c,
            Recurrence::Once(date!(2026 - 11 - 23)),
            &item("14:00", "monday once"),
        )
        .unwrap();
        assert!(matches!(
            add(c, Recurrence::Daily, &item("9am", "x")),
            Err(StoreError::Programme(ProgrammeRefusal::Starts(_)))
        ));
        // 2026-11-22 is a Sunday.
        let titles = |d| {
            for_day(c, d)
                .unwrap()
                .into_iter()
                .map(|i| i.title_en)
                .collect::<Vec<_>>()
        };
        assert_eq!(titles(date!(2026 - 11 - 22)), ["sundays", "daily"]);
        assert_eq!(titles(date!(2026 - 11 - 23)), ["daily", "monday once"]);
    }
}
