//! `keting-district repair`: one centre's events read from the stream
//! again into PostgreSQL (what is held already changes nothing), then its
//! tallies counted again and what is still missing printed.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use keting_district::{database, ingest, stream, tallies};
use tokio::sync::watch;

use crate::flags::{NatsFlags, ZoneFlag};

/// Read one centre's events from the stream again into PostgreSQL (what is held changes nothing), then say what is still missing; exit 1 if any.
#[derive(Args)]
pub struct RepairArgs {
    #[command(flatten)]
    nats: NatsFlags,
    /// PostgreSQL, as a libpq connection string.
    #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB")]
    postgres: String,
    #[command(flatten)]
    zone: ZoneFlag,
    /// The centre whose events to read again (its name on the wire, as `check` prints it).
    #[arg(long, value_name = "CENTRE")]
    centre: String,
}

/// Runs `repair`.
pub async fn run(args: RepairArgs) -> Result<ExitCode> {
    let RepairArgs {
        nats,
        postgres,
        zone,
        centre,
    } = args;
    anyhow::ensure!(
        keting_core::district::valid_name(&centre),
        "--centre {centre:?}: a centre's name is 1 to 32 of a-z, 0-9 and -"
    );
    let utc_offset = zone.minutes()?;
    let mut db = database::connect(&postgres)
        .await
        .context("cannot reach the district's PostgreSQL")?;
    database::migrate(&mut db).await?;
    let client = keting_link::district_link::connect(&nats.login("repair")?).await?;
    let js = async_nats::jetstream::new(client);
    let stream_name = stream::stream_name(&nats.district);
    let events = js
        .get_stream(&stream_name)
        .await
        .context("no district stream (`keting-district ingest` creates it)")?;
    let consumer = format!("repair-{centre}-{}", crate::flags::now_ms());
    let subject = keting_core::district::events_subject(&nats.district, &centre);
    eprintln!("reading {centre}'s events from stream {stream_name} again");
    let (status_tx, status) = watch::channel(ingest::IngestStatus::default());
    let (_stop_tx, stop) = watch::channel(false);
    let read = ingest::run(
        js,
        db,
        &postgres,
        ingest::IngestConfig {
            district: nats.district.clone(),
            offset_minutes: utc_offset,
            consumer: consumer.clone(),
            until_drained: true,
            filter_subject: Some(subject),
        },
        status_tx,
        stop,
    )
    .await;
    if let Err(e) = events.delete_consumer(&consumer).await {
        tracing::warn!("the repair's consumer {consumer} stays until it expires (5 minutes): {e}");
    }
    read?;
    let s = status.borrow().clone();
    println!(
        "{} events written, {} held already, {} refused",
        s.new, s.repeats, s.refused
    );
    let db = database::connect(&postgres).await?;
    tallies::recount(&db, Some(&centre)).await?;
    let missing: Vec<_> = tallies::missing(&db, None)
        .await?
        .into_iter()
        .filter(|m| m.centre == centre)
        .collect();
    if missing.is_empty() {
        println!("no events of {centre} missing");
        return Ok(ExitCode::SUCCESS);
    }
    for m in &missing {
        println!(
            "still missing: {} {}..{}{}: not in the stream either (older than it keeps, or never stored); the centre's own database has them",
            m.centre,
            m.from_id,
            m.through_id,
            m.count
                .map(|n| format!(" ({n} events)"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::from(1))
}
