//! The site's devices (`devices.toml`): name (its device id), kind, and
//! whether it is retired. A retired device keeps its entry (and its
//! history) but has no broker login.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::secrets::write_atomic;
use crate::site_dir::SiteError;

/// What a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// A door lock (strike, contact, exit button, scanner).
    Lock,
    /// The drinks vending controller.
    Vending,
    /// A relay board powering pianos.
    PianoBank,
    /// The moxibustion robot's controller.
    Robot,
    /// A room reader (scanner and panel, no lock): attendance at activities.
    Reader,
}

impl DeviceKind {
    /// The name as typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lock => "lock",
            Self::Vending => "vending",
            Self::PianoBank => "piano-bank",
            Self::Robot => "robot",
            Self::Reader => "reader",
        }
    }
}

/// One device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceEntry {
    /// Its name, which is its device id.
    pub name: String,
    /// What it is.
    pub kind: DeviceKind,
    /// Retired: no broker login.
    #[serde(default)]
    pub retired: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct InventoryFile {
    #[serde(default)]
    device: Vec<DeviceEntry>,
}

/// Reads the inventory.
pub fn load(site: &Path) -> Result<Vec<DeviceEntry>, SiteError> {
    let path = site.join("devices.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| SiteError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let file: InventoryFile = toml::from_str(&text).map_err(|e| SiteError::File {
        path,
        message: e.to_string(),
    })?;
    Ok(file.device)
}

/// Replaces the inventory (atomically).
pub fn save(site: &Path, devices: &[DeviceEntry]) -> Result<(), SiteError> {
    let path = site.join("devices.toml");
    let text = toml::to_string(&InventoryFile {
        device: devices.to_vec(),
    })
    .map_err(|e| SiteError::Invalid(e.to_string()))?;
    write_atomic(&path, text.as_bytes(), 0o644).map_err(|e| SiteError::File {
        path,
        message: e.to_string(),
    })
}
