//! What `kiosk site import` registers of a provisioned site's devices, so
//! the technician's steps (README, "Provisioning a site") give a working
//! centre with no command of the centre's own: each door in service gets
//! the roster at once, each piano of a piano bank becomes a bookable piano
//! on its relay channel, the robot a bookable robot. Retired devices are
//! left out.
//!
//! Registration only adds what the centre does not have: a door or a
//! resource the staff already named, priced or moved keeps their settings,
//! so importing again changes nothing. Each device's `agent.toml` (written
//! and checked by `keting-provision device add`) says what it drives. One
//! transaction, audited as `command-line`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keting_core::booking::{
    Limits, OpeningWindow, Price, Resource, ResourceError, ResourceId, ResourceKind, parse_hours,
};
use keting_core::ids::{DeviceId, SiteIdError};
use keting_core::time::Timestamp;
use keting_device_agents::config::{AgentConfig, DeviceSection};
use keting_provisioning::inventory::{self, DeviceKind};
use thiserror::Error;

use keting_store::resources::ResourceRecord;
use keting_store::{Store, StoreError, audit, doors, resources};

/// One thing registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registered {
    /// A door, named as its device.
    Door(DeviceId),
    /// A bookable resource (a piano, the robot) on its device.
    Resource {
        /// The resource's id.
        id: String,
        /// Its device.
        device: DeviceId,
    },
}

impl std::fmt::Display for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Registered::Door(d) => write!(f, "door {d}"),
            Registered::Resource { id, device } => write!(f, "resource {id} on {device}"),
        }
    }
}

/// Why a provisioned site's devices were not registered.
#[derive(Debug, Error)]
pub enum RegisterError {
    /// The site directory's inventory could not be read.
    #[error(transparent)]
    Inventory(#[from] keting_provisioning::site_dir::SiteError),
    /// A device's name in the inventory is not a device id.
    #[error("device {name:?} in the inventory: {source}")]
    DeviceName {
        /// The name.
        name: String,
        /// Why it is not an id.
        source: SiteIdError,
    },
    /// A piano bank's `agent.toml` could not be read.
    #[error("{}: {message}", path.display())]
    AgentConfig {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The database, or a resource's settings.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for RegisterError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A piano on `device`'s relay channel `channel`, as a walk-up and
/// bookable piano: free, 45-minute sessions, 2 a day.
pub fn piano(
    id: &str,
    name_zh: &str,
    device: &DeviceId,
    channel: u8,
) -> Result<ResourceRecord, StoreError> {
    Ok(ResourceRecord {
        resource: Resource {
            id: ResourceId::new(id.to_owned())?,
            kind: ResourceKind::Piano,
            name_zh: name_zh.to_owned(),
            name_en: format!("Piano {channel}"),
            hours: parse_hours("08:30-21:00")?,
            slot_minutes: None,
            capacity: 1,
            price: Price::Free,
            trial_price: None,
            limits: Limits {
                per_day: 2,
                per_week: 10,
            },
            checked_after_use: false,
        },
        device: Some(device.clone()),
        channel: Some(channel),
        session: Duration::from_secs(45 * 60),
    })
}

/// The moxibustion robot on `device`: hourly slots in the day's two
/// windows, 29.9 yuan to try and 88 a session, checked by staff after
/// each session (change any of it with `kiosk resource add`).
pub fn robot(id: &str, device: &DeviceId) -> Result<ResourceRecord, StoreError> {
    let hours = ["09:00-12:00", "14:00-17:00"]
        .iter()
        .map(|w| OpeningWindow::parse(w).ok_or(ResourceError::BadHours))
        .collect::<Result<_, _>>()?;
    Ok(ResourceRecord {
        resource: Resource {
            id: ResourceId::new(id.to_owned())?,
            kind: ResourceKind::Robot,
            name_zh: "艾灸机器人".into(),
            name_en: "Moxibustion robot".into(),
            hours,
            slot_minutes: Some(60),
            capacity: 1,
            price: Price::Yuan { fen: 8800 },
            trial_price: Some(Price::Yuan { fen: 2990 }),
            limits: Limits {
                per_day: 1,
                per_week: 3,
            },
            checked_after_use: true,
        },
        device: Some(device.clone()),
        channel: Some(1),
        session: Duration::from_secs(60 * 60),
    })
}

/// What `site_dir`'s devices in service need at the centre.
fn wanted(site_dir: &Path) -> Result<Vec<Wanted>, RegisterError> {
    let devices = inventory::load(site_dir)?;
    let mut out = Vec::new();
    for d in devices.iter().filter(|d| !d.retired) {
        let id = DeviceId::new(d.name.clone()).map_err(|source| RegisterError::DeviceName {
            name: d.name.clone(),
            source,
        })?;
        match d.kind {
            DeviceKind::Lock => out.push(Wanted::Door(id)),
            DeviceKind::PianoBank => {
                let path = site_dir.join("devices").join(&d.name).join("agent.toml");
                let config = std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| AgentConfig::parse(&text))
                    .map_err(|message| RegisterError::AgentConfig {
                        path: path.clone(),
                        message,
                    })?;
                if let DeviceSection::PianoBank(bank) = config.section {
                    for p in bank.pianos {
                        let rid = format!("{}-{}", d.name, p.channel);
                        let record = piano(&rid, &p.name, &id, p.channel)?;
                        out.push(Wanted::Resource(record, id.clone()));
                    }
                }
            }
            DeviceKind::Robot => out.push(Wanted::Resource(robot(&d.name, &id)?, id)),
            DeviceKind::Vending => {} // its catalogue is the staff's: `kiosk vending set`
            // Its room is the staff's: `kiosk activity reader NAME --room ROOM`.
            DeviceKind::Reader => {}
        }
    }
    Ok(out)
}

enum Wanted {
    Door(DeviceId),
    Resource(ResourceRecord, DeviceId),
}

/// Registers what the centre lacks of `site_dir`'s devices; returns what
/// it added (nothing, on a second import).
pub fn register(
    store: &mut Store,
    site_dir: &Path,
    now: Timestamp,
) -> Result<Vec<Registered>, RegisterError> {
    let wanted = wanted(site_dir)?;
    store.write(|tx| {
        let known: Vec<DeviceId> = doors::list(tx)?.into_iter().map(|d| d.id).collect();
        let mut added = Vec::new();
        for w in &wanted {
            match w {
                Wanted::Door(id) if !known.contains(id) => {
                    doors::add(tx, id, id.as_str(), now)?;
                    added.push(Registered::Door(id.clone()));
                }
                Wanted::Resource(r, device)
                    if resources::get(tx, r.resource.id.as_str())?.is_none() =>
                {
                    resources::put(tx, r)?;
                    added.push(Registered::Resource {
                        id: r.resource.id.as_str().to_owned(),
                        device: device.clone(),
                    });
                }
                _ => {}
            }
        }
        for a in &added {
            audit::record(
                tx,
                now,
                "command-line",
                "site.import.register",
                &a.to_string(),
            )?;
        }
        Ok(added)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_provisioning::device::{NewDevice, add, retire};
    use keting_provisioning::site_dir::{BrokerAddress, SiteDir};

    fn device(name: &str, kind: DeviceKind) -> NewDevice {
        NewDevice {
            name: name.into(),
            kind,
            bus: match kind {
                DeviceKind::Lock => None,
                _ => Some("tcp:127.0.0.1:502".parse().unwrap()),
            },
            unit: 1,
            channel: 1,
            gpio: match kind {
                DeviceKind::Lock => [("strike".to_owned(), "GPIO17".to_owned())].into(),
                _ => Default::default(),
            },
            panel: false,
            pianos: 2,
        }
    }

    #[test]
    fn every_device_in_service_is_registered_once_and_staff_changes_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let site = SiteDir::init(
            &tmp.path().join("site"),
            "中心",
            &BrokerAddress::with_default_ports("127.0.0.1"),
            false,
        )
        .unwrap();
        for (name, kind) in [
            ("gym-door", DeviceKind::Lock),
            ("old-door", DeviceKind::Lock),
            ("pianos", DeviceKind::PianoBank),
            ("robot", DeviceKind::Robot),
            ("drinks", DeviceKind::Vending),
        ] {
            add(&site, &device(name, kind)).unwrap();
        }
        retire(&site, "old-door").unwrap();
        let mut store = Store::open(&tmp.path().join("keting.db")).unwrap();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let added = register(&mut store, &site.path, now).unwrap();
        let names: Vec<String> = added.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "door gym-door",
                "resource pianos-1 on pianos",
                "resource pianos-2 on pianos",
                "resource robot on robot",
            ]
        );
        let piano = resources::get(store.conn(), "pianos-2").unwrap().unwrap();
        assert_eq!(
            (piano.resource.name_zh.as_str(), piano.channel),
            ("2号钢琴", Some(2))
        );
        // The staff rename the door and reprice the robot; a second import
        // adds nothing and changes neither.
        store
            .write(|tx| {
                doors::add(tx, &DeviceId::new("gym-door").unwrap(), "健身房", now)?;
                let mut r = resources::get(tx, "robot")?.unwrap();
                r.resource.price = Price::Yuan { fen: 6800 };
                resources::put(tx, &r)
            })
            .unwrap();
        assert!(register(&mut store, &site.path, now).unwrap().is_empty());
        let doors = doors::list(store.conn()).unwrap();
        assert_eq!(doors.len(), 1, "the retired door is not registered");
        assert_eq!(doors[0].name, "健身房");
        let robot = resources::get(store.conn(), "robot").unwrap().unwrap();
        assert_eq!(robot.resource.price, Price::Yuan { fen: 6800 });
    }
}
