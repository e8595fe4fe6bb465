//! `keting-district check`: what PostgreSQL holds against what the centres
//! say they sent (their tallies, counted again), and every day's rollups
//! recounted from the events; each range missing events and each day that
//! differs printed, exit 1 if any.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use keting_district::{database, tallies};

/// Hold the database against the centres' own counts, and the rollups against a recount: exit 1 if events are missing or a day differs.
#[derive(Args)]
pub struct CheckArgs {
    /// PostgreSQL, as a libpq connection string.
    #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB")]
    postgres: String,
}

/// Runs `check`.
pub async fn run(args: CheckArgs) -> Result<ExitCode> {
    let CheckArgs { postgres } = args;
    let db = database::connect(&postgres)
        .await
        .context("cannot reach the district's PostgreSQL")?;
    let (rows, keys) = database::event_counts(&db).await?;
    println!("{rows} events, {keys} distinct (centre, event id)");
    tallies::recount(&db, None).await?;
    let missing = tallies::missing(&db, None).await?;
    print_missing(&db, &missing).await?;
    let wrong = database::recount_mismatches(&db).await?;
    if wrong.is_empty() {
        println!("every day's rollups equal a recount of its events");
    }
    for (centre, day) in &wrong {
        println!("differs from its recount: {centre} {day}");
    }
    Ok(if wrong.is_empty() && missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One line per range missing events, or one saying none is.
pub async fn print_missing(db: &database::Client, missing: &[tallies::Missing]) -> Result<()> {
    if missing.is_empty() {
        let (n, sent) = tallies::totals(db).await?;
        println!(
            "no events missing: {n} tallies from the centres, {sent} events they sent, all held"
        );
        return Ok(());
    }
    for m in missing {
        match m.count {
            Some(n) => println!(
                "events missing: {} {}..{}: {n} of the events the centre sent are not held (keting-district repair --centre {})",
                m.centre, m.from_id, m.through_id, m.centre
            ),
            None => println!(
                "events missing: {} {}..{}: neither these events nor the centre's count of them are held (keting-district repair --centre {})",
                m.centre, m.from_id, m.through_id, m.centre
            ),
        }
    }
    Ok(())
}
