//! What the district dashboard and its exports read: every centre's month
//! side by side, the trend by month, a centre's days, device health and
//! open alarms. All from the rollups (and the visitor and activity sets),
//! never from the raw events.

use tokio_postgres::Client;

use crate::database::{DatabaseError, db};

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
}

impl Month {
    /// `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((2000..=2200).contains(&year) && (1..=12).contains(&month) && m.len() == 2)
            .then_some(Self { year, month })
    }

    /// The month of a day `YYYY-MM-DD`.
    pub fn of_day(day: &str) -> Option<Self> {
        Self::parse(day.get(..7)?)
    }

    /// The month before.
    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The month after.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Its first day, `YYYY-MM-01`.
    pub fn first_day(self) -> String {
        format!("{:04}-{:02}-01", self.year, self.month)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A centre's figures over a period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CentreFigures {
    /// The centre.
    pub centre: String,
    /// Counted visits (check-ins at the entrance).
    pub visits: i64,
    /// Distinct visitors, day by day, summed.
    pub visitor_days: i64,
    /// Activities held (closed by their organiser with someone there),
    /// each counted once, on the day it started.
    pub activities: i64,
    /// Attendances at them.
    pub participants: i64,
    /// Volunteer minutes at held volunteer shifts.
    pub volunteer_minutes: i64,
    /// Ratings given.
    pub ratings: i64,
    /// Their stars.
    pub stars: i64,
    /// Ratings of 4 or 5 stars.
    pub satisfied: i64,
    /// Points awarded.
    pub points_awarded: i64,
    /// Points spent.
    pub points_spent: i64,
    /// Sessions done.
    pub bookings_done: i64,
    /// Entries through doors.
    pub door_entries: i64,
    /// Alarms raised.
    pub alarms_raised: i64,
}

impl CentreFigures {
    /// The share of ratings of 4 or 5 stars, if any.
    pub fn satisfaction(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.satisfied as f64 / self.ratings as f64)
    }

    /// The average stars, if any.
    pub fn average_stars(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.stars as f64 / self.ratings as f64)
    }
}

impl std::ops::AddAssign<&CentreFigures> for CentreFigures {
    /// Adds `other`'s counts (a district's total, a trend's month).
    fn add_assign(&mut self, other: &CentreFigures) {
        self.visits += other.visits;
        self.visitor_days += other.visitor_days;
        self.activities += other.activities;
        self.participants += other.participants;
        self.volunteer_minutes += other.volunteer_minutes;
        self.ratings += other.ratings;
        self.stars += other.stars;
        self.satisfied += other.satisfied;
        self.points_awarded += other.points_awarded;
        self.points_spent += other.points_spent;
        self.bookings_done += other.bookings_done;
        self.door_entries += other.door_entries;
        self.alarms_raised += other.alarms_raised;
    }
}

const FIGURES: &str = "
    SELECT c.centre,
        coalesce(d.visits, 0)::int8, coalesce(v.n, 0)::int8, coalesce(a.n, 0)::int8,
        coalesce(d.ratings, 0)::int8, coalesce(d.stars, 0)::int8, coalesce(d.satisfied, 0)::int8,
        coalesce(d.points_awarded, 0)::int8, coalesce(d.points_spent, 0)::int8,
        coalesce(d.bookings_done, 0)::int8, coalesce(d.door_entries, 0)::int8,
        coalesce(d.alarms_raised, 0)::int8,
        coalesce(a.p, 0)::int8, coalesce(a.m, 0)::int8
    FROM centres c
    LEFT JOIN (SELECT centre, sum(visits) visits, sum(ratings) ratings, sum(stars) stars,
                      sum(satisfied) satisfied, sum(points_awarded) points_awarded,
                      sum(points_spent) points_spent, sum(bookings_done) bookings_done,
                      sum(door_entries) door_entries, sum(alarms_raised) alarms_raised
               FROM daily WHERE day >= $1::text::date AND day < $2::text::date GROUP BY centre) d
           ON d.centre = c.centre
    LEFT JOIN (SELECT centre, count(*) n FROM daily_visitors
               WHERE day >= $1::text::date AND day < $2::text::date GROUP BY centre) v ON v.centre = c.centre
    LEFT JOIN (SELECT centre, count(*) n, sum(participants) p, sum(volunteer_minutes) m FROM held_activities
               WHERE day >= $1::text::date AND day < $2::text::date GROUP BY centre) a ON a.centre = c.centre
    WHERE $3::text IS NULL OR c.centre = $3
    ORDER BY c.centre";

fn figures(r: &tokio_postgres::Row) -> CentreFigures {
    CentreFigures {
        centre: r.get(0),
        visits: r.get(1),
        visitor_days: r.get(2),
        activities: r.get(3),
        ratings: r.get(4),
        stars: r.get(5),
        satisfied: r.get(6),
        points_awarded: r.get(7),
        points_spent: r.get(8),
        bookings_done: r.get(9),
        door_entries: r.get(10),
        alarms_raised: r.get(11),
        participants: r.get(12),
        volunteer_minutes: r.get(13),
    }
}

/// Every centre's figures in `month`, by name (centres with nothing that
/// month show zeros: a silent centre is seen, not left out).
pub async fn month_by_centre(
    client: &Client,
    month: Month,
) -> Result<Vec<CentreFigures>, DatabaseError> {
    let rows = client
        .query(
            FIGURES,
            &[
                &month.first_day(),
                &month.next().first_day(),
                &None::<String>,
            ],
        )
        .await
        .map_err(db("reading the month"))?;
    Ok(rows.iter().map(figures).collect())
}

/// The district's totals per month, the `months` before `last` and it.
pub async fn trend(
    client: &Client,
    centre: Option<&str>,
    last: Month,
    months: usize,
) -> Result<Vec<(Month, CentreFigures)>, DatabaseError> {
    let mut out = Vec::with_capacity(months);
    let mut m = last;
    for _ in 0..months {
        let rows = client
            .query(
                FIGURES,
                &[
                    &m.first_day(),
                    &m.next().first_day(),
                    &centre.map(str::to_owned),
                ],
            )
            .await
            .map_err(db("reading the trend"))?;
        let mut total = CentreFigures {
            centre: centre.unwrap_or("").to_owned(),
            ..CentreFigures::default()
        };
        for f in rows.iter().map(figures) {
            total += &f;
        }
        out.push((m, total));
        m = m.previous();
    }
    out.reverse();
    Ok(out)
}

/// A centre's day.
#[derive(Clone, Debug, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Its figures.
    pub figures: CentreFigures,
}

/// `centre`'s days of `month`.
pub async fn centre_days(
    client: &Client,
    centre: &str,
    month: Month,
) -> Result<Vec<Day>, DatabaseError> {
    let rows = client
        .query(
            "SELECT d.centre, d.visits, coalesce(v.n, 0)::int8, coalesce(a.n, 0)::int8, d.ratings, d.stars,
                    d.satisfied, d.points_awarded, d.points_spent, d.bookings_done, d.door_entries, d.alarms_raised,
                    coalesce(a.p, 0)::int8, coalesce(a.m, 0)::int8, d.day::text
             FROM daily d
             LEFT JOIN (SELECT day, count(*) n FROM daily_visitors WHERE centre = $1 GROUP BY day) v ON v.day = d.day
             LEFT JOIN (SELECT day, count(*) n, sum(participants) p, sum(volunteer_minutes) m
                        FROM held_activities WHERE centre = $1 GROUP BY day) a ON a.day = d.day
             WHERE d.centre = $1 AND d.day >= $2::text::date AND d.day < $3::text::date ORDER BY d.day",
            &[&centre, &month.first_day(), &month.next().first_day()],
        )
        .await
        .map_err(db("reading a centre's days"))?;
    Ok(rows
        .iter()
        .map(|r| Day {
            day: r.get(14),
            figures: figures(r),
        })
        .collect())
}

/// Something wrong at a centre now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trouble {
    /// The centre.
    pub centre: String,
    /// The device.
    pub device: String,
    /// The alarm's kind, or `offline`.
    pub what: String,
    /// Since when (ms).
    pub since_ms: i64,
}

/// The alarms raised and not cleared, and the devices offline, newest first.
pub async fn troubles(
    client: &Client,
    centre: Option<&str>,
) -> Result<Vec<Trouble>, DatabaseError> {
    let rows = client
        .query(
            "SELECT centre, device, alarm, at_ms FROM alarm_state WHERE raised AND ($1::text IS NULL OR centre = $1)
             UNION ALL
             SELECT centre, device, 'offline', at_ms FROM device_state WHERE NOT online AND ($1::text IS NULL OR centre = $1)
             ORDER BY 4 DESC",
            &[&centre.map(str::to_owned)],
        )
        .await
        .map_err(db("reading the district's health"))?;
    Ok(rows
        .iter()
        .map(|r| Trouble {
            centre: r.get(0),
            device: r.get(1),
            what: r.get(2),
            since_ms: r.get(3),
        })
        .collect())
}

/// Each centre and when its newest event happened (ms), oldest first: a
/// centre long silent is cut off or down.
pub async fn last_heard(client: &Client) -> Result<Vec<(String, i64)>, DatabaseError> {
    let rows = client
        .query("SELECT centre, last_ms FROM centres ORDER BY last_ms", &[])
        .await
        .map_err(db("reading the centres"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_written_yyyy_mm_and_steps_across_years() {
        let m = Month::parse("2026-12").unwrap();
        assert_eq!(m.next().to_string(), "2027-01");
        assert_eq!(Month::parse("2027-01").unwrap().previous(), m);
        assert_eq!(m.first_day(), "2026-12-01");
        assert_eq!(Month::of_day("2026-12-02"), Some(m));
        for bad in ["2026-13", "2026-1", "26-12", "2026/12", "", "x-y"] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
    }
}
