//! The reports desk: the centre's headline figures (visits per hour of a
//! day, per day of a month, so far today) in the site's local time, read
//! for the command line, the screen and later the dashboard alike.

use keting_core::calendar::{SiteCalendar, YearMonth};
use keting_core::time::Timestamp;
use time::Date;

use crate::store::{Store, StoreError, reports};

/// Counted visits in each local hour of `day` (24 values).
pub fn visits_per_hour(
    store: &Store,
    calendar: SiteCalendar,
    day: Date,
) -> Result<Vec<u64>, StoreError> {
    reports::visits_per_hour(store.conn(), calendar, day)
}

/// Counted visits on each local day of `month`.
pub fn visits_per_day(
    store: &Store,
    calendar: SiteCalendar,
    month: YearMonth,
) -> Result<Vec<u64>, StoreError> {
    reports::visits_per_day(store.conn(), calendar, month)
}

/// Counted visits so far on the local day of `now`.
pub fn visits_today(
    store: &Store,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<u64, StoreError> {
    reports::visits_in(store.conn(), calendar.day_span(calendar.date_of(now)))
}
