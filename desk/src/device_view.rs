//! The devices as every surface shows them (the kiosk's staff page, the
//! dashboard's Today and Devices pages): each device's availability, a
//! door's state, the session devices, the open alarms. The running service
//! builds these from what the devices said; surfaces only read them.
//!
//! Architecture Invariant: a device that is offline, or that the centre
//! cannot hear (its own link is down), has no state here, never its last
//! known state.

use keting_core::door::lock::LockState;
use keting_core::ids::DeviceId;
use keting_core::time::Timestamp;
use keting_store::door_events::Entry;

/// Whether a device can be heard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Availability {
    /// Nothing heard from it since the centre started.
    #[default]
    NeverSeen,
    /// Online.
    Online,
    /// Offline (its last will), or the centre's own link is down.
    Offline,
}

/// One door as the doors view shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DoorView {
    /// The device.
    pub id: DeviceId,
    /// Its name.
    pub name: String,
    /// Whether it can be heard.
    pub availability: Availability,
    /// Its lock state, only while it is online.
    pub state: Option<LockState>,
    /// A hardware fault it reports.
    pub fault: Option<String>,
    /// Its reader is locked out.
    pub locked_out: bool,
    /// When it was last heard from.
    pub last_seen: Option<Timestamp>,
}

impl DoorView {
    /// Whether the door needs someone: an alarm, a fault, a lockout, or offline.
    pub fn needs_attention(&self) -> bool {
        self.availability == Availability::Offline
            || self.fault.is_some()
            || self.locked_out
            || matches!(
                self.state,
                Some(LockState::Forced | LockState::HeldOpen | LockState::Released)
            )
    }
}

/// Everything the doors view shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DoorsView {
    /// The centre's own link to the broker is up.
    pub connected: bool,
    /// Every registered door (and any unregistered one that spoke).
    pub doors: Vec<DoorView>,
    /// Who entered tonight, newest first.
    pub tonight: Vec<Entry>,
    /// Devices claiming their identity, waiting for a technician: (device, PIN).
    pub claims: Vec<(String, String)>,
    /// Resources whose device cannot be given a session now (offline, or
    /// its hardware does not answer).
    pub unavailable: Vec<String>,
    /// The session devices (piano banks, the robot), as the staff see them.
    pub session_devices: Vec<SessionDeviceView>,
    /// The alarms not cleared, newest first (every page shows them).
    pub alarms: Vec<keting_store::alarms::Alarm>,
    /// Every device heard of (the drinks machine too), by id.
    pub heard: Vec<HeardDevice>,
    /// Who is inside tonight, per door with a passage since 18:00.
    pub inside: Vec<crate::occupancy::DoorInside>,
}

/// Any device heard of, as the device list shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeardDevice {
    /// The device.
    pub id: DeviceId,
    /// Whether it can be heard.
    pub availability: Availability,
    /// When it was last heard from.
    pub last_seen: Option<Timestamp>,
}

/// A session device (a piano bank, the robot) as the staff view shows it:
/// its state only while it is online.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionDeviceView {
    /// The device.
    pub id: DeviceId,
    /// Whether it can be heard.
    pub availability: Availability,
    /// `ready`, `running`, `fault`, `unavailable` (its hardware is silent).
    pub state: Option<String>,
    /// The fault it reports.
    pub fault: Option<String>,
    /// Outputs in use, of all.
    pub in_use: (usize, usize),
}
