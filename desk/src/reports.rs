//! The reports desk: the centre's headline figures (visits per hour of a
//! day, per day of a month, so far today) in the site's local time, and the
//! month the district asks for (visits, activities and volunteering,
//! satisfaction per service), the visits by kind (check-ins, door
//! entries, sessions per service), read for the command line, the screen
//! and the dashboard alike.

use keting_core::calendar::{SiteCalendar, Span, YearMonth};
use keting_core::time::Timestamp;
use time::Date;

use keting_store::ratings::{self, ServiceRatings};
use keting_store::reports::VisitsByKind;
use keting_store::{Store, StoreError, reports};

/// One month's figures, as the district judges a centre.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthFigures {
    /// The month.
    pub month: YearMonth,
    /// Counted visits.
    pub visits: u64,
    /// Visits on each local day.
    pub per_day: Vec<u64>,
    /// Activities held (closed by their organiser with someone there),
    /// by their start.
    pub activities: u64,
    /// Attendances at them.
    pub participants: u64,
    /// Distinct people who attended one.
    pub distinct_people: u64,
    /// Volunteer minutes confirmed at held shifts.
    pub volunteer_minutes: u64,
    /// Volunteers awarded points.
    pub volunteers: u64,
    /// Points awarded.
    pub points: i64,
    /// Ratings per service given in the month.
    pub ratings: Vec<ServiceRatings>,
}

/// The figures of `month`.
pub fn month_figures(
    store: &Store,
    calendar: SiteCalendar,
    month: YearMonth,
) -> Result<MonthFigures, StoreError> {
    let span = calendar.month_span(month);
    let per_day = reports::visits_per_day(store.conn(), calendar, month)?;
    let (_, volunteers, points) = reports::volunteering_in(store.conn(), span)?;
    let held = keting_store::activities::held_in(store.conn(), span)?;
    Ok(MonthFigures {
        month,
        visits: per_day.iter().sum(),
        per_day,
        activities: held.held,
        participants: held.participants,
        distinct_people: held.distinct_people,
        volunteer_minutes: held.volunteer_minutes,
        volunteers,
        points,
        ratings: ratings::per_service_between(store.conn(), span.start, span.end)?,
    })
}

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

/// Counted visits on the local day `day`.
pub fn visits_on(store: &Store, calendar: SiteCalendar, day: Date) -> Result<u64, StoreError> {
    reports::visits_in(store.conn(), calendar.day_span(day))
}

/// The visits of `span` by kind (check-ins, door entries, sessions used
/// per service).
pub fn visits_by_kind(store: &Store, span: Span) -> Result<VisitsByKind, StoreError> {
    reports::visits_by_kind(store.conn(), span)
}
