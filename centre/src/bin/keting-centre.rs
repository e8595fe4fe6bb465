//! `keting-centre`: the centre as a service, without the touch screen: the
//! MQTT broker (embedded, or Mosquitto named with `--mqtt-url`), the door
//! roster, device events, sessions, claims, and the demo site's devices.
//! The same centre the kiosk runs in-process (`kiosk --headless` runs this
//! too; the Debian package installs `keting-centre` as a link to `kiosk`,
//! which called so is `kiosk --headless`, so the Pi maps one program for
//! the centre and its screen). `anyhow` lives in the binaries only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use keting_centre::clock;
use keting_centre::data_dir::DataDir;
use keting_centre::service::Centre;
use keting_centre::service::flags::ServiceFlags;
use keting_centre::site::{self, NewSite};
use keting_store::Store;

#[derive(Parser)]
#[command(
    name = "keting-centre",
    version,
    about = "Keting's centre as a service: the MQTT broker, the door roster, device events, sessions and claims, with no window.",
    after_help = "Stop with Ctrl-C or SIGTERM. On an empty data directory it creates the demo site with its \
                  simulated devices (--no-demo-devices to leave them out); `kiosk site import` takes over a \
                  provisioned site. The staff's commands are `kiosk --help`."
)]
struct Cli {
    /// Where the centre keeps its database and the site key [default: $XDG_DATA_HOME/keting, or ~/.local/share/keting]
    #[arg(long, value_name = "DIR", env = "KETING_DATA")]
    data: Option<PathBuf>,

    #[command(flatten)]
    service: ServiceFlags,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KETING_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keting-centre: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let data = match cli.data {
        Some(d) => d,
        None => DataDir::default_path()?,
    };
    let dir = DataDir::prepare(data)?;
    let mut store = Store::open(&dir.database())
        .with_context(|| format!("cannot open the database {}", dir.database().display()))?;
    let site = site::open_or_create(&mut store, &dir, NewSite::Demo, clock::now())?;
    drop(store);
    let centre = Centre::start(cli.service.config(&dir, &site)?)?;
    let (host, port) = &centre.broker;
    tracing::info!(
        "centre ready: site {}, MQTT broker at {host}:{port}",
        site.site_id
    );
    centre.run_until_terminated()?;
    Ok(())
}
