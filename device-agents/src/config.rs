//! The agent's configuration file (TOML), as `keting-provision` writes it.
//!
//! Unknown keys are refused, so a misspelt key is an error naming it (with
//! its line), not a silently ignored setting. Secrets are never inline: the
//! broker password is read from `password_file`.
//!
//! ```toml
//! site = "futian-01"
//! device = "gym-door"
//! site_public_key = "base64url of the site's Ed25519 public key"
//! state_dir = "/var/lib/keting-agent"
//!
//! [broker]
//! host = "192.168.1.10"
//! port = 1883
//! username = "gym-door"
//! password_file = "/etc/keting/gym-door.secret"
//!
//! [door]
//! gpio = "cdev"                                # or "sim"
//! strike = { kind = "relay", bus = "rtu:/dev/ttyUSB0@9600", unit = 1, channel = 1 }
//! contact = { line = "GPIO27", active_low = true }
//! exit_button = { line = "GPIO22", active_low = true }
//! help_button = { line = "GPIO23", active_low = true }   # SOS, inside (optional)
//! fire_input = { line = "GPIO24" }   # the fire panel's contact: releases until reset (optional)
//! scanner = { kind = "evdev", device = "/dev/input/by-id/usb-scanner-event-kbd" }
//! panel = { kind = "ssd1306", i2c = "/dev/i2c-1", address = 60 }
//! alarm_output = { bus = "rtu:/dev/ttyUSB0@9600", channel = 2 }   # a siren: on while forced or held open
//! ```

use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use keting_core::ids::{DeviceId, SiteId};
use keting_hardware::bus::BusAddress;
use serde::Deserialize;
use thiserror::Error;

/// Why a configuration was not taken.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        message: String,
    },
    /// The file is not valid: the message names the key and its line.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the key.
        message: String,
    },
}

/// The whole file, checked: exactly one device section, held as
/// [`DeviceSection`].
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The site's id.
    pub site: SiteId,
    /// This device's id (its topics are `device/<id>/...`).
    pub device: DeviceId,
    /// The site's Ed25519 public key, to verify passes and rosters.
    pub site_public_key: VerifyingKey,
    /// Where the agent keeps its outbox and its last roster.
    pub state_dir: PathBuf,
    /// The MQTT broker.
    pub broker: BrokerConfig,
    /// The one device this agent drives.
    pub section: DeviceSection,
}

/// The one device an agent drives: the file's `[door]`, `[vending]`,
/// `[piano_bank]` or `[robot]` section.
#[derive(Clone, Debug)]
pub enum DeviceSection {
    /// A door.
    Door(Box<DoorConfig>),
    /// A drinks vending machine.
    Vending(VendingConfig),
    /// A bank of pianos on a relay board.
    PianoBank(PianoBankConfig),
    /// The moxibustion robot.
    Robot(RobotConfig),
    /// A room reader: a scanner and a panel, no lock.
    Reader(ReaderConfig),
}

/// A room reader: scans count as attendance of what is on in its room
/// (the centre knows the room). No lock, no relay board.
///
/// ```toml
/// [reader]
/// scanner = { kind = "evdev", device = "/dev/input/by-id/usb-scanner-event-kbd" }
/// panel = { kind = "ssd1306", i2c = "/dev/i2c-1", address = 60 }
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderConfig {
    /// Its scanner.
    pub scanner: ScannerConfig,
    /// Its panel.
    #[serde(default)]
    pub panel: PanelConfig,
}

/// The file as written, before the check that it names one device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    /// The site's id.
    #[serde(deserialize_with = "site_id")]
    pub site: SiteId,
    /// This device's id (its topics are `device/<id>/...`).
    #[serde(deserialize_with = "device_id")]
    pub device: DeviceId,
    /// The site's Ed25519 public key (base64url), to verify passes and rosters.
    #[serde(deserialize_with = "public_key")]
    pub site_public_key: VerifyingKey,
    /// Where the agent keeps its outbox and its last roster.
    pub state_dir: PathBuf,
    /// The MQTT broker.
    pub broker: BrokerConfig,
    /// The door this agent drives, if it drives one.
    pub door: Option<DoorConfig>,
    /// The vending machine this agent drives, if it drives one.
    pub vending: Option<VendingConfig>,
    /// The pianos this agent powers, if it drives a piano bank.
    pub piano_bank: Option<PianoBankConfig>,
    /// The moxibustion robot this agent drives, if it drives one.
    pub robot: Option<RobotConfig>,
    /// The room reader this agent drives, if it is one.
    pub reader: Option<ReaderConfig>,
}

/// The moxibustion robot's controller on Modbus (see
/// `keting_hardware::robot` for its register map).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotConfig {
    /// Its bus: `tcp:HOST:502` (or `rtu:/dev/ttyUSB0@9600`).
    #[serde(deserialize_with = "bus")]
    pub bus: BusAddress,
    /// Its Modbus unit id.
    #[serde(default = "one")]
    pub unit: u8,
    /// The program run when a session names none.
    #[serde(default = "one_u16")]
    pub program: u16,
}

fn one_u16() -> u16 {
    1
}

/// A bank of pianos, each powered through a channel of one Modbus relay
/// board, each with its own panel and an "end" button.
///
/// ```toml
/// [piano_bank]
/// bus = "rtu:/dev/ttyUSB0@9600"
/// gpio = "cdev"
/// pianos = [
///   { channel = 1, name = "1号钢琴", panel = { kind = "ssd1306", address = 60 }, button = { line = "GPIO5", active_low = true } },
/// ]
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PianoBankConfig {
    /// The relay board's bus.
    #[serde(deserialize_with = "bus")]
    pub bus: BusAddress,
    /// Its Modbus unit id.
    #[serde(default = "one")]
    pub unit: u8,
    /// The panel warns this many minutes before the end.
    #[serde(default = "default_warn_minutes")]
    pub warn_minutes: u64,
    /// Which GPIO implementation reads the buttons.
    #[serde(default)]
    pub gpio: GpioKind,
    /// The pianos.
    pub pianos: Vec<PianoConfig>,
}

fn default_warn_minutes() -> u64 {
    5
}

/// One piano of a bank.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PianoConfig {
    /// Its relay channel (1 to 8).
    pub channel: u8,
    /// Its name on the panel.
    pub name: String,
    /// Its panel.
    #[serde(default)]
    pub panel: PanelConfig,
    /// Its "end my session" button, if fitted.
    pub button: Option<InputConfig>,
}

/// A drinks vending machine's controller on Modbus.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendingConfig {
    /// Its bus: `rtu:/dev/ttyUSB0@9600` or `tcp:HOST:502`.
    #[serde(deserialize_with = "bus")]
    pub bus: BusAddress,
    /// Its Modbus unit id.
    #[serde(default = "one")]
    pub unit: u8,
    /// How long a vend may take before its outcome is in doubt, seconds.
    #[serde(default = "default_vend_limit_s")]
    pub vend_limit_s: u64,
}

fn default_vend_limit_s() -> u64 {
    15
}

/// The MQTT broker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    #[serde(default = "default_mqtt_port")]
    pub port: u16,
    /// Login (one per device).
    pub username: Option<String>,
    /// A file holding the password (mode 0600), never the password itself.
    pub password_file: Option<PathBuf>,
    /// Seconds of silence before the broker declares the agent gone.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_s: u64,
    /// TLS to the broker: the site CA (the only root trusted) and this
    /// device's certificate and key (0600). Without it the link is plain TCP.
    pub tls: Option<BrokerTls>,
}

/// The files of the agent's TLS link.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerTls {
    /// The site CA's certificate (PEM).
    pub ca: PathBuf,
    /// This device's certificate (PEM), signed by the site CA.
    pub cert: PathBuf,
    /// Its private key (PEM, mode 0600).
    pub key: PathBuf,
}

/// Which GPIO implementation drives the lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpioKind {
    /// The kernel's GPIO character device.
    #[default]
    Cdev,
    /// In memory (demo, tests): the contact reads closed, the button released.
    Sim,
}

/// The strike's relay.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum StrikeConfig {
    /// A GPIO line driving a relay.
    Gpio {
        /// The line's name, e.g. `GPIO17`.
        line: String,
        /// Active when low.
        #[serde(default)]
        active_low: bool,
    },
    /// A coil of a Modbus relay board.
    Relay {
        /// `tcp:HOST:PORT` or `rtu:DEVICE@BAUD`.
        #[serde(deserialize_with = "bus")]
        bus: BusAddress,
        /// The board's Modbus unit id.
        #[serde(default = "one")]
        unit: u8,
        /// The channel, 1 to 8.
        channel: u8,
        /// The board times each pulse itself ("flash on"/"flash off" on
        /// Waveshare-style boards), so the door relocks even if the agent
        /// dies mid-pulse. `false` only for a board without those commands
        /// (`device check` says when the board refuses them): the door then
        /// relocks on the agent's timer alone.
        #[serde(default = "yes")]
        board_timer: bool,
    },
}

fn yes() -> bool {
    true
}

/// The door's siren or light: a coil of a Modbus relay board.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmOutputConfig {
    /// `tcp:HOST:PORT` or `rtu:DEVICE@BAUD` (the strike's board or another).
    #[serde(deserialize_with = "bus")]
    pub bus: BusAddress,
    /// The board's Modbus unit id.
    #[serde(default = "one")]
    pub unit: u8,
    /// The channel, 1 to 8.
    pub channel: u8,
}

/// An input line.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// The line's name, e.g. `GPIO27`.
    pub line: String,
    /// Active (door open, button pressed) when low.
    #[serde(default)]
    pub active_low: bool,
}

/// The door's scanner.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ScannerConfig {
    /// A USB keyboard-wedge scanner (path or device name), grabbed.
    Evdev {
        /// `/dev/input/by-id/...` or the name `evtest` shows.
        device: String,
    },
    /// A serial scanner.
    Serial {
        /// The serial device.
        path: String,
        /// Baud rate.
        #[serde(default = "default_baud")]
        baud: u32,
    },
    /// Scans published to `keting/v1/<site>/sim/<device>/scan`.
    Sim,
}

/// The door's status panel.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum PanelConfig {
    /// No panel.
    None,
    /// A simulated panel (kept in memory).
    #[default]
    Sim,
    /// Like `sim`, and each frame written to this PNG file.
    Png {
        /// The file.
        path: PathBuf,
    },
    /// A 128x64 SSD1306 OLED on I2C.
    Ssd1306 {
        /// The I2C bus device.
        #[serde(default = "default_i2c")]
        i2c: String,
        /// The panel's I2C address (0x3C, or 0x3D).
        #[serde(default = "default_panel_address")]
        address: u8,
    },
}

fn default_i2c() -> String {
    "/dev/i2c-1".into()
}
fn default_panel_address() -> u8 {
    keting_hardware::panel::ssd1306::DEFAULT_ADDRESS
}

/// Fail-secure (locked without power) or fail-safe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailConfig {
    /// Locked when unpowered: a powered strike releases it.
    #[default]
    Secure,
    /// Open when unpowered (fire exits): power holds it locked.
    Safe,
}

/// A door.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// GPIO implementation for the lines below.
    #[serde(default)]
    pub gpio: GpioKind,
    /// The strike.
    pub strike: StrikeConfig,
    /// The door contact (reed switch); without it the state stays unknown
    /// and the held-open and forced alarms cannot work.
    pub contact: Option<InputConfig>,
    /// The exit button inside.
    pub exit_button: Option<InputConfig>,
    /// The help (SOS) button inside: an urgent alarm to every channel, the
    /// siren on for `help_siren_s`.
    pub help_button: Option<InputConfig>,
    /// The fire-alarm panel's contact: while active the door is released,
    /// and it stays released until staff reset it (`kiosk door reset`).
    pub fire_input: Option<InputConfig>,
    /// How long the siren sounds after the help button (seconds).
    #[serde(default = "default_help_siren_s")]
    pub help_siren_s: u64,
    /// A siren or light on a relay channel, on while the door is forced or
    /// held open.
    pub alarm_output: Option<AlarmOutputConfig>,
    /// The scanner outside.
    pub scanner: ScannerConfig,
    /// An exit reader inside (optional): a pass scanned there releases the
    /// door and names who left, for the head count.
    pub exit_scanner: Option<ScannerConfig>,
    /// The status panel.
    #[serde(default)]
    pub panel: PanelConfig,
    /// Fail-secure or fail-safe.
    #[serde(default)]
    pub fail: FailConfig,
    /// Strike pulse, milliseconds.
    #[serde(default = "default_pulse_ms")]
    pub pulse_ms: u64,
    /// Held-open alarm after this many seconds.
    #[serde(default = "default_held_open_s")]
    pub held_open_s: u64,
    /// Night begins (local `HH:MM`): paid members only.
    #[serde(default = "default_night_starts")]
    pub night_starts: String,
    /// Night ends (local `HH:MM`).
    #[serde(default = "default_night_ends")]
    pub night_ends: String,
    /// The same member is refused again within this many seconds.
    #[serde(default = "default_anti_passback_s")]
    pub anti_passback_s: u64,
    /// The site's offset from UTC in minutes (China: 480).
    #[serde(default = "default_utc_offset")]
    pub utc_offset_minutes: i32,
}

fn default_mqtt_port() -> u16 {
    1883
}
fn default_keep_alive() -> u64 {
    10
}
fn default_baud() -> u32 {
    9600
}
fn one() -> u8 {
    1
}
fn default_pulse_ms() -> u64 {
    3000
}
fn default_help_siren_s() -> u64 {
    120
}

fn default_held_open_s() -> u64 {
    15
}
fn default_night_starts() -> String {
    "22:00".into()
}
fn default_night_ends() -> String {
    "06:00".into()
}
fn default_anti_passback_s() -> u64 {
    30
}
fn default_utc_offset() -> i32 {
    480
}

fn site_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SiteId, D::Error> {
    SiteId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn device_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DeviceId, D::Error> {
    DeviceId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn bus<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BusAddress, D::Error> {
    String::deserialize(d)?
        .parse()
        .map_err(serde::de::Error::custom)
}

fn public_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<VerifyingKey, D::Error> {
    keting_core::pass::decode_public_key(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// Parses a local time `HH:MM`.
pub fn parse_hhmm(s: &str) -> Option<time::Time> {
    let (h, m) = s.split_once(':')?;
    time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

impl AgentConfig {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses and checks a configuration's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: FileConfig =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        file.check()?;
        let section = match (
            file.door,
            file.vending,
            file.piano_bank,
            file.robot,
            file.reader,
        ) {
            (Some(d), None, None, None, None) => DeviceSection::Door(Box::new(d)),
            (None, Some(v), None, None, None) => DeviceSection::Vending(v),
            (None, None, Some(p), None, None) => DeviceSection::PianoBank(p),
            (None, None, None, Some(r), None) => DeviceSection::Robot(r),
            (None, None, None, None, Some(r)) => DeviceSection::Reader(r),
            (None, None, None, None, None) => {
                return Err(
                    "the configuration has no [door], [vending], [piano_bank], [robot] or [reader] section: nothing to drive"
                        .into(),
                );
            }
            _ => {
                return Err(
                    "one agent drives one device: one of [door], [vending], [piano_bank], [robot] or [reader], not several"
                        .into(),
                );
            }
        };
        Ok(Self {
            site: file.site,
            device: file.device,
            site_public_key: file.site_public_key,
            state_dir: file.state_dir,
            broker: file.broker,
            section,
        })
    }

    /// The door section, if this agent drives a door.
    pub fn door(&self) -> Option<&DoorConfig> {
        match &self.section {
            DeviceSection::Door(d) => Some(d),
            _ => None,
        }
    }

    /// The broker password, read from `password_file`.
    pub fn broker_password(&self) -> Result<Option<String>, ConfigError> {
        let Some(path) = &self.broker.password_file else {
            return Ok(None);
        };
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            return Err(ConfigError::Read {
                path: path.clone(),
                message: format!(
                    "readable by others (mode {:o}): anyone on this machine could log in as this device; run `chmod 600 {}`",
                    meta.permissions().mode() & 0o777,
                    path.display()
                ),
            });
        }
        std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|e| ConfigError::Read {
                path: path.clone(),
                message: e.to_string(),
            })
    }
}

impl FileConfig {
    fn check(&self) -> Result<(), String> {
        let host = self
            .broker
            .host
            .trim_start_matches('[')
            .trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if self.broker.tls.is_none() && !loopback {
            return Err(format!(
                "[broker] host = {:?} with no tls: this device's login and the site's commands would cross the LAN in clear; add tls = {{ ca = \"/etc/keting/ca.pem\", cert = \"/etc/keting/device.pem\", key = \"/etc/keting/device.key\" }} (keting-provision device add writes it), or run the agent on the broker's own machine (127.0.0.1)",
                self.broker.host
            ));
        }
        if let Some(r) = &self.robot
            && !(1..=247).contains(&r.unit)
        {
            return Err(format!(
                "robot.unit = {}: a Modbus unit is 1 to 247",
                r.unit
            ));
        }
        if let Some(p) = &self.piano_bank {
            if p.pianos.is_empty() {
                return Err("piano_bank.pianos is empty: list each piano with its channel".into());
            }
            let mut seen = Vec::new();
            for piano in &p.pianos {
                if !(1..=8).contains(&piano.channel) {
                    return Err(format!(
                        "piano_bank.pianos: channel {} of {:?}: a relay board has channels 1 to 8",
                        piano.channel, piano.name
                    ));
                }
                if seen.contains(&piano.channel) {
                    return Err(format!(
                        "piano_bank.pianos: channel {} is listed twice",
                        piano.channel
                    ));
                }
                seen.push(piano.channel);
            }
            if !(1..=30).contains(&p.warn_minutes) {
                return Err(format!(
                    "piano_bank.warn_minutes = {}: between 1 and 30",
                    p.warn_minutes
                ));
            }
        }
        if let Some(v) = &self.vending {
            if !(1..=247).contains(&v.unit) {
                return Err(format!(
                    "vending.unit = {}: a Modbus unit is 1 to 247",
                    v.unit
                ));
            }
            if !(2..=120).contains(&v.vend_limit_s) {
                return Err(format!(
                    "vending.vend_limit_s = {}: between 2 and 120",
                    v.vend_limit_s
                ));
            }
        }
        let Some(door) = &self.door else {
            return Ok(());
        };
        if let StrikeConfig::Relay { channel, .. } = door.strike
            && !(1..=8).contains(&channel)
        {
            return Err(format!(
                "door.strike.channel = {channel}: a relay board has channels 1 to 8"
            ));
        }
        if let Some(out) = &door.alarm_output {
            if !(1..=8).contains(&out.channel) {
                return Err(format!(
                    "door.alarm_output.channel = {}: a relay board has channels 1 to 8",
                    out.channel
                ));
            }
            if let StrikeConfig::Relay {
                bus, unit, channel, ..
            } = &door.strike
                && *bus == out.bus
                && *unit == out.unit
                && *channel == out.channel
            {
                return Err(format!(
                    "door.alarm_output uses the strike's channel {channel}: give the siren its own channel"
                ));
            }
        }
        for (key, value) in [
            ("door.night_starts", &door.night_starts),
            ("door.night_ends", &door.night_ends),
        ] {
            if parse_hhmm(value).is_none() {
                return Err(format!(
                    "{key} = {value:?}: write a local time as HH:MM, e.g. \"22:00\""
                ));
            }
        }
        if !(100..=60_000).contains(&door.pulse_ms) {
            return Err(format!(
                "door.pulse_ms = {}: between 100 and 60000",
                door.pulse_ms
            ));
        }
        if !(1..=3600).contains(&door.held_open_s) {
            return Err(format!(
                "door.held_open_s = {}: between 1 and 3600",
                door.held_open_s
            ));
        }
        if !(-720..=840).contains(&door.utc_offset_minutes) {
            return Err(format!(
                "door.utc_offset_minutes = {}: between -720 and 840",
                door.utc_offset_minutes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn door_config(extra: &str) -> String {
        format!(
            "site = \"demo\"\ndevice = \"gym-door\"\nsite_public_key = \"{KEY}\"\nstate_dir = \"/tmp/x\"\n\
             [broker]\nhost = \"127.0.0.1\"\n\
             [door]\ngpio = \"sim\"\nstrike = {{ kind = \"relay\", bus = \"tcp:127.0.0.1:502\", channel = 1 }}\n\
             scanner = {{ kind = \"sim\" }}\n{extra}"
        )
    }

    #[test]
    fn a_minimal_door_takes_the_defaults() {
        let c = AgentConfig::parse(&door_config("")).unwrap();
        let DeviceSection::Door(door) = c.section else {
            panic!("a door")
        };
        assert_eq!(
            (door.pulse_ms, door.held_open_s, door.anti_passback_s),
            (3000, 15, 30)
        );
        assert_eq!(door.fail, FailConfig::Secure);
        assert_eq!(c.broker.port, 1883);
    }

    #[test]
    fn a_plain_broker_beyond_this_machine_is_refused_saying_why() {
        let lan = door_config("").replace("host = \"127.0.0.1\"", "host = \"192.168.1.10\"");
        let err = AgentConfig::parse(&lan).unwrap_err();
        assert!(
            err.contains("192.168.1.10") && err.contains("in clear") && err.contains("tls = {"),
            "{err}"
        );
        let with_tls = lan.replace(
            "host = \"192.168.1.10\"",
            "host = \"192.168.1.10\"\ntls = { ca = \"/etc/keting/ca.pem\", cert = \"/etc/keting/device.pem\", key = \"/etc/keting/device.key\" }",
        );
        assert!(AgentConfig::parse(&with_tls).is_ok());
        let localhost = door_config("").replace("127.0.0.1\"\n[door]", "localhost\"\n[door]");
        assert!(
            AgentConfig::parse(&localhost).is_ok(),
            "loopback needs no TLS"
        );
    }

    #[test]
    fn each_mistake_is_one_error_naming_the_key() {
        let cases = [
            ("pulse = 5", "pulse"),
            ("pulse_ms = 5", "door.pulse_ms"),
            ("night_starts = \"10pm\"", "door.night_starts"),
            ("fail = \"sometimes\"", "fail"),
            ("utc_offset_minutes = 5000", "door.utc_offset_minutes"),
            (
                "alarm_output = { bus = \"tcp:127.0.0.1:502\", channel = 1 }",
                "door.alarm_output uses the strike's channel 1",
            ),
            (
                "alarm_output = { bus = \"tcp:127.0.0.1:502\", channel = 0 }",
                "door.alarm_output.channel",
            ),
        ];
        for (line, key) in cases {
            let err = AgentConfig::parse(&door_config(line)).unwrap_err();
            assert!(err.contains(key), "{line}: {err}");
        }
        let bad_bus = door_config("").replace("tcp:127.0.0.1:502", "tcp:nowhere");
        let err = AgentConfig::parse(&bad_bus).unwrap_err();
        assert!(
            err.contains("strike") && err.contains("tcp:HOST:PORT"),
            "{err}"
        );
        let bad_channel = door_config("").replace("channel = 1", "channel = 9");
        assert!(
            AgentConfig::parse(&bad_channel)
                .unwrap_err()
                .contains("door.strike.channel")
        );
        let bad_key = door_config("").replace(KEY, "abc");
        assert!(
            AgentConfig::parse(&bad_key)
                .unwrap_err()
                .contains("site_public_key")
        );
    }
}
