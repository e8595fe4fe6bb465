//! `keting-district ingest`: the stream into PostgreSQL until stopped (the
//! stream and the schema made if missing), and the district dashboard
//! beside it when asked for.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use keting_district::{database, ingest, stream};
use tokio::sync::watch;

use crate::flags::{NatsFlags, ZoneFlag};

/// Take the stream into PostgreSQL until stopped (creates the stream with its replicas if it is missing, and the schema).
#[derive(Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub nats: NatsFlags,
    /// PostgreSQL, as a libpq connection string (e.g. "host=/var/run/postgresql dbname=keting_district user=keting").
    #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB")]
    pub postgres: String,
    /// The stream's replicas: 3 in production (a majority survives one server lost); 1 only for a one-server trial.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: u8,
    #[command(flatten)]
    pub zone: ZoneFlag,
    /// The durable consumer's name; a new name replays the whole stream (repeats change nothing).
    #[arg(long, value_name = "NAME", default_value = stream::INGEST_CONSUMER)]
    pub consumer: String,
    /// Stop once nothing is pending (a replay), printing what was done.
    #[arg(long)]
    pub until_drained: bool,
    /// Serve the district dashboard at HOST:PORT over plain HTTP (this machine or a trusted network only; port 0: any free port, logged).
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "https")]
    pub http: Option<std::net::SocketAddr>,
    /// Serve the district dashboard over HTTPS at HOST:PORT, with --https-cert and --https-key (its cookie then Secure).
    #[arg(
        long,
        value_name = "HOST:PORT",
        requires = "https_cert",
        requires = "https_key"
    )]
    pub https: Option<std::net::SocketAddr>,
    /// The dashboard's certificate chain (PEM, its own certificate first).
    #[arg(long, value_name = "FILE", requires = "https")]
    pub https_cert: Option<PathBuf>,
    /// The dashboard certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "https")]
    pub https_key: Option<PathBuf>,
}

/// Runs `ingest`.
pub async fn run(args: IngestArgs) -> Result<ExitCode> {
    let IngestArgs {
        nats,
        postgres,
        replicas,
        zone,
        consumer,
        until_drained,
        http,
        https,
        https_cert,
        https_key,
    } = args;
    let utc_offset = zone.minutes()?;
    let mut db = database::connect(&postgres)
        .await
        .context("cannot reach the district's PostgreSQL")?;
    let version = database::migrate(&mut db).await?;
    tracing::info!("database at schema version {version}");
    let client = keting_link::district_link::connect(&nats.login("ingest")?).await?;
    let js = async_nats::jetstream::new(client);
    let mut waited = keting_link::backoff::Backoff::default();
    let stream = loop {
        match stream::ensure_stream(&js, &nats.district, usize::from(replicas)).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!("waiting for the cluster: {e}");
                tokio::time::sleep(waited.next_wait()).await;
            }
        }
    };
    tracing::info!(
        "ingesting stream {} ({} replicas) with consumer {consumer}",
        stream.cached_info().config.name,
        stream.cached_info().config.num_replicas
    );
    let (status_tx, status) = watch::channel(ingest::IngestStatus::default());
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("stopping after this batch");
        let _ = stop_tx.send(true);
    });
    if let Some(addr) = http.or(https) {
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("the dashboard cannot listen on {addr}"))?;
        let at = listener.local_addr()?;
        let tls = match (&https_cert, &https_key) {
            (Some(cert), Some(key)) => Some(
                keting_webkit::https::server_config(&keting_webkit::https::TlsFiles {
                    chain: vec![cert.clone()],
                    key: key.clone(),
                })
                .context("the dashboard's certificate")?,
            ),
            _ => None,
        };
        let web_db = database::connect(&postgres).await?;
        let dashboard = keting_district::web::DistrictDashboard::new(
            web_db,
            &postgres,
            &nats.district,
            tls.is_some(),
            utc_offset,
        );
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!("district dashboard at {scheme}://{at}/");
        let mut stopped = stop.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let served = match tls {
                Some(tls) => {
                    keting_webkit::https::serve_router(
                        listener,
                        keting_district::web::router(dashboard),
                        tls,
                        shutdown,
                    )
                    .await
                }
                None => keting_district::web::serve(listener, dashboard, shutdown).await,
            };
            if let Err(e) = served {
                tracing::error!("district dashboard: {e}");
            }
        });
    }
    keting_link::sd_notify::tell("READY=1");
    ingest::run(
        js,
        db,
        &postgres,
        ingest::IngestConfig {
            district: nats.district.clone(),
            offset_minutes: utc_offset,
            consumer,
            until_drained,
            filter_subject: None,
        },
        status_tx,
        stop,
    )
    .await?;
    let s = status.borrow().clone();
    println!(
        "{} events written, {} repeats ignored, {} refused, in {} batches",
        s.new, s.repeats, s.refused, s.batches
    );
    Ok(ExitCode::SUCCESS)
}
