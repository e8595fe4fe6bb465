//! `keting-district`: the district's service, one module per subcommand.
//! `ingest` takes every centre's events from the district's JetStream
//! stream into PostgreSQL (and serves the district dashboard); `user` the
//! dashboard's users; `check` holds the database against the centres'
//! own counts and recounts the rollups; `repair` reads a centre's events
//! again; `enrol` issues the
//! centres' keys; `notice` tells the centres something; `stream` shows the
//! stream. `flags` holds what several take (the cluster, the time zone,
//! the clock). `anyhow` lives in the binaries only.

mod check;
mod enrol;
mod flags;
mod ingest;
mod notice;
mod repair;
mod stream;
mod user;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "keting-district",
    version,
    about = "The district's service: every centre's events from the NATS JetStream cluster into PostgreSQL, once.",
    after_help = "Logs go to standard error (KETING_LOG=debug for more). Stop `ingest` with Ctrl-C or SIGTERM: \
                  it finishes the batch it is writing, and what it had not acknowledged comes again."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Take the stream into PostgreSQL until stopped (creates the stream with its replicas if it is missing, and the schema).
    Ingest(ingest::IngestArgs),
    /// The district dashboard's users: add one (the password from standard input, or typed twice at a terminal), list them, remove one.
    User(user::UserArgs),
    /// Hold the database against the centres' own counts, and the rollups against a recount: exit 1 if events are missing or a day differs.
    Check(check::CheckArgs),
    /// Read one centre's events from the stream again into PostgreSQL (what is held changes nothing), then say what is still missing; exit 1 if any.
    Repair(repair::RepairArgs),
    /// Issue NKeys: one per centre named (its seed 0600 and its district.toml in OUT/CENTRE/), the ingest's (OUT/ingest.nk) if missing, and OUT/authorization.conf for the three nats-server configurations, covering every centre under OUT. Centres enrolled before keep their keys.
    Enrol(enrol::EnrolArgs),
    /// Tell the centres something: an announcement for the kiosks' home page, an activity on the programme, a lost card to refuse. To every centre heard from, or to those named with --centre.
    Notice(notice::NoticeArgs),
    /// Show the stream: messages, replicas and the leader.
    Stream(stream::StreamArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KETING_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,async_nats=warn,tokio_postgres=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keting-district: cannot start its runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keting-district: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => ingest::run(args).await,
        Command::User(args) => user::run(args).await,
        Command::Check(args) => check::run(args).await,
        Command::Repair(args) => repair::run(args).await,
        Command::Enrol(args) => enrol::run(args).await,
        Command::Notice(args) => notice::run(args).await,
        Command::Stream(args) => stream::run(args).await,
    }
}
