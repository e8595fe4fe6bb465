//! `keting-provision`: the technicians' tool. A thin command line over the
//! `keting_provisioning` library; `anyhow` lives here only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use keting_hardware::bus::BusAddress;
use std::time::Duration;

use keting_core::ids::DeviceId;
use keting_device_agents::run::PANEL_FONT;
use keting_hardware::panel::text::PanelFont;
use keting_link::clock::now;
use keting_provisioning::broker_session::BrokerSession;
use keting_provisioning::device::{self, NewDevice, parse_gpio};
use keting_provisioning::inventory::{self, DeviceKind};
use keting_provisioning::mosquitto_files::{self, BrokerOptions};
use keting_provisioning::site_dir::{self, SiteDir};
use keting_provisioning::{device_check, device_claim, device_list, label_image};

#[derive(Parser)]
#[command(
    name = "keting-provision",
    version,
    about = "Keting provisioning: create a site, enrol its devices each with its own identity and broker login, and write the broker's files."
)]
struct Cli {
    /// The site directory.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "./keting-site"
    )]
    site: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The site itself.
    #[command(subcommand)]
    Site(SiteCommand),
    /// The site's devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The broker's files.
    #[command(subcommand)]
    Broker(BrokerCommand),
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Create the site: its id, the key that signs passes and rosters (site.key, 0600), the broker's address.
    Init {
        /// The centre's name, e.g. 福田区某某社区党群服务中心.
        #[arg(long)]
        name: String,
        /// Where the devices find the broker (the kiosk's address on the LAN).
        #[arg(long, default_value = "192.168.1.10")]
        broker_host: String,
        /// The broker's plain port (on the broker's machine only).
        #[arg(long, default_value_t = 1883)]
        broker_port: u16,
        /// The broker's TLS port: every device, client certificates of the site CA.
        #[arg(long, default_value_t = site_dir::DEFAULT_TLS_PORT)]
        tls_port: u16,
        /// The broker's claim port: TLS without a client certificate, for devices claiming with a label.
        #[arg(long, default_value_t = site_dir::DEFAULT_CLAIM_PORT)]
        claim_port: u16,
        /// Replace an existing site (every device then needs re-provisioning).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Enrol a device: its agent configuration and its own broker login, in devices/NAME/.
    Add {
        /// What it is.
        #[arg(long, value_enum)]
        kind: DeviceKind,
        /// Its name, which becomes its device id (letters, digits, '-').
        #[arg(long)]
        name: String,
        /// Its Modbus bus: rtu:/dev/ttyUSB0@9600 or tcp:HOST:502.
        #[arg(long, value_parser = parse_bus)]
        bus: Option<BusAddress>,
        /// Its Modbus unit id.
        #[arg(long, default_value_t = 1)]
        unit: u8,
        /// A lock's relay channel on the board (1 to 8).
        #[arg(long, default_value_t = 1)]
        channel: u8,
        /// A lock's GPIO lines: strike=GPIO17,contact=GPIO27,exit=GPIO22.
        #[arg(long, value_parser = parse_gpio)]
        gpio: Option<std::collections::BTreeMap<String, String>>,
        /// A lock without the SSD1306 status panel (by default it has one on /dev/i2c-1 at 0x3C).
        #[arg(long)]
        no_panel: bool,
        /// A piano bank's pianos, on relay channels 1 to N.
        #[arg(long, default_value_t = 8)]
        pianos: u8,
    },
    /// List the devices, with what each last said on the broker (online, fault, last seen).
    List {
        /// The broker's TLS listener, if not the site's (e.g. 127.0.0.1:8883 on the broker's machine).
        #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
        broker: Option<(String, u16)>,
    },
    /// The commissioning self-test. A door: agent online, Modbus unit, each relay pulsed and read back, the board's pulse timer, contact, exit button, panel pattern. A drinks machine: it answers, its service door is closed, its stock is sensed, nothing in doubt, and with --test-vend a drink from a slot. A piano bank: every relay read back against its sessions. The robot: its status and a command that does nothing.
    Check {
        /// The device's name.
        name: String,
        /// A drinks machine: also vend one drink from this slot (take it out of the tray).
        #[arg(long, value_name = "SLOT", value_parser = clap::value_parser!(u8).range(1..=60))]
        test_vend: Option<u8>,
        /// The broker, if not the site's.
        #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
        broker: Option<(String, u16)>,
        /// How long to wait for the device's answer, in seconds.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
        timeout: u64,
    },
    /// Print a claim label: a QR code with the device's id and a one-time code that works for --window seconds; on the device, `device-agent --claim TEXT` enrols it.
    Label {
        /// The device's name.
        name: String,
        /// The label file: NAME.png or NAME.svg.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// How long the code works, in seconds.
        #[arg(long, default_value_t = device_claim::DEFAULT_WINDOW_S, value_parser = clap::value_parser!(u64).range(30..=3600))]
        window: u64,
    },
    /// Re-provision a device after a factory reset: new broker credentials, same identity and history.
    Replace {
        /// The device's name.
        name: String,
    },
    /// Retire a device: the broker refuses its login after the next `broker config`.
    Retire {
        /// The device's name.
        name: String,
    },
}

#[derive(Subcommand)]
enum BrokerCommand {
    /// Write mosquitto.conf, the password file and the ACL into DIR (e.g. /etc/mosquitto/conf.d/keting).
    Config {
        /// The directory to write to.
        #[arg(long, value_name = "DIR")]
        mosquitto: PathBuf,
        /// The address Mosquitto's TLS listeners bind (the plain one binds 127.0.0.1 only).
        #[arg(long, default_value = "0.0.0.0")]
        listen: String,
        /// Mosquitto's persistence directory (owned by the mosquitto user).
        #[arg(long, default_value = "/var/lib/mosquitto/")]
        persistence: String,
    },
}

fn parse_bus(s: &str) -> Result<BusAddress, String> {
    s.parse()
        .map_err(|e: keting_hardware::bus::BusError| e.to_string())
}

fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?}: write HOST:PORT, e.g. 192.168.1.10:1883"))?;
    let port = port
        .parse()
        .map_err(|_| format!("{s:?}: the port is a number from 1 to 65535"))?;
    if host.is_empty() || port == 0 {
        return Err(format!("{s:?}: write HOST:PORT, e.g. 192.168.1.10:1883"));
    }
    Ok((host.to_owned(), port))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keting-provision: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Site(SiteCommand::Init {
            name,
            broker_host,
            broker_port,
            tls_port,
            claim_port,
            force,
        }) => {
            let broker = site_dir::BrokerAddress {
                host: broker_host,
                port: broker_port,
                tls_port,
                claim_port,
            };
            let site = SiteDir::init(&cli.site, &name, &broker, force)?;
            println!(
                "site {} ({}) created in {}",
                site.site.id,
                site.site.name,
                cli.site.display()
            );
            println!("site.key signs passes and rosters: keep it, mode 0600, and back it up");
        }
        Command::Device(cmd) => {
            let site = SiteDir::open(&cli.site)?;
            match cmd {
                DeviceCommand::Add {
                    kind,
                    name,
                    bus,
                    unit,
                    channel,
                    gpio,
                    no_panel,
                    pianos,
                } => {
                    let new = NewDevice {
                        name,
                        kind,
                        bus,
                        unit,
                        channel,
                        gpio: gpio.unwrap_or_default(),
                        panel: !no_panel,
                        pianos,
                    };
                    let d = device::add(&site, &new)?;
                    println!(
                        "{} {} enrolled: copy {}/devices/{}/ to {} on the device; run `broker config` again",
                        d.kind.as_str(),
                        d.name,
                        cli.site.display(),
                        d.name,
                        device::INSTALL_DIR
                    );
                }
                DeviceCommand::List { broker } => {
                    let devices = inventory::load(&site.path)?;
                    let seen = runtime()?.block_on(async {
                        let mut session = BrokerSession::connect(&site, broker).await?;
                        let seen = session.devices_seen().await;
                        session.close().await;
                        seen
                    });
                    let seen = seen
                        .inspect_err(|e| eprintln!("keting-provision: {e}; status unknown"))
                        .ok();
                    print!("{}", device_list::table(&devices, seen.as_ref(), now()));
                }
                DeviceCommand::Check {
                    name,
                    test_vend,
                    broker,
                    timeout,
                } => {
                    let entry = device::enrolled(&site, &name)?;
                    let id = DeviceId::new(entry.name.clone())?;
                    let key = site.signing_key()?;
                    let outcome = runtime()?.block_on(async {
                        let mut session = BrokerSession::connect(&site, broker).await?;
                        let outcome = session
                            .self_test(&id, &key, now(), Duration::from_secs(timeout), test_vend)
                            .await;
                        session.close().await;
                        outcome
                    })?;
                    let (table, failed) = device_check::table(&entry, &outcome);
                    print!("{table}");
                    if failed > 0 {
                        eprintln!(
                            "keting-provision: {name}: {failed} check(s) failed; fix them and run `device check {name}` again"
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                    println!("{name}: every check passed; it is ready to hand over");
                }
                DeviceCommand::Label { name, out, window } => {
                    let ext = out
                        .extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_ascii_lowercase);
                    if !matches!(ext.as_deref(), Some("png" | "svg")) {
                        anyhow::bail!("--out {}: name a .png or a .svg file", out.display());
                    }
                    let t = now().as_unix_millis();
                    let label = device_claim::create(&site, &name, t, window)?;
                    let font = PanelFont::new(PANEL_FONT)?;
                    label_image::write(&out, &label, &site.site.name, window, &font)?;
                    println!(
                        "{}: label written; its code works once, for {window} s",
                        out.display()
                    );
                    match mosquitto_files::rewrite_remembered(&site, t)? {
                        Some(dir) => {
                            println!(
                                "the claim login is in {}/passwords: reload Mosquitto now (systemctl reload mosquitto)",
                                dir.display()
                            );
                        }
                        None => println!(
                            "run `keting-provision broker config --mosquitto DIR` now, so the broker lets the device in to claim"
                        ),
                    }
                    println!("on the device: device-agent --claim '{}'", label.to_text());
                }
                DeviceCommand::Replace { name } => {
                    device::replace(&site, &name)?;
                    println!(
                        "{name}: its old certificate is revoked; a new one in {}/devices/{name}/ (copy device.pem and device.key to {} on the device, or enrol it by QR: `device label {name}`)",
                        cli.site.display(),
                        device::INSTALL_DIR
                    );
                    rewrite_broker_files(&site)?;
                }
                DeviceCommand::Retire { name } => {
                    device::retire(&site, &name)?;
                    println!("{name} retired: its certificate is on the revocation list");
                    rewrite_broker_files(&site)?;
                }
            }
        }
        Command::Broker(BrokerCommand::Config {
            mosquitto,
            listen,
            persistence,
        }) => {
            let site = SiteDir::open(&cli.site)?;
            // The ports are the site's (site.toml), as the devices know them.
            let options = BrokerOptions {
                listen,
                port: site.site.broker_port,
                persistence,
                tls_port: site.site.tls_port,
                claim_port: site.site.claim_port,
            };
            let n = mosquitto_files::write(&site, &mosquitto, &options, now().as_unix_millis())?;
            println!(
                "wrote {}/mosquitto.conf, passwords and acl: the kiosk and {n} device(s); TLS on {}:{} (devices), claims on {}:{}, plain on 127.0.0.1:{}; include it from /etc/mosquitto/mosquitto.conf and reload Mosquitto",
                mosquitto.display(),
                options.listen,
                options.tls_port,
                options.listen,
                options.claim_port,
                options.port,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// After a device's login or certificate changed: the broker's files where
/// `broker config` last wrote them (logins, ACL, the revocation list), and
/// what the broker needs to take them up.
fn rewrite_broker_files(site: &SiteDir) -> Result<()> {
    match mosquitto_files::rewrite_remembered(site, now().as_unix_millis())? {
        Some(dir) => {
            println!(
                "{}: logins, ACL and revocation list rewritten; reload Mosquitto now (systemctl reload mosquitto): the device's certificate is refused at its next connection",
                dir.display()
            );
        }
        None => println!(
            "run `keting-provision broker config --mosquitto DIR` and reload Mosquitto, so the broker stops taking it"
        ),
    }
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
