//! `kiosk stats`: visits per hour of a day, or per day of a month beside
//! the activities held that day, their participants and volunteer hours;
//! as a table or CSV.

use std::io::Write;

use anyhow::Result;
use keting_centre::clock;
use keting_core::calendar::{YearMonth, parse_date};
use keting_desk as desk;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;

pub fn stats_command(
    store: &Store,
    site: &SiteRecord,
    day: Option<String>,
    month: Option<String>,
    csv: bool,
) -> Result<()> {
    let cal = site.calendar;
    let offset = format_offset(cal.offset_minutes());
    if let Some(month) = month {
        let month: YearMonth = month.parse()?;
        return month_command(store, cal, month, &offset, csv);
    }
    let (title, label, rows) = {
        let date = match day {
            Some(d) => parse_date(&d)?,
            None => cal.date_of(clock::now()),
        };
        let per_hour = desk::reports::visits_per_hour(store, cal, date)?;
        let rows: Vec<(String, u64)> = per_hour
            .into_iter()
            .enumerate()
            .map(|(h, n)| (format!("{h:02}:00"), n))
            .collect();
        (format!("Visits on {date} ({offset})"), "hour", rows)
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if csv {
        writeln!(out, "{label},visits")?;
        for (k, n) in &rows {
            writeln!(out, "{k},{n}")?;
        }
        return Ok(());
    }
    let total: u64 = rows.iter().map(|(_, n)| n).sum();
    let peak = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    writeln!(out, "{title}: {total} in all")?;
    writeln!(out, "{label:<10} {:>6}", "visits")?;
    for (k, n) in &rows {
        let bar = "#".repeat(usize::try_from(n * 40 / peak).unwrap_or(40));
        writeln!(out, "{k:<10} {n:>6}  {bar}")?;
    }
    Ok(())
}

/// One day of a month: visits, and the activities that started that day
/// and were held.
fn month_command(
    store: &Store,
    cal: keting_core::calendar::SiteCalendar,
    month: YearMonth,
    offset: &str,
    csv: bool,
) -> Result<()> {
    let per_day = desk::reports::visits_per_day(store, cal, month)?;
    let mut rows = Vec::with_capacity(per_day.len());
    for (i, visits) in per_day.into_iter().enumerate() {
        let day = month.first_day() + time::Duration::days(i as i64);
        let held = desk::activities::held_in(store, cal.day_span(day))?;
        rows.push((day, visits, held));
    }
    let hours = |minutes: u64| format!("{:.1}", minutes as f64 / 60.0);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if csv {
        writeln!(
            out,
            "day,visits,activities_held,participants,volunteer_hours"
        )?;
        for (day, visits, h) in &rows {
            writeln!(
                out,
                "{day},{visits},{},{},{}",
                h.held,
                h.participants,
                hours(h.volunteer_minutes)
            )?;
        }
        return Ok(());
    }
    let total = desk::reports::month_figures(store, cal, month)?;
    writeln!(
        out,
        "{month} ({offset}): {} visits, {} activities held, {} participants ({} people), {} volunteer hours",
        total.visits,
        total.activities,
        total.participants,
        total.distinct_people,
        hours(total.volunteer_minutes)
    )?;
    let peak = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    writeln!(
        out,
        "{:<10} {:>6} {:>6} {:>6} {:>6}",
        "day", "visits", "held", "people", "hours"
    )?;
    for (day, visits, h) in &rows {
        let bar = "#".repeat(usize::try_from(visits * 30 / peak).unwrap_or(30));
        writeln!(
            out,
            "{:<10} {visits:>6} {:>6} {:>6} {:>6}  {bar}",
            day.to_string(),
            h.held,
            h.participants,
            hours(h.volunteer_minutes)
        )?;
    }
    Ok(())
}

pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    format!(
        "UTC{sign}{:02}:{:02}",
        minutes.abs() / 60,
        minutes.abs() % 60
    )
}
