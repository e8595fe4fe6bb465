//! `device-agent`: runs next to a device and drives it, as its TOML
//! configuration says. Stops cleanly (strike locked, `online: false`) on
//! SIGTERM or Ctrl-C.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use keting_core::claim::{ClaimLabel, pin_for_print};
use keting_device_agents::agent_loop::Supervision;
use keting_device_agents::claim::ClaimSetup;
use keting_device_agents::config::AgentConfig;
use keting_device_agents::run::{PANEL_FONT, PngPanel, SimHardware, run_supervised};
use keting_hardware::panel::PanelDisplay;
use keting_hardware::panel::ssd1306::Ssd1306;
use keting_hardware::panel::text::PanelFont;

/// Runs a Keting device agent (door lock, vending machine, pianos, robot).
#[derive(Debug, Parser)]
#[command(
    version,
    about = "Keting device agent: drives one device (a door: scanner, strike, contact, exit button, panel; a drinks vending machine; a bank of pianos: power relays, panels, end buttons) and talks MQTT to the kiosk.",
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
    /// Print this device's public key (made in the state directory if there
    /// is none yet) and exit: what `kiosk device trust` takes for a device
    /// set up without a claim label.
    #[arg(long, conflicts_with_all = ["check", "claim"])]
    public_key: bool,
    /// Enrol this device with a claim label's text (scanned from its QR code,
    /// or typed): makes the device's keys, and writes the configuration
    /// (--config) with the site CA's certificate and the device's own
    /// beside it once the technician confirms the PIN on the kiosk.
    #[arg(long, value_name = "LABEL_TEXT", conflicts_with = "check")]
    claim: Option<String>,
    /// With --claim: the panel that shows the PIN: none, ssd1306[:BUS[:ADDRESS]] or png:FILE.
    #[arg(long, default_value = "none", requires = "claim", value_parser = parse_claim_panel)]
    panel: ClaimPanel,
    /// With --claim: how long to wait for the confirmation, in seconds.
    #[arg(long, default_value_t = 180, requires = "claim")]
    wait: u64,
}

/// The panel named by `--panel`.
#[derive(Clone, Debug)]
enum ClaimPanel {
    None,
    Ssd1306 { bus: String, address: u8 },
    Png(PathBuf),
}

fn parse_claim_panel(s: &str) -> Result<ClaimPanel, String> {
    let bad = || format!("{s:?}: none, ssd1306, ssd1306:/dev/i2c-1:60 or png:FILE");
    match s.split_once(':') {
        None if s == "none" => Ok(ClaimPanel::None),
        None if s == "ssd1306" => Ok(ClaimPanel::Ssd1306 {
            bus: "/dev/i2c-1".into(),
            address: keting_hardware::panel::ssd1306::DEFAULT_ADDRESS,
        }),
        Some(("png", path)) if !path.is_empty() => Ok(ClaimPanel::Png(path.into())),
        Some(("ssd1306", rest)) => {
            let (bus, address) = match rest.rsplit_once(':') {
                Some((bus, a)) => (bus, a.parse().map_err(|_| bad())?),
                None => (rest, keting_hardware::panel::ssd1306::DEFAULT_ADDRESS),
            };
            Ok(ClaimPanel::Ssd1306 {
                bus: bus.into(),
                address,
            })
        }
        _ => Err(bad()),
    }
}

fn claim(cli: &Cli, text: &str) -> anyhow::Result<()> {
    let label = ClaimLabel::parse(text)?;
    let font = || PanelFont::new(PANEL_FONT);
    let panel: Option<(Box<dyn PanelDisplay>, PanelFont)> = match &cli.panel {
        ClaimPanel::None => None,
        ClaimPanel::Ssd1306 { bus, address } => {
            Some((Box::new(Ssd1306::open(bus, *address)?), font()?))
        }
        ClaimPanel::Png(path) => Some((Box::new(PngPanel::new(path.clone())), font()?)),
    };
    let device = label.device.clone();
    let setup = ClaimSetup {
        label,
        config_path: cli.config.clone(),
        panel,
        wait: std::time::Duration::from_secs(cli.wait),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let written = runtime.block_on(keting_device_agents::claim::claim(setup, |pin| {
        println!(
            "PIN {}: check that the kiosk's technician screen shows the same PIN for {device}, then confirm it there",
            pin_for_print(pin)
        );
    }))?;
    println!(
        "{device} enrolled: {} written, with ca.pem, device.pem and device.key (made here) beside it; start the agent (systemctl start keting-agent)",
        written.display()
    );
    Ok(())
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
    if let Some(text) = &cli.claim {
        return claim(&cli, text);
    }
    let config = AgentConfig::load(&cli.config)?;
    if cli.public_key {
        let key = keting_device_agents::identity::load_or_create(&config.state_dir)?;
        println!(
            "{}",
            keting_core::pass::encode_public_key(&key.verifying_key())
        );
        return Ok(());
    }
    let password = config.broker_password()?;
    if cli.check {
        // The device's key is checked too (it must be 0600), if it exists.
        let key_path = keting_device_agents::identity::key_path(&config.state_dir);
        if key_path.exists() {
            keting_device_agents::identity::load_or_create(&config.state_dir)?;
        }
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
        run_supervised(config, password, SimHardware::default(), Supervision::Systemd, shutdown).await
    })?;
    Ok(())
}
