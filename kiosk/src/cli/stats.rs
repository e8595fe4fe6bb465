//! `kiosk stats`: visits per hour of a day or per day of a month, as a table or CSV.

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
    let (title, label, rows) = if let Some(month) = month {
        let month: YearMonth = month.parse()?;
        let per_day = desk::reports::visits_per_day(store, cal, month)?;
        let rows: Vec<(String, u64)> = per_day
            .into_iter()
            .enumerate()
            .map(|(i, n)| (format!("{month}-{:02}", i + 1), n))
            .collect();
        (format!("Visits in {month} ({offset})"), "day", rows)
    } else {
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

pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    format!(
        "UTC{sign}{:02}:{:02}",
        minutes.abs() / 60,
        minutes.abs() % 60
    )
}
