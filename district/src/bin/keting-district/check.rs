//! `keting-district check`: every day's rollups recounted from the events;
//! the days that differ printed, exit 1 if any.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use keting_district::database;

/// Recount every day's rollups from the events: prints the days that differ; exit 1 if any.
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
    let wrong = database::recount_mismatches(&db).await?;
    println!("{rows} events, {keys} distinct (centre, event id)");
    if wrong.is_empty() {
        println!("every day's rollups equal a recount of its events");
        Ok(ExitCode::SUCCESS)
    } else {
        for (centre, day) in &wrong {
            println!("differs from its recount: {centre} {day}");
        }
        Ok(ExitCode::from(1))
    }
}
