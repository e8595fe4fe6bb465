//! What each device last said (online flag, door status), turned into the
//! doors view. Architecture invariant: a device that is offline, or that the
//! kiosk cannot hear (its own link is down), shows as unavailable with no
//! state, never as its last known state.

use std::collections::HashMap;

use keting_core::ids::DeviceId;
use keting_core::messages::{DoorStatus, SessionDeviceStatus, decode};
use keting_core::time::Timestamp;
use serde::Deserialize;

use keting_store::doors::Door;

pub use keting_desk::device_view::{
    Availability, DoorView, DoorsView, HeardDevice, SessionDeviceView,
};

#[derive(Debug, Default)]
struct Heard {
    online: Option<bool>,
    status: Option<DoorStatus>,
    sessions: Option<SessionDeviceStatus>,
    last_seen: Option<Timestamp>,
    /// When it last went offline (its last will), while it stays so.
    offline_since: Option<Timestamp>,
}

#[derive(Deserialize)]
struct OnlineFlag {
    online: bool,
}

/// A device's availability from its online flag and the centre's link.
fn availability(online: Option<bool>, connected: bool) -> Availability {
    match online {
        _ if !connected => Availability::Offline,
        None => Availability::NeverSeen,
        Some(true) => Availability::Online,
        Some(false) => Availability::Offline,
    }
}

/// The devices' last words.
#[derive(Debug, Default)]
pub struct DeviceStates {
    heard: HashMap<DeviceId, Heard>,
}

impl DeviceStates {
    /// A retained `online` flag arrived (birth or last will).
    pub fn handle_online(&mut self, id: DeviceId, payload: &[u8], now: Timestamp) {
        let online = decode::<OnlineFlag>(payload)
            .map(|f| f.online)
            .unwrap_or(false);
        let heard = self.heard.entry(id).or_default();
        if online {
            heard.offline_since = None;
        } else if heard.offline_since.is_none() {
            heard.offline_since = Some(now);
        }
        heard.online = Some(online);
        heard.last_seen = Some(now);
    }

    /// Every device heard of, and since when it is offline (`None`: online).
    pub fn offline_since(&self) -> Vec<(DeviceId, Option<Timestamp>)> {
        let mut out: Vec<_> = self
            .heard
            .iter()
            .map(|(id, h)| (id.clone(), h.offline_since))
            .collect();
        out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        out
    }

    /// Whether `id` said it is online (its retained flag; the last will
    /// clears it).
    pub fn is_online(&self, id: &DeviceId) -> bool {
        self.heard.get(id).is_some_and(|h| h.online == Some(true))
    }

    /// A status arrived (a door's, or a session device's); a malformed one
    /// is ignored.
    pub fn handle_status(&mut self, id: DeviceId, payload: &[u8], now: Timestamp) {
        if let Ok(status) = decode::<DoorStatus>(payload) {
            let heard = self.heard.entry(id).or_default();
            heard.status = Some(status);
            heard.last_seen = Some(now);
        } else if let Ok(status) = decode::<SessionDeviceStatus>(payload) {
            let heard = self.heard.entry(id).or_default();
            heard.sessions = Some(status);
            heard.last_seen = Some(now);
        }
    }

    /// Whether `id` can be given work now: the centre's link is up, the
    /// device is online, and it does not report its hardware unavailable.
    pub fn reachable(&self, id: &DeviceId, connected: bool) -> bool {
        let Some(heard) = self.heard.get(id) else {
            return false;
        };
        connected
            && heard.online == Some(true)
            && heard
                .sessions
                .as_ref()
                .is_none_or(|s| s.state != "unavailable")
    }

    /// Every device heard of, by id; offline for all while the centre's
    /// own link is down.
    pub fn heard(&self, connected: bool) -> Vec<HeardDevice> {
        let mut out: Vec<HeardDevice> = self
            .heard
            .iter()
            .map(|(id, h)| HeardDevice {
                id: id.clone(),
                availability: availability(h.online, connected),
                last_seen: h.last_seen,
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The session devices heard from, by id.
    pub fn session_devices(&self, connected: bool) -> Vec<SessionDeviceView> {
        let mut out: Vec<SessionDeviceView> = self
            .heard
            .iter()
            .filter(|(_, h)| h.sessions.is_some())
            .map(|(id, h)| {
                let availability = availability(h.online, connected);
                let status = h
                    .sessions
                    .as_ref()
                    .filter(|_| availability == Availability::Online);
                SessionDeviceView {
                    id: id.clone(),
                    availability,
                    state: status.map(|s| s.state.clone()),
                    fault: status.and_then(|s| s.fault.clone()),
                    in_use: status.map_or((0, 0), |s| {
                        (s.outputs.iter().filter(|o| o.on).count(), s.outputs.len())
                    }),
                }
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The view of `doors`, given whether the centre's link is up.
    pub fn view(&self, doors: &[Door], connected: bool) -> Vec<DoorView> {
        let mut views: Vec<DoorView> = doors
            .iter()
            .map(|d| self.one(&d.id, &d.name, connected))
            .collect();
        for id in self.heard.keys() {
            if !doors.iter().any(|d| &d.id == id) && self.heard[id].status.is_some() {
                views.push(self.one(id, id.as_str(), connected));
            }
        }
        views
    }

    fn one(&self, id: &DeviceId, name: &str, connected: bool) -> DoorView {
        let heard = self.heard.get(id);
        let availability = availability(heard.and_then(|h| h.online), connected);
        let status = heard
            .and_then(|h| h.status.as_ref())
            .filter(|_| availability == Availability::Online);
        DoorView {
            id: id.clone(),
            name: name.to_owned(),
            availability,
            state: status.map(|s| s.state),
            fault: status.and_then(|s| s.fault.clone()),
            locked_out: status.is_some_and(|s| s.locked_out),
            last_seen: heard.and_then(|h| h.last_seen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::door::lock::LockState;

    #[test]
    fn an_offline_door_shows_no_state_not_its_last_one() {
        let id = DeviceId::new("gym-door").unwrap();
        let doors = [Door {
            id: id.clone(),
            name: "健身房".into(),
        }];
        let mut s = DeviceStates::default();
        let t = Timestamp::from_unix_millis(1);
        assert_eq!(
            s.view(&doors, true)[0].availability,
            Availability::NeverSeen
        );
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, t);
        s.handle_status(id.clone(), br#"{"v":1,"state":"locked"}"#, t);
        let v = &s.view(&doors, true)[0];
        assert_eq!(
            (v.availability, v.state),
            (Availability::Online, Some(LockState::Locked))
        );
        s.handle_online(id.clone(), br#"{"v":1,"online":false}"#, t);
        let v = &s.view(&doors, true)[0];
        assert_eq!((v.availability, v.state), (Availability::Offline, None));
        assert!(v.needs_attention());
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, t);
        // The centre's own link down: nobody can be vouched for.
        assert_eq!(s.view(&doors, false)[0].state, None);
    }
}
