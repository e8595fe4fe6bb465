//! The centre's calendar: which local hour, day and month an instant falls in.
//!
//! Visits per hour, day and month are the centre's headline figures, and they
//! are counted in the centre's local time. Every Keting site today is in
//! China (UTC+08:00, no daylight saving), so a site has one fixed UTC offset
//! rather than a time-zone database; the offset is configurable for any other
//! place without daylight saving.
//!
//! The kiosk counts with SQL; this module gives it the spans to count over,
//! so the boundaries are decided (and tested) in one place.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::time::Timestamp;

/// China Standard Time, the default for every site.
pub const CHINA_UTC_OFFSET_MINUTES: i32 = 8 * 60;

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// A half-open span of time `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The first instant in the span.
    pub start: Timestamp,
    /// The first instant after the span.
    pub end: Timestamp,
}

/// A calendar month, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct YearMonth {
    /// The year, e.g. 2026.
    pub year: i32,
    /// The month.
    pub month: Month,
}

/// Why a date or month given by a person could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// A UTC offset beyond ±18 hours.
    #[error("a UTC offset must be within ±18 hours, got {0} minutes")]
    OffsetOutOfRange(i32),
    /// Not a `YYYY-MM-DD` date.
    #[error("expected a date as YYYY-MM-DD, got {0:?}")]
    BadDate(String),
    /// Not a `YYYY-MM` month.
    #[error("expected a month as YYYY-MM, got {0:?}")]
    BadMonth(String),
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<Date, CalendarError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &format).map_err(|_| CalendarError::BadDate(s.to_owned()))
}

impl FromStr for YearMonth {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CalendarError::BadMonth(s.to_owned());
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let month = Month::try_from(month).map_err(|_| bad())?;
        Ok(Self { year, month })
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

impl YearMonth {
    /// The number of days in this month.
    pub fn days(self) -> u8 {
        self.month.length(self.year)
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        // Day 1 exists in every month of every year `time` can represent.
        Date::from_calendar_date(self.year, self.month, 1).unwrap_or(Date::MIN)
    }

    /// The last day of the month (a gym month is paid up to it).
    pub fn last_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, self.days()).unwrap_or(Date::MAX)
    }

    /// The month before.
    pub fn previous(self) -> Self {
        let year = if self.month == Month::January {
            self.year - 1
        } else {
            self.year
        };
        Self {
            year,
            month: self.month.previous(),
        }
    }
}

/// A site's calendar: a fixed offset from UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteCalendar {
    offset: UtcOffset,
}

impl Default for SiteCalendar {
    fn default() -> Self {
        Self::china()
    }
}

impl SiteCalendar {
    /// The calendar of a site in China (UTC+08:00).
    pub fn china() -> Self {
        Self {
            offset: UtcOffset::from_whole_seconds(CHINA_UTC_OFFSET_MINUTES * 60)
                .unwrap_or(UtcOffset::UTC),
        }
    }

    /// A calendar `minutes` east of UTC (negative: west).
    pub fn with_offset_minutes(minutes: i32) -> Result<Self, CalendarError> {
        if minutes.abs() > 18 * 60 {
            return Err(CalendarError::OffsetOutOfRange(minutes));
        }
        let offset = UtcOffset::from_whole_seconds(minutes * 60)
            .map_err(|_| CalendarError::OffsetOutOfRange(minutes))?;
        Ok(Self { offset })
    }

    /// Minutes east of UTC.
    pub fn offset_minutes(self) -> i32 {
        self.offset.whole_seconds() / 60
    }

    /// Milliseconds east of UTC; `(t + offset) / 3_600_000 % 24` is the local hour.
    pub fn offset_millis(self) -> i64 {
        i64::from(self.offset_minutes()) * MS_PER_MINUTE
    }

    /// The local date and time of `t`.
    pub fn local(self, t: Timestamp) -> OffsetDateTime {
        let nanos = i128::from(t.as_unix_millis()) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(self.offset)
    }

    /// The local date of `t`.
    pub fn date_of(self, t: Timestamp) -> Date {
        self.local(t).date()
    }

    /// The local month of `t`.
    pub fn month_of(self, t: Timestamp) -> YearMonth {
        let d = self.date_of(t);
        YearMonth {
            year: d.year(),
            month: d.month(),
        }
    }

    /// The instant a local date begins.
    pub fn start_of(self, day: Date) -> Timestamp {
        let utc_midnight = day.midnight().assume_utc().unix_timestamp() * 1000;
        Timestamp::from_unix_millis(utc_midnight - self.offset_millis())
    }

    /// The span of one local day.
    pub fn day_span(self, day: Date) -> Span {
        let start = self.start_of(day);
        Span {
            start,
            end: Timestamp::from_unix_millis(start.as_unix_millis() + MS_PER_DAY),
        }
    }

    /// The span of one local month.
    pub fn month_span(self, month: YearMonth) -> Span {
        let start = self.start_of(month.first_day());
        let days = i64::from(month.days());
        Span {
            start,
            end: Timestamp::from_unix_millis(start.as_unix_millis() + days * MS_PER_DAY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn at(s: &str) -> Timestamp {
        let t = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
        Timestamp::from_unix_millis((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    #[test]
    fn local_day_boundaries_in_china() {
        let cal = SiteCalendar::china();
        // 23:59:59.999 local on the 21st is still the 21st; midnight is the 22nd.
        let cases = [
            ("2026-11-21T15:59:59.999Z", date!(2026 - 11 - 21)),
            ("2026-11-21T16:00:00Z", date!(2026 - 11 - 22)),
            ("2026-11-22T00:30:00+08:00", date!(2026 - 11 - 22)),
        ];
        for (t, d) in cases {
            assert_eq!(cal.date_of(at(t)), d, "{t}");
        }
        let span = cal.day_span(date!(2026 - 11 - 22));
        assert_eq!(span.start, at("2026-11-22T00:00:00+08:00"));
        assert_eq!(span.end, at("2026-11-23T00:00:00+08:00"));
    }

    #[test]
    fn month_spans() {
        let cal = SiteCalendar::china();
        let cases = [
            ("2026-02", 28, "2026-03-01T00:00:00+08:00"),
            ("2028-02", 29, "2028-03-01T00:00:00+08:00"),
            ("2026-12", 31, "2027-01-01T00:00:00+08:00"),
        ];
        for (m, days, end) in cases {
            let ym: YearMonth = m.parse().unwrap();
            assert_eq!(ym.days(), days);
            assert_eq!(ym.to_string(), m);
            assert_eq!(cal.month_span(ym).end, at(end), "{m}");
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        for s in ["2026-13", "2026-1", "26-01", "", "2026/01", "2026-00"] {
            assert!(s.parse::<YearMonth>().is_err(), "{s:?}");
        }
        for s in ["2026-02-30", "2026-2-3", "yesterday", ""] {
            assert!(parse_date(s).is_err(), "{s:?}");
        }
        assert!(SiteCalendar::with_offset_minutes(19 * 60).is_err());
        assert_eq!(
            SiteCalendar::with_offset_minutes(-300)
                .unwrap()
                .offset_millis(),
            -18_000_000
        );
    }
}
