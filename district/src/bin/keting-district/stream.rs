//! `keting-district stream`: the events stream's messages, replicas and
//! leader.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use keting_district::stream;

use crate::flags::NatsFlags;

/// Show the stream: messages, replicas and the leader.
#[derive(Args)]
pub struct StreamArgs {
    #[command(flatten)]
    nats: NatsFlags,
}

/// Runs `stream`.
pub async fn run(args: StreamArgs) -> Result<ExitCode> {
    let StreamArgs { nats } = args;
    let client = keting_link::district_link::connect(&nats.login("stream")?).await?;
    let js = async_nats::jetstream::new(client);
    let mut s = js
        .get_stream(stream::stream_name(&nats.district))
        .await
        .context("no district stream (`keting-district ingest` creates it)")?;
    let info = s.info().await?;
    println!(
        "stream {}: {} messages, {} replicas, leader {}",
        info.config.name,
        info.state.messages,
        info.config.num_replicas,
        info.cluster
            .as_ref()
            .and_then(|c| c.leader.clone())
            .unwrap_or_else(|| "none".into())
    );
    Ok(ExitCode::SUCCESS)
}
