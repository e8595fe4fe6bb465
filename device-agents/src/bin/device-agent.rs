//! `device-agent`: runs next to a device and drives it, as its TOML
//! configuration says. Stops cleanly (strike locked, `online: false`) on
//! SIGTERM or Ctrl-C.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use keting_device_agents::config::AgentConfig;
use keting_device_agents::run::{SimHardware, run_agent};

/// Runs a Keting device agent (door lock, vending machine, pianos, robot).
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Keting device agent: drives one device (so far a door: scanner, strike, contact, exit button, panel) and talks MQTT to the kiosk.",
    after_help = "Logs go to stderr; RUST_LOG=debug shows each scan and strike. SIGTERM or Ctrl-C stops it with the strike locked."
)]
struct Cli {
    /// The agent's configuration file (written by `keting-provision device add`).
    #[arg(
        long,
        short,
        env = "KETING_AGENT_CONFIG",
        default_value = "/etc/keting/agent.toml"
    )]
    config: PathBuf,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("device-agent: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = AgentConfig::load(&cli.config)?;
    let password = config.broker_password()?;
    if cli.check {
        println!(
            "{}: configuration OK ({} at {})",
            cli.config.display(),
            config.device,
            config.site
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            tracing::info!("stopping");
        };
        run_agent(config, password, SimHardware::default(), shutdown).await
    })?;
    Ok(())
}
