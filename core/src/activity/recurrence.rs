//! One rule, many occurrences: "taiji every morning", "yoga on Monday,
//! Wednesday and Friday evenings", each occurrence its own activity with
//! its own places. Days the centre marks closed (a public holiday) are
//! skipped.
//!
//! The rule's text, as typed after `--repeat`:
//! - `daily until YYYY-MM-DD`
//! - `weekdays until YYYY-MM-DD` (Monday to Friday)
//! - `weekly mon,wed,fri until YYYY-MM-DD`
//!
//! The first occurrence is the activity's own date; `until` is the last
//! date an occurrence may fall on.

use std::str::FromStr;

use thiserror::Error;
use time::{Date, Duration, Weekday};

/// The most occurrences one rule makes (a year of days).
pub const MOST_OCCURRENCES: usize = 366;

/// Which days a rule repeats on, up to a last date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepeatRule {
    /// The weekdays it falls on (every day for `daily`).
    pub days: Vec<Weekday>,
    /// The last date an occurrence may fall on.
    pub until: Date,
}

/// Why a rule was not understood.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RepeatError {
    /// Not one of the three shapes.
    #[error(
        "a repeat is `daily until YYYY-MM-DD`, `weekdays until YYYY-MM-DD` or `weekly mon,wed,fri until YYYY-MM-DD`"
    )]
    Shape,
    /// A day name that is not mon..sun.
    #[error("{0:?} is not a day; days are mon, tue, wed, thu, fri, sat, sun")]
    Day(String),
    /// A date that is not YYYY-MM-DD.
    #[error("{0:?} is not a date (YYYY-MM-DD)")]
    Date(String),
    /// More than [`MOST_OCCURRENCES`].
    #[error("a repeat makes at most {MOST_OCCURRENCES} activities")]
    TooMany,
    /// The last date before the first.
    #[error("the repeat ends before the activity's first date")]
    EndsBeforeFirst,
}

fn weekday(s: &str) -> Result<Weekday, RepeatError> {
    Ok(match s {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        other => return Err(RepeatError::Day(other.to_owned())),
    })
}

impl FromStr for RepeatRule {
    type Err = RepeatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let (days, until) = match words.as_slice() {
            ["daily", "until", d] => (
                vec![
                    Weekday::Monday,
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                    Weekday::Saturday,
                    Weekday::Sunday,
                ],
                *d,
            ),
            ["weekdays", "until", d] => (
                vec![
                    Weekday::Monday,
                    Weekday::Tuesday,
                    Weekday::Wednesday,
                    Weekday::Thursday,
                    Weekday::Friday,
                ],
                *d,
            ),
            ["weekly", list, "until", d] => (
                list.split(',')
                    .map(|w| weekday(&w.trim().to_ascii_lowercase()))
                    .collect::<Result<Vec<_>, _>>()?,
                *d,
            ),
            _ => return Err(RepeatError::Shape),
        };
        let until =
            crate::calendar::parse_date(until).map_err(|_| RepeatError::Date(until.to_owned()))?;
        Ok(RepeatRule { days, until })
    }
}

impl RepeatRule {
    /// The dates from `first` (included if it falls on one of the rule's
    /// days) to `until`, skipping the days `closed` says the centre is
    /// closed.
    pub fn dates(
        &self,
        first: Date,
        closed: impl Fn(Date) -> bool,
    ) -> Result<Vec<Date>, RepeatError> {
        if self.until < first {
            return Err(RepeatError::EndsBeforeFirst);
        }
        if (self.until - first).whole_days() > MOST_OCCURRENCES as i64 * 7 {
            return Err(RepeatError::TooMany);
        }
        let mut out = Vec::new();
        let mut day = first;
        while day <= self.until {
            if self.days.contains(&day.weekday()) && !closed(day) {
                if out.len() == MOST_OCCURRENCES {
                    return Err(RepeatError::TooMany);
                }
                out.push(day);
            }
            day += Duration::days(1);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn three_evenings_a_week_across_a_month_skip_the_closed_holiday() {
        let rule: RepeatRule = "weekly mon,wed,fri until 2026-12-31".parse().unwrap();
        // 2026-12-01 is a Tuesday; Friday 2026-12-25 is marked closed.
        let dates = rule
            .dates(date!(2026 - 12 - 01), |d| d == date!(2026 - 12 - 25))
            .unwrap();
        assert_eq!(dates.len(), 13 - 1);
        assert_eq!(dates[0], date!(2026 - 12 - 02));
        assert!(!dates.contains(&date!(2026 - 12 - 25)));
        assert_eq!(*dates.last().unwrap(), date!(2026 - 12 - 30));
        assert!(dates.iter().all(|d| matches!(
            d.weekday(),
            Weekday::Monday | Weekday::Wednesday | Weekday::Friday
        )));
    }

    #[test]
    fn every_morning_and_every_weekday() {
        let daily: RepeatRule = "daily until 2026-12-31".parse().unwrap();
        assert_eq!(
            daily.dates(date!(2026 - 12 - 01), |_| false).unwrap().len(),
            31
        );
        let weekdays: RepeatRule = "weekdays until 2026-12-31".parse().unwrap();
        assert_eq!(
            weekdays
                .dates(date!(2026 - 12 - 01), |_| false)
                .unwrap()
                .len(),
            23
        );
    }

    #[test]
    fn bad_rules_say_what_a_rule_looks_like() {
        assert_eq!("every day".parse::<RepeatRule>(), Err(RepeatError::Shape));
        assert_eq!(
            "weekly mon,xyz until 2026-12-31".parse::<RepeatRule>(),
            Err(RepeatError::Day("xyz".into()))
        );
        assert_eq!(
            "daily until 31/12".parse::<RepeatRule>(),
            Err(RepeatError::Date("31/12".into()))
        );
        let rule: RepeatRule = "daily until 2026-11-30".parse().unwrap();
        assert_eq!(
            rule.dates(date!(2026 - 12 - 01), |_| false),
            Err(RepeatError::EndsBeforeFirst)
        );
        let long: RepeatRule = "daily until 2028-12-31".parse().unwrap();
        assert_eq!(
            long.dates(date!(2026 - 12 - 01), |_| false),
            Err(RepeatError::TooMany)
        );
    }
}
