//! `device add` and `device retire`: a device gets its agent configuration
//! (checked by the agent's own parser before it is written) and its own
//! broker login, in `devices/<name>/`.

use std::collections::BTreeMap;

use keting_core::ids::DeviceId;
use keting_core::pass::encode_public_key;
use keting_device_agents::config::AgentConfig;
use keting_hardware::bus::BusAddress;

use crate::inventory::{self, DeviceEntry, DeviceKind};
use crate::secrets::{new_password, write_atomic};
use crate::site_dir::{SiteDir, SiteError};

/// Where the agent finds its files on the device (copy `devices/<name>/` there).
pub const INSTALL_DIR: &str = "/etc/keting";

/// What the technician gave for a new device.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Its name (becomes its device id).
    pub name: String,
    /// What it is.
    pub kind: DeviceKind,
    /// Its Modbus bus, if any.
    pub bus: Option<BusAddress>,
    /// Its Modbus unit id.
    pub unit: u8,
    /// The relay channel of a lock's strike on a relay board.
    pub channel: u8,
    /// GPIO lines: `strike`, `contact`, `exit`.
    pub gpio: BTreeMap<String, String>,
    /// A lock has an SSD1306 status panel on I2C.
    pub panel: bool,
    /// How many pianos a piano bank powers (channels 1 to N).
    pub pianos: u8,
}

/// Parses `strike=GPIO17,contact=GPIO27,exit=GPIO22`.
pub fn parse_gpio(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut lines = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (role, line) = part
            .split_once('=')
            .ok_or_else(|| format!("--gpio {part:?}: write ROLE=LINE, e.g. strike=GPIO17"))?;
        let (role, line) = (role.trim(), line.trim());
        if !["strike", "contact", "exit"].contains(&role) {
            return Err(format!(
                "--gpio {role:?}: the roles are strike, contact and exit"
            ));
        }
        if line.is_empty()
            || !line
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "--gpio {role}={line:?}: a line name such as GPIO17 (see `gpioinfo`)"
            ));
        }
        if lines.insert(role.to_owned(), line.to_owned()).is_some() {
            return Err(format!("--gpio: {role} given twice"));
        }
    }
    Ok(lines)
}

impl NewDevice {
    fn check(&self) -> Result<DeviceId, SiteError> {
        let id = DeviceId::new(self.name.clone())
            .map_err(|e| SiteError::Invalid(format!("--name {:?}: {e}", self.name)))?;
        if !(1..=247).contains(&self.unit) {
            return Err(SiteError::Invalid(format!(
                "--unit {}: a Modbus unit is 1 to 247",
                self.unit
            )));
        }
        match self.kind {
            DeviceKind::Lock => {
                if self.bus.is_none() && !self.gpio.contains_key("strike") {
                    return Err(SiteError::Invalid(
                        "a lock needs its strike: --gpio strike=GPIO17, or --bus with --channel for a relay board".into(),
                    ));
                }
                if self.bus.is_some() && self.gpio.contains_key("strike") {
                    return Err(SiteError::Invalid(
                        "give the strike once: --gpio strike=... or --bus, not both".into(),
                    ));
                }
                if !(1..=8).contains(&self.channel) {
                    return Err(SiteError::Invalid(format!(
                        "--channel {}: a relay board has channels 1 to 8",
                        self.channel
                    )));
                }
            }
            DeviceKind::Reader => {
                if self.bus.is_some() || !self.gpio.is_empty() {
                    return Err(SiteError::Invalid(
                        "a reader has a scanner and a panel only: no --bus, no --gpio".into(),
                    ));
                }
            }
            DeviceKind::Vending | DeviceKind::PianoBank | DeviceKind::Robot => {
                if self.kind == DeviceKind::PianoBank && !(1..=8).contains(&self.pianos) {
                    return Err(SiteError::Invalid(format!(
                        "--pianos {}: a relay board powers 1 to 8 pianos",
                        self.pianos
                    )));
                }
                if self.bus.is_none() {
                    return Err(SiteError::Invalid(format!(
                        "a {} is on Modbus: give --bus rtu:/dev/ttyUSB0@9600 or --bus tcp:HOST:502",
                        self.kind.as_str()
                    )));
                }
                if !self.gpio.is_empty() {
                    return Err(SiteError::Invalid(format!(
                        "a {} has no --gpio lines",
                        self.kind.as_str()
                    )));
                }
            }
        }
        Ok(id)
    }

    /// The agent's configuration for this device.
    fn agent_toml(&self, site: &SiteDir) -> Result<String, SiteError> {
        let key = site.signing_key()?.verifying_key();
        let mut text = format!(
            "# {kind} {name} of site {site_name} ({site_id}); written by keting-provision.\n\
             # Copy this directory to {INSTALL_DIR} on the device.\n\
             site = {site_id:?}\ndevice = {name:?}\nsite_public_key = {key:?}\nstate_dir = \"/var/lib/keting-agent\"\n\n\
             [broker]\nhost = {host:?}\nport = {port}\n\
             # TLS to the site CA only; the certificate's name is the login.\n\
             tls = {{ ca = \"{INSTALL_DIR}/ca.pem\", cert = \"{INSTALL_DIR}/device.pem\", key = \"{INSTALL_DIR}/device.key\" }}\n",
            kind = self.kind.as_str(),
            name = self.name,
            site_name = site.site.name,
            site_id = site.site.id,
            key = encode_public_key(&key),
            host = site.site.broker_host,
            port = site.site.tls_port,
        );
        if self.kind == DeviceKind::Lock {
            let strike = match (&self.bus, self.gpio.get("strike")) {
                (Some(bus), _) => format!(
                    "{{ kind = \"relay\", bus = \"{bus}\", unit = {}, channel = {} }}",
                    self.unit, self.channel
                ),
                (None, Some(line)) => format!("{{ kind = \"gpio\", line = {line:?} }}"),
                (None, None) => String::new(),
            };
            text += &format!(
                "\n[door]\nstrike = {strike}\nscanner = {{ kind = \"evdev\", device = \"/dev/input/by-id/usb-scanner-event-kbd\" }}\npanel = {}\n",
                if self.panel {
                    "{ kind = \"ssd1306\", i2c = \"/dev/i2c-1\", address = 60 }"
                } else {
                    "{ kind = \"none\" }"
                }
            );
            for (role, key) in [("contact", "contact"), ("exit", "exit_button")] {
                if let Some(line) = self.gpio.get(role) {
                    text += &format!("{key} = {{ line = {line:?}, active_low = true }}\n");
                }
            }
        } else if let (DeviceKind::Vending, Some(bus)) = (self.kind, &self.bus) {
            text += &format!("\n[vending]\nbus = \"{bus}\"\nunit = {}\n", self.unit);
        } else if let (DeviceKind::PianoBank, Some(bus)) = (self.kind, &self.bus) {
            // One relay channel per piano; a panel per piano is configured
            // by hand (an SSD1306 has two I2C addresses: more need a mux).
            let pianos: Vec<String> = (1..=self.pianos)
                .map(|c| format!("  {{ channel = {c}, name = \"{c}号钢琴\", panel = {{ kind = \"none\" }} }},"))
                .collect();
            text += &format!(
                "\n[piano_bank]\nbus = \"{bus}\"\nunit = {}\nwarn_minutes = 5\npianos = [\n{}\n]\n",
                self.unit,
                pianos.join("\n")
            );
        } else if self.kind == DeviceKind::Reader {
            text += &format!(
                "\n# Put it in its room at the centre: kiosk activity reader {name} --room ROOM\n\
                 [reader]\nscanner = {{ kind = \"evdev\", device = \"/dev/input/by-id/usb-scanner-event-kbd\" }}\npanel = {}\n",
                if self.panel {
                    "{ kind = \"ssd1306\", i2c = \"/dev/i2c-1\", address = 60 }"
                } else {
                    "{ kind = \"none\" }"
                },
                name = self.name,
            );
        } else if let (DeviceKind::Robot, Some(bus)) = (self.kind, &self.bus) {
            text += &format!(
                "\n[robot]\nbus = \"{bus}\"\nunit = {}\nprogram = 1\n",
                self.unit
            );
        }
        // The agent's own parser is the judge of what it will run.
        AgentConfig::parse(&text).map_err(|e| {
            SiteError::Invalid(format!(
                "internal: the written configuration does not parse: {e}"
            ))
        })?;
        Ok(text)
    }
}

/// Adds a device: its directory with `agent.toml` and `broker.secret`
/// (0600), then its inventory entry.
pub fn add(site: &SiteDir, new: &NewDevice) -> Result<DeviceEntry, SiteError> {
    let id = new.check()?;
    let mut devices = inventory::load(&site.path)?;
    if devices.iter().any(|d| d.name == new.name) {
        return Err(SiteError::Invalid(format!(
            "a device named {:?} exists; pick another name, or `device replace {}` after a factory reset",
            new.name, new.name
        )));
    }
    let dir = site.path.join("devices").join(id.as_str());
    let toml_text = new.agent_toml(site)?;
    let password = new_password().map_err(|e| SiteError::Invalid(e.to_string()))?;
    let secret = dir.join("broker.secret");
    write_atomic(&secret, password.as_bytes(), 0o600).map_err(|e| SiteError::File {
        path: secret.clone(),
        message: e.to_string(),
    })?;
    let agent = dir.join("agent.toml");
    write_atomic(&agent, toml_text.as_bytes(), 0o644).map_err(|e| SiteError::File {
        path: agent.clone(),
        message: e.to_string(),
    })?;
    issue_certificate(site, &new.name)?;
    let entry = DeviceEntry {
        name: new.name.clone(),
        kind: new.kind,
        retired: false,
    };
    devices.push(entry.clone());
    inventory::save(&site.path, &devices)?;
    Ok(entry)
}

/// Retires a device: it keeps its entry, loses its login (after the next
/// `broker config`).
pub fn retire(site: &SiteDir, name: &str) -> Result<(), SiteError> {
    let mut devices = inventory::load(&site.path)?;
    let d = devices.iter_mut().find(|d| d.name == name).ok_or_else(|| {
        SiteError::Invalid(format!("no device named {name:?} (see `device list`)"))
    })?;
    d.retired = true;
    inventory::save(&site.path, &devices)?;
    revoke_certificate(site, name)
}

/// Issues `name`'s client certificate (`device.pem`, `device.key` 0600)
/// from the site CA, named as the device (its MQTT user name at a broker
/// with `use_identity_as_username`). A site made before it had a CA has
/// none to issue from: nothing is written.
fn issue_certificate(site: &SiteDir, name: &str) -> Result<(), SiteError> {
    if !site.path.join(crate::site_ca::CA_KEY).exists() {
        return Ok(());
    }
    let ca = crate::site_ca::SiteCa::open(&site.path)?;
    let issued = ca.issue(name, &[name.to_owned()], crate::site_ca::Usage::Client)?;
    let dir = site.path.join("devices").join(name);
    crate::site_ca::write_issued(&dir, "device", &issued)?;
    // The CA beside it: the directory copied to the device is all it needs.
    let from = site.path.join(crate::site_ca::CA_CERT);
    let to = dir.join(crate::site_ca::CA_CERT);
    let bytes = std::fs::read(&from).map_err(|e| SiteError::File {
        path: from,
        message: e.to_string(),
    })?;
    write_atomic(&to, &bytes, 0o644).map_err(|e| SiteError::File {
        path: to,
        message: e.to_string(),
    })
}

/// Records the certificate the site CA signed for `name` from the request
/// its device made when it claimed (`device.pem`, `device.serial`); the
/// certificate `device add` issued before is revoked, and its key, which
/// the device never had, removed.
pub fn claimed_certificate(
    site: &SiteDir,
    name: &str,
    cert_pem: &str,
    serial: &str,
) -> Result<(), SiteError> {
    revoke_certificate(site, name)?;
    let dir = site.path.join("devices").join(name);
    for (file, bytes) in [("device.pem", cert_pem), ("device.serial", serial)] {
        let path = dir.join(file);
        write_atomic(&path, bytes.as_bytes(), 0o644).map_err(|e| SiteError::File {
            path,
            message: e.to_string(),
        })?;
    }
    match std::fs::remove_file(dir.join("device.key")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SiteError::File {
            path: dir.join("device.key"),
            message: e.to_string(),
        }),
    }
}

/// Puts `name`'s certificate on the site's revocation list (`ca.crl`).
fn revoke_certificate(site: &SiteDir, name: &str) -> Result<(), SiteError> {
    let serial_path = site.path.join("devices").join(name).join("device.serial");
    let Ok(serial) = std::fs::read_to_string(&serial_path) else {
        return Ok(());
    };
    crate::site_ca::SiteCa::open(&site.path)?.revoke(&site.path, serial.trim())
}

/// Re-provisions a device after a factory reset: a new broker secret (the
/// old one stops working after the next `broker config`), the same identity
/// and history. A retired device comes back into service.
pub fn replace(site: &SiteDir, name: &str) -> Result<(), SiteError> {
    let mut devices = inventory::load(&site.path)?;
    let d = devices.iter_mut().find(|d| d.name == name).ok_or_else(|| {
        SiteError::Invalid(format!("no device named {name:?} (see `device list`)"))
    })?;
    d.retired = false;
    let password = new_password().map_err(|e| SiteError::Invalid(e.to_string()))?;
    let secret = site.path.join("devices").join(name).join("broker.secret");
    write_atomic(&secret, password.as_bytes(), 0o600).map_err(|e| SiteError::File {
        path: secret.clone(),
        message: e.to_string(),
    })?;
    inventory::save(&site.path, &devices)?;
    // The old certificate is revoked, a new one issued.
    revoke_certificate(site, name)?;
    issue_certificate(site, name)
}

/// A device in service (enrolled, not retired).
pub fn enrolled(site: &SiteDir, name: &str) -> Result<DeviceEntry, SiteError> {
    let d = inventory::load(&site.path)?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| {
            SiteError::Invalid(format!("no device named {name:?} (see `device list`)"))
        })?;
    if d.retired {
        return Err(SiteError::Invalid(format!(
            "{name} is retired: `device replace {name}` brings it back into service"
        )));
    }
    Ok(d)
}

/// A device's broker password.
pub fn password(site: &SiteDir, name: &str) -> Result<String, SiteError> {
    let path = site.path.join("devices").join(name).join("broker.secret");
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| SiteError::File {
            path,
            message: e.to_string(),
        })
}
