//! Builds an agent from its [`AgentConfig`] and runs it: the link, the
//! hardware the file names, and the door loop.
//!
//! The kiosk's demo site runs the same code in its own process with
//! simulated hardware ([`SimHardware`]).

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use keting_core::calendar::SiteCalendar;
use keting_core::door::access::AccessPolicy;
use keting_core::door::lock::{FailMode, LockConfig};
use keting_core::pass::PassVerifier;
use keting_core::topics::{DeviceChannel, Topic};
use keting_hardware::gpio::sim::SimGpio;
use keting_hardware::gpio::{InputLine, LineSpec};
use keting_hardware::gpio_cdev::{CdevInput, CdevOutput};
use keting_hardware::panel::sim::SimPanel;
use keting_hardware::panel::ssd1306::Ssd1306;
use keting_hardware::panel::text::PanelFont;
use keting_hardware::panel::{PanelDisplay, PanelError, PanelFrame};
use keting_hardware::scanner::evdev_wedge::EvdevScanner;
use keting_hardware::scanner::serial::SerialScanner;
use thiserror::Error;
use tokio::sync::mpsc;

use crate::agent_loop::Supervision;
use crate::config::{
    AgentConfig, DeviceSection, DoorConfig, FailConfig, GpioKind, PanelConfig, PianoBankConfig,
    ScannerConfig, StrikeConfig, parse_hhmm,
};
use crate::door::agent::{DoorAgent, DoorSetup};
use crate::door::alarm_output::AlarmOutput;
use crate::door::inputs::{self, DoorInput};
use crate::door::roster_file::RosterFile;
use crate::door::strike::{BoardTimer, Strike};
use crate::piano::agent::{Piano, PianoBankAgent, PianoBankSetup, PianoInput};
use crate::piano::sessions_file::SessionsFile;
use crate::reader::agent::{ReaderAgent, ReaderSetup};
use crate::robot::agent::{RobotAgent, RobotSetup};
use crate::vending::agent::{VendingAgent, VendingSetup};
use crate::vending::vend_log::VendLog;
use keting_link::command_guard::CommandGuard;
use keting_link::connection::{self, LinkConfig};
use keting_link::device_topics::DeviceTopics;
use keting_link::outbox::{Outbox, OutboxError};

/// The font the panels draw with (the hardware crate's, bundled).
pub use keting_hardware::panel::text::PANEL_FONT;

/// Why the agent could not start.
#[derive(Debug, Error)]
pub enum AgentError {
    /// The state directory or the outbox.
    #[error("state directory {path}: {message}")]
    State {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The outbox database.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The device's own key is missing, unreadable or readable by others.
    #[error("{0}")]
    Identity(String),
    /// A piece of hardware could not be opened.
    #[error("{0}")]
    Hardware(String),
}

/// The simulated hardware of an agent whose configuration says `sim`, for
/// whoever runs it in-process to drive and watch.
#[derive(Clone, Debug, Default)]
pub struct SimHardware {
    /// The GPIO chip (contact, exit button, GPIO strike).
    pub gpio: SimGpio,
    /// The panel.
    pub panel: SimPanel,
}

/// A simulated panel that also writes every frame to a PNG file.
pub struct PngPanel {
    sim: SimPanel,
    path: PathBuf,
}

impl PngPanel {
    /// A panel drawn to `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            sim: SimPanel::default(),
            path,
        }
    }
}

impl PanelDisplay for PngPanel {
    fn show(&mut self, frame: &PanelFrame) -> Result<(), PanelError> {
        self.sim.show(frame)?;
        let tmp = self.path.with_extension("png.tmp");
        frame
            .write_png(&tmp, 4)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| PanelError::Bus(format!("{}: {e}", self.path.display())))
    }
}

/// Runs the agent described by `config` until `shutdown` completes, in a
/// process of its own or another's (the centre's demo, a test): nobody's
/// readiness or watchdog is told.
pub async fn run_agent(
    config: AgentConfig,
    password: Option<String>,
    sim: SimHardware,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    run_supervised(config, password, sim, Supervision::None, shutdown).await
}

/// The outbox in the state directory; if it cannot be opened there (a
/// read-only or full SD card at boot), one in memory, said loudly: the
/// device goes on deciding alone (a door with the roster it kept), and
/// its events wait for the broker in memory instead of on the card.
fn open_outbox(state_dir: &std::path::Path) -> Result<Outbox, AgentError> {
    let path = state_dir.join("outbox.db");
    match Outbox::open(&path) {
        Ok(outbox) => Ok(outbox),
        Err(e) => {
            tracing::error!(
                "the outbox {} cannot be opened ({e}): is the card read-only or full? \
                 Events are kept in memory until this agent restarts; the device goes on deciding",
                path.display()
            );
            Ok(Outbox::in_memory()?)
        }
    }
}

/// Runs the agent as the `device-agent` program does, under `supervision`
/// (systemd: READY once started, the watchdog fed from its loop).
pub async fn run_supervised(
    config: AgentConfig,
    password: Option<String>,
    sim: SimHardware,
    supervision: Supervision,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    std::fs::create_dir_all(&config.state_dir).map_err(|e| AgentError::State {
        path: config.state_dir.clone(),
        message: e.to_string(),
    })?;
    let outbox = open_outbox(&config.state_dir)?;
    let (site, device) = (&config.site, &config.device);
    let guard = CommandGuard::open(
        config.site_public_key,
        device.clone(),
        Some(config.state_dir.join("command-window.json")),
    );
    let identity = crate::identity::load_or_create(&config.state_dir)
        .map_err(|e| AgentError::Identity(e.to_string()))?;
    let topics = DeviceTopics::new(site.clone(), device.clone(), guard, identity);
    let subscriptions = match &config.section {
        DeviceSection::Door(door) => topics.door_subscriptions(
            matches!(door.scanner, ScannerConfig::Sim),
            matches!(door.exit_scanner, Some(ScannerConfig::Sim)),
            door.gpio == GpioKind::Sim,
        ),
        DeviceSection::Reader(reader) => {
            topics.door_subscriptions(matches!(reader.scanner, ScannerConfig::Sim), false, false)
        }
        _ => topics.command_subscriptions(),
    };
    let link_config = link_config(&config, password, subscriptions)?;
    // The hardware is opened before the link starts, so a configuration
    // naming a device that is not there fails before anything goes online.
    match &config.section {
        DeviceSection::Vending(vending) => {
            let log = VendLog::open(&config.state_dir.join("vends.db"))
                .map_err(|e| AgentError::Hardware(e.to_string()))?;
            let setup = VendingSetup {
                site: site.clone(),
                device: device.clone(),
                bus: vending.bus.clone(),
                unit: vending.unit,
                vend_limit: Duration::from_secs(vending.vend_limit_s),
                log,
            };
            let (link, link_events, link_task) = connection::spawn(link_config, outbox);
            tracing::info!(%site, %device, "vending agent running");
            VendingAgent::new(setup, topics, link)
                .run(link_events, supervision, shutdown)
                .await;
            let _ = link_task.await;
        }
        DeviceSection::PianoBank(bank) => {
            let (inputs_tx, inputs_rx) = mpsc::channel(64);
            let setup = piano_bank_setup(&config, bank, &sim, inputs_tx)?;
            let (link, link_events, link_task) = connection::spawn(link_config, outbox);
            tracing::info!(%site, %device, pianos = bank.pianos.len(), "piano bank agent running");
            PianoBankAgent::new(setup, topics, link)
                .run(inputs_rx, link_events, supervision, shutdown)
                .await;
            let _ = link_task.await;
        }
        DeviceSection::Robot(robot) => {
            let setup = RobotSetup {
                site: site.clone(),
                device: device.clone(),
                bus: robot.bus.clone(),
                unit: robot.unit,
                program: robot.program,
                file: SessionsFile::named(&config.state_dir, "robot-sessions.json"),
            };
            let (link, link_events, link_task) = connection::spawn(link_config, outbox);
            tracing::info!(%site, %device, "robot agent running");
            RobotAgent::new(setup, topics, link)
                .run(link_events, supervision, shutdown)
                .await;
            let _ = link_task.await;
        }
        DeviceSection::Reader(reader) => {
            let (inputs_tx, inputs_rx) = mpsc::channel(64);
            let hw = |what: &str, e: &dyn std::fmt::Display| {
                AgentError::Hardware(format!("{what}: {e}"))
            };
            match &reader.scanner {
                ScannerConfig::Evdev { device } => inputs::spawn_scanner(
                    EvdevScanner::open(device).map_err(|e| hw("reader.scanner", &e))?,
                    inputs_tx,
                ),
                ScannerConfig::Serial { path, baud } => inputs::spawn_scanner(
                    SerialScanner::open(path, *baud).map_err(|e| hw("reader.scanner", &e))?,
                    inputs_tx,
                ),
                ScannerConfig::Sim => {}
            }
            let panel = match open_panel(&reader.panel, &sim.panel, "reader.panel")? {
                Some(p) => Some((
                    p,
                    PanelFont::new(PANEL_FONT).map_err(|e| hw("panel font", &e))?,
                )),
                None => None,
            };
            let setup = ReaderSetup {
                passes: PassVerifier::new(site.clone(), config.site_public_key),
                panel,
                sim_scans: matches!(reader.scanner, ScannerConfig::Sim),
            };
            let (link, link_events, link_task) = connection::spawn(link_config, outbox);
            tracing::info!(%site, %device, "reader agent running");
            ReaderAgent::new(setup, topics, link)
                .run(inputs_rx, link_events, supervision, shutdown)
                .await;
            let _ = link_task.await;
        }
        DeviceSection::Door(door) => {
            let sim_scans = matches!(door.scanner, ScannerConfig::Sim);
            let (inputs_tx, inputs_rx) = mpsc::channel(64);
            let setup = door_setup(&config, door, &sim, sim_scans, inputs_tx)?;
            let (link, link_events, link_task) = connection::spawn(link_config, outbox);
            tracing::info!(%site, %device, "door agent running");
            DoorAgent::new(setup, topics, link)
                .run(inputs_rx, link_events, supervision, shutdown)
                .await;
            // The agent dropped its link handle: the link says goodbye and ends.
            let _ = link_task.await;
        }
    }
    Ok(())
}

/// Opens the panel `config` names; `sim` is the simulated panel to use.
fn open_panel(
    config: &PanelConfig,
    sim: &SimPanel,
    key: &str,
) -> Result<Option<Box<dyn PanelDisplay>>, AgentError> {
    Ok(match config {
        PanelConfig::None => None,
        PanelConfig::Sim => Some(Box::new(sim.clone())),
        PanelConfig::Ssd1306 { i2c, address } => Some(Box::new(
            Ssd1306::open(i2c, *address)
                .map_err(|e| AgentError::Hardware(format!("{key}: {e}")))?,
        )),
        PanelConfig::Png { path } => Some(Box::new(PngPanel {
            sim: sim.clone(),
            path: path.clone(),
        })),
    })
}

fn piano_bank_setup(
    config: &AgentConfig,
    bank: &PianoBankConfig,
    sim: &SimHardware,
    inputs: mpsc::Sender<PianoInput>,
) -> Result<PianoBankSetup, AgentError> {
    let mut pianos = Vec::new();
    for (i, p) in bank.pianos.iter().enumerate() {
        // Each simulated piano has a panel of its own.
        let sim_panel = if i == 0 {
            sim.panel.clone()
        } else {
            SimPanel::default()
        };
        let key = format!("piano_bank.pianos[{i}].panel");
        let panel = open_panel(&p.panel, &sim_panel, &key)?;
        if let Some(button) = &p.button {
            let spec = LineSpec {
                name: button.line.clone(),
                active_low: button.active_low,
            };
            let channel = p.channel;
            let to = inputs.clone();
            match bank.gpio {
                GpioKind::Sim => spawn_button(sim.gpio.input(&spec), channel, to),
                GpioKind::Cdev => spawn_button(
                    CdevInput::request(spec, Duration::from_millis(20)).map_err(|e| {
                        AgentError::Hardware(format!("piano_bank.pianos[{i}].button: {e}"))
                    })?,
                    channel,
                    to,
                ),
            }
        }
        pianos.push(Piano {
            channel: p.channel,
            name: p.name.clone(),
            panel,
        });
    }
    let font = if pianos.iter().any(|p| p.panel.is_some()) {
        Some(
            PanelFont::new(PANEL_FONT)
                .map_err(|e| AgentError::Hardware(format!("panel font: {e}")))?,
        )
    } else {
        None
    };
    Ok(PianoBankSetup {
        site: config.site.clone(),
        device: config.device.clone(),
        bus: bank.bus.clone(),
        unit: bank.unit,
        warn: Duration::from_secs(bank.warn_minutes * 60),
        pianos,
        font,
        file: SessionsFile::in_dir(&config.state_dir),
    })
}

/// Forwards presses of a piano's "end" button.
fn spawn_button<L: InputLine + 'static>(mut line: L, channel: u8, to: mpsc::Sender<PianoInput>) {
    tokio::spawn(async move {
        loop {
            match line.changed().await {
                Ok(true) => {
                    if to.send(PianoInput::EndButton(channel)).await.is_err() {
                        return;
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    let _ = to
                        .send(PianoInput::Failed(format!("piano {channel} button: {e}")))
                        .await;
                    return;
                }
            }
        }
    });
}

/// The link of the agent described by `config`.
fn link_config(
    config: &AgentConfig,
    password: Option<String>,
    subscriptions: Vec<String>,
) -> Result<LinkConfig, AgentError> {
    let (site, device) = (&config.site, &config.device);
    let tls = match &config.broker.tls {
        Some(t) => Some(
            keting_link::tls::LinkTls::from_files(&keting_link::tls::TlsFiles {
                ca: t.ca.clone(),
                cert: t.cert.clone(),
                key: t.key.clone(),
            })
            .map_err(|e| AgentError::Identity(e.to_string()))?,
        ),
        None => None,
    };
    Ok(LinkConfig {
        host: config.broker.host.clone(),
        port: config.broker.port,
        client_id: format!("keting-{site}-{device}"),
        credentials: config.broker.username.clone().zip(password),
        online_topic: Topic::Device(device.clone(), DeviceChannel::Online).name(site),
        birth: keting_link::connection::ONLINE.to_vec(),
        subscriptions,
        keep_alive: Duration::from_secs(config.broker.keep_alive_s.max(2)),
        persistent_session: true,
        tls,
    })
}

fn door_setup(
    config: &AgentConfig,
    door: &DoorConfig,
    sim: &SimHardware,
    sim_scans: bool,
    inputs: mpsc::Sender<DoorInput>,
) -> Result<DoorSetup, AgentError> {
    let hw = |what: &str, e: &dyn std::fmt::Display| AgentError::Hardware(format!("{what}: {e}"));
    let strike = match &door.strike {
        StrikeConfig::Relay {
            bus,
            unit,
            channel,
            board_timer,
        } => Strike::relay(
            bus.clone(),
            *unit,
            *channel,
            board_timer.then(|| BoardTimer {
                pulse: Duration::from_millis(door.pulse_ms),
                at_rest: match door.fail {
                    FailConfig::Secure => FailMode::FailSecure,
                    FailConfig::Safe => FailMode::FailSafe,
                }
                .relay_energized(false),
            }),
        ),
        StrikeConfig::Gpio { line, active_low } => {
            let spec = LineSpec {
                name: line.clone(),
                active_low: *active_low,
            };
            match door.gpio {
                GpioKind::Sim => Strike::Gpio(Box::new(sim.gpio.output(&spec))),
                GpioKind::Cdev => Strike::Gpio(Box::new(
                    CdevOutput::request(spec).map_err(|e| hw("door.strike", &e))?,
                )),
            }
        }
    };
    for (input, wrap, name) in [
        (
            &door.contact,
            DoorInput::Contact as fn(bool) -> DoorInput,
            "door.contact",
        ),
        (&door.exit_button, DoorInput::ExitButton, "door.exit_button"),
        (&door.help_button, DoorInput::HelpButton, "door.help_button"),
        (&door.fire_input, DoorInput::Fire, "door.fire_input"),
    ] {
        let Some(input) = input else { continue };
        let spec = LineSpec {
            name: input.line.clone(),
            active_low: input.active_low,
        };
        match door.gpio {
            GpioKind::Sim => inputs::spawn_line(sim.gpio.input(&spec), wrap, name, inputs.clone()),
            GpioKind::Cdev => inputs::spawn_line(
                CdevInput::request(spec, Duration::from_millis(20)).map_err(|e| hw(name, &e))?,
                wrap,
                name,
                inputs.clone(),
            ),
        }
    }
    match &door.scanner {
        ScannerConfig::Evdev { device } => inputs::spawn_scanner(
            EvdevScanner::open(device).map_err(|e| hw("door.scanner", &e))?,
            inputs.clone(),
        ),
        ScannerConfig::Serial { path, baud } => inputs::spawn_scanner(
            SerialScanner::open(path, *baud).map_err(|e| hw("door.scanner", &e))?,
            inputs.clone(),
        ),
        // Scans arrive on the sim topic, through the link.
        ScannerConfig::Sim => {}
    }
    match &door.exit_scanner {
        Some(ScannerConfig::Evdev { device }) => inputs::spawn_exit_scanner(
            EvdevScanner::open(device).map_err(|e| hw("door.exit_scanner", &e))?,
            inputs.clone(),
        ),
        Some(ScannerConfig::Serial { path, baud }) => inputs::spawn_exit_scanner(
            SerialScanner::open(path, *baud).map_err(|e| hw("door.exit_scanner", &e))?,
            inputs.clone(),
        ),
        // Scans arrive on the sim exit topic, through the link.
        Some(ScannerConfig::Sim) | None => {}
    }
    let font = || PanelFont::new(PANEL_FONT).map_err(|e| hw("panel font", &e));
    let panel = match open_panel(&door.panel, &sim.panel, "door.panel")? {
        Some(p) => Some((p, font()?)),
        None => None,
    };
    let night =
        |s: &str| parse_hhmm(s).ok_or_else(|| AgentError::Hardware(format!("bad time {s:?}")));
    let policy = AccessPolicy {
        night_starts: night(&door.night_starts)?,
        night_ends: night(&door.night_ends)?,
        anti_passback: Duration::from_secs(door.anti_passback_s),
        ..AccessPolicy::default()
    };
    let calendar = SiteCalendar::with_offset_minutes(door.utc_offset_minutes)
        .map_err(|e| AgentError::Hardware(format!("door.utc_offset_minutes: {e}")))?;
    Ok(DoorSetup {
        site: config.site.clone(),
        device: config.device.clone(),
        passes: PassVerifier::new(config.site.clone(), config.site_public_key),
        roster_key: config.site_public_key,
        policy,
        calendar,
        lock: LockConfig {
            pulse: Duration::from_millis(door.pulse_ms),
            held_open_after: Duration::from_secs(door.held_open_s),
        },
        fail: match door.fail {
            FailConfig::Secure => FailMode::FailSecure,
            FailConfig::Safe => FailMode::FailSafe,
        },
        strike,
        panel,
        roster_file: RosterFile::in_dir(&config.state_dir),
        sim_scans,
        sim_exit_scans: matches!(door.exit_scanner, Some(ScannerConfig::Sim)),
        sim_contact: door.gpio == GpioKind::Sim,
        sim_gpio: (door.gpio == GpioKind::Sim).then(|| sim.gpio.clone()),
        panel_name: match &door.panel {
            PanelConfig::None => "not fitted".into(),
            PanelConfig::Sim => "simulated".into(),
            PanelConfig::Png { path } => format!("simulated, drawn to {}", path.display()),
            PanelConfig::Ssd1306 { i2c, address } => format!("SSD1306 {address:#04x} on {i2c}"),
        },
        alarm_output: door
            .alarm_output
            .as_ref()
            .map(|o| AlarmOutput::relay(o.bus.clone(), o.unit, o.channel)),
        contact_line: door.contact.as_ref().map(|l| l.line.clone()),
        exit_line: door.exit_button.as_ref().map(|l| l.line.clone()),
        fire_line: door.fire_input.as_ref().map(|l| l.line.clone()),
        help_siren: Duration::from_secs(door.help_siren_s),
    })
}
