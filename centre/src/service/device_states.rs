//! What each device last said (online flag, door status), turned into the
//! doors view. Architecture invariant: a device that is offline, or that the
//! centre cannot hear (its own link is down), shows as unavailable with no
//! state, never as its last known state.
//!
//! A device whose key the centre knows is believed only on its signature:
//! its online flag is a claim until a signed status newer than any before
//! comes with it ([`PROOF_WINDOW`]), and without a signed status for
//! [`SIGNED_STALE`] it is offline again. A flag forged on the broker, or a
//! signed status recorded and played again, makes no dead door look alive,
//! even after the centre restarts: the newest signed status's time per
//! device is kept in the database (`store::status_marks`) and read back
//! ([`DeviceStates::set_floor`]). Only a status said just now proves
//! anything: one the broker kept and hands over on subscribing (a dead
//! device's last word, newer than any the centre took before it stopped)
//! is taken as the newest but proves nothing, and so is one whose own time
//! is further from the centre's clock than [`PROOF_CLOCK_SLACK`] (a status
//! recorded while the centre was away, its kept copy removed, and played).
//! Nor does one the broker queued for the centre's session while it was
//! away: each run of the centre has a nonce in its birth ([`DeviceStates::
//! run`]), every device puts the nonce it last saw in its signed statuses,
//! and only a status carrying this run's nonce proves (a device too old to
//! carry one is judged by the rest alone).

use std::collections::HashMap;

use keting_core::ids::DeviceId;
use keting_core::messages::{DoorStatus, SessionDeviceStatus, decode};
use keting_core::time::Timestamp;
use serde::Deserialize;

use keting_store::doors::Door;

pub use keting_desk::device_view::{
    Availability, DoorView, DoorsView, HeardDevice, SessionDeviceView,
};

/// An online flag and a signed status this close together prove each other.
pub const PROOF_WINDOW: std::time::Duration = std::time::Duration::from_secs(15);

/// A status proves its device's online flag only if its own time is this
/// close to the centre's clock (a device whose clock is further off cannot
/// check a pass either, and says so with its clock alarm).
pub const PROOF_CLOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(120);

/// How a status reached the centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Its signature was checked against the device's key.
    pub signed: bool,
    /// The broker kept it and handed it over on subscribing (MQTT's retain
    /// flag): said some time ago, not just now.
    pub retained: bool,
}

/// A device with a known key that sent no signed status for this long is
/// offline (every agent sends one at least every minute).
pub const SIGNED_STALE: std::time::Duration = std::time::Duration::from_secs(180);

/// What became of a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusTaken {
    /// Taken into the view.
    Taken,
    /// Taken, and it proved the device's online flag: it came online.
    CameOnline,
    /// Signed, but older than one already taken: played again.
    Replayed,
    /// Not a status.
    Malformed,
}

#[derive(Debug, Default)]
struct Heard {
    online: Option<bool>,
    /// It claimed to be online (its flag), not yet proved by its signature.
    claimed_online: Option<Timestamp>,
    /// When its last signed status came, and that status's own time.
    signed_rx: Option<Timestamp>,
    signed_at_ms: Option<i64>,
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
    /// The newest signed status's time per device from before this run.
    floors: HashMap<DeviceId, i64>,
    /// This run's nonce, in the centre's birth.
    run: String,
}

impl DeviceStates {
    /// The states of a run of the centre whose birth carries `run`.
    pub fn for_run(run: String) -> Self {
        Self {
            run,
            ..Self::default()
        }
    }

    /// This run's nonce.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// A signed status from `id` must be newer than `signed_at_ms` (the
    /// newest taken before the centre restarted) to prove anything.
    pub fn set_floor(&mut self, id: DeviceId, signed_at_ms: i64) {
        self.floors.insert(id, signed_at_ms);
    }

    /// The time of the newest signed status taken from `id`, if any.
    pub fn signed_at_ms(&self, id: &DeviceId) -> Option<i64> {
        self.heard.get(id).and_then(|h| h.signed_at_ms)
    }

    /// A retained `online` flag arrived (birth or last will). For a device
    /// whose key is known (`keyed`) "online" is only a claim until a signed
    /// status proves it; "offline" is believed at once (the safe side).
    pub fn handle_online(&mut self, id: DeviceId, payload: &[u8], now: Timestamp, keyed: bool) {
        let online = decode::<OnlineFlag>(payload)
            .map(|f| f.online)
            .unwrap_or(false);
        let heard = self.heard.entry(id).or_default();
        heard.last_seen = Some(now);
        if online && keyed {
            let proved = heard
                .signed_rx
                .is_some_and(|rx| now.since(rx).is_some_and(|d| d <= PROOF_WINDOW));
            if !proved {
                heard.claimed_online = Some(now);
                return;
            }
        }
        heard.claimed_online = None;
        if online {
            heard.offline_since = None;
        } else if heard.offline_since.is_none() {
            heard.offline_since = Some(now);
        }
        heard.online = Some(online);
    }

    /// Devices with a known key whose signed statuses stopped for
    /// [`SIGNED_STALE`] go offline; run every few seconds.
    pub fn expire_unproved(&mut self, now: Timestamp) {
        for heard in self.heard.values_mut() {
            let stale = heard
                .signed_rx
                .is_some_and(|rx| now.since(rx).is_some_and(|d| d > SIGNED_STALE));
            if stale && heard.online == Some(true) {
                heard.online = Some(false);
                heard.offline_since.get_or_insert(now);
            }
        }
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

    /// A status arrived (a door's, or a session device's). A signed one
    /// older than the last taken is a replay, ignored (as old is taken but
    /// proves nothing); a newer one said just now (not kept by the broker,
    /// its own time within [`PROOF_CLOCK_SLACK`] of `now`) that follows an
    /// online claim within [`PROOF_WINDOW`] proves it.
    pub fn handle_status(
        &mut self,
        id: DeviceId,
        payload: &[u8],
        now: Timestamp,
        delivery: Delivery,
    ) -> StatusTaken {
        let signed = delivery.signed;
        let (door, session) = (
            decode::<DoorStatus>(payload).ok(),
            decode::<SessionDeviceStatus>(payload).ok(),
        );
        let fields = serde_json::from_slice::<serde_json::Value>(payload).ok();
        let field = |name: &str| fields.as_ref().and_then(|v| v.get(name));
        let at_ms = door
            .as_ref()
            .and_then(|s| s.at_ms)
            .or(session.as_ref().and_then(|s| s.at_ms))
            .or_else(|| field("at_ms").and_then(serde_json::Value::as_i64));
        // Said to this run (a device too old to say whose: judged by the rest).
        let to_this_run = field("run").is_none_or(|run| run.as_str() == Some(self.run.as_str()));
        if door.is_none() && session.is_none() && at_ms.is_none() {
            return StatusTaken::Malformed;
        }
        let floor = self.floors.get(&id).copied();
        let heard = self.heard.entry(id).or_default();
        if heard.signed_at_ms.is_none() {
            heard.signed_at_ms = floor;
        }
        // Newer than the last signed one: fresh. As old: the same status
        // again (or a second one in the same millisecond), taken but proving
        // nothing. Older: played again, ignored.
        let mut newer = signed;
        if signed && let (Some(at), Some(last)) = (at_ms, heard.signed_at_ms) {
            if at < last {
                return StatusTaken::Replayed;
            }
            newer = at > last;
        }
        if newer {
            heard.signed_at_ms = at_ms.or(heard.signed_at_ms);
        }
        let slack = i64::try_from(PROOF_CLOCK_SLACK.as_millis()).unwrap_or(i64::MAX);
        let fresh = newer
            && !delivery.retained
            && to_this_run
            && at_ms.is_some_and(|at| (now.as_unix_millis() - at).abs() <= slack);
        if fresh {
            heard.signed_rx = Some(now);
        }
        if let Some(status) = door {
            heard.status = Some(status);
        } else if let Some(status) = session {
            heard.sessions = Some(status);
        }
        heard.last_seen = Some(now);
        let proves = fresh
            && heard
                .claimed_online
                .is_some_and(|c| now.since(c).is_some_and(|d| d <= PROOF_WINDOW));
        if proves {
            heard.claimed_online = None;
            heard.online = Some(true);
            heard.offline_since = None;
            return StatusTaken::CameOnline;
        }
        StatusTaken::Taken
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

    const BASE: i64 = 1_800_000_000_000;
    const LIVE: Delivery = Delivery {
        signed: true,
        retained: false,
    };
    const KEPT: Delivery = Delivery {
        signed: true,
        retained: true,
    };
    const UNSIGNED: Delivery = Delivery {
        signed: false,
        retained: false,
    };

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
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, t, false);
        s.handle_status(id.clone(), br#"{"v":1,"state":"locked"}"#, t, UNSIGNED);
        let v = &s.view(&doors, true)[0];
        assert_eq!(
            (v.availability, v.state),
            (Availability::Online, Some(LockState::Locked))
        );
        s.handle_online(id.clone(), br#"{"v":1,"online":false}"#, t, false);
        let v = &s.view(&doors, true)[0];
        assert_eq!((v.availability, v.state), (Availability::Offline, None));
        assert!(v.needs_attention());
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, t, false);
        // The centre's own link down: nobody can be vouched for.
        assert_eq!(s.view(&doors, false)[0].state, None);
    }

    #[test]
    fn a_keyed_devices_online_flag_needs_its_signature_and_a_replay_proves_nothing() {
        let id = DeviceId::new("gym-door").unwrap();
        let at = |ms: i64| Timestamp::from_unix_millis(BASE + ms);
        let status = |ms: i64| format!(r#"{{"v":1,"state":"locked","at_ms":{}}}"#, BASE + ms);
        let mut s = DeviceStates::default();
        // A flag alone (forged on the broker, or before the status came):
        // not online.
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(0), true);
        assert!(!s.is_online(&id));
        // Its signed status within the window proves it.
        assert_eq!(
            s.handle_status(id.clone(), status(10).as_bytes(), at(1_000), LIVE),
            StatusTaken::CameOnline
        );
        assert!(s.is_online(&id));
        // Its last will: offline. A forged flag and its last status played
        // again: still offline.
        s.handle_online(id.clone(), br#"{"v":1,"online":false}"#, at(60_000), true);
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(120_000), true);
        assert_eq!(
            s.handle_status(id.clone(), status(10).as_bytes(), at(121_000), LIVE),
            StatusTaken::Taken,
            "the latest status again proves nothing"
        );
        assert_eq!(
            s.handle_status(id.clone(), status(9).as_bytes(), at(121_500), LIVE),
            StatusTaken::Replayed
        );
        assert!(!s.is_online(&id), "a dead door never looks alive");
        // Back for real: a newer signed status, then its flag.
        assert_eq!(
            s.handle_status(id.clone(), status(300_000).as_bytes(), at(300_000), LIVE),
            StatusTaken::Taken
        );
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(301_000), true);
        assert!(s.is_online(&id));
        // Silent too long (signed statuses stop): offline again.
        s.expire_unproved(at(300_000 + 181_000));
        assert!(!s.is_online(&id));
        assert_eq!(s.signed_at_ms(&id), Some(BASE + 300_000));
    }

    #[test]
    fn after_a_restart_a_status_played_again_is_still_old() {
        let id = DeviceId::new("gym-door").unwrap();
        let at = |ms: i64| Timestamp::from_unix_millis(BASE + ms);
        let status = |ms: i64| format!(r#"{{"v":1,"state":"locked","at_ms":{}}}"#, BASE + ms);
        // A new run that knows the newest signed status before it (10).
        let mut s = DeviceStates::default();
        s.set_floor(id.clone(), BASE + 10);
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(0), true);
        assert_eq!(
            s.handle_status(id.clone(), status(9).as_bytes(), at(500), LIVE),
            StatusTaken::Replayed
        );
        assert_eq!(
            s.handle_status(id.clone(), status(10).as_bytes(), at(600), LIVE),
            StatusTaken::Taken,
            "the newest one again proves nothing"
        );
        assert!(!s.is_online(&id));
        assert_eq!(
            s.handle_status(id.clone(), status(11).as_bytes(), at(700), LIVE),
            StatusTaken::CameOnline
        );
    }

    #[test]
    fn a_status_the_broker_kept_is_the_newest_but_proves_nothing() {
        let id = DeviceId::new("gym-door").unwrap();
        let at = |ms: i64| Timestamp::from_unix_millis(BASE + ms);
        let status = |ms: i64| format!(r#"{{"v":1,"state":"locked","at_ms":{}}}"#, BASE + ms);
        // A new run: the dead door's last word, kept by the broker and newer
        // than any the old run took, then a forged flag.
        let mut s = DeviceStates::default();
        s.set_floor(id.clone(), BASE + 10);
        assert_eq!(
            s.handle_status(id.clone(), status(20).as_bytes(), at(100), KEPT),
            StatusTaken::Taken
        );
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(200), true);
        assert!(!s.is_online(&id), "a kept status proved a forged flag");
        // It is the newest now: played again live, it proves nothing either.
        assert_eq!(
            s.handle_status(id.clone(), status(20).as_bytes(), at(300), LIVE),
            StatusTaken::Taken
        );
        assert!(!s.is_online(&id));
        assert_eq!(s.signed_at_ms(&id), Some(BASE + 20));
        // The door, alive, answers the centre's birth: that proves it.
        assert_eq!(
            s.handle_status(id.clone(), status(400).as_bytes(), at(400), LIVE),
            StatusTaken::CameOnline
        );
    }

    #[test]
    fn a_status_far_from_the_centres_clock_proves_nothing() {
        let id = DeviceId::new("gym-door").unwrap();
        let at = |ms: i64| Timestamp::from_unix_millis(BASE + ms);
        let status = |ms: i64| format!(r#"{{"v":1,"state":"locked","at_ms":{}}}"#, BASE + ms);
        let mut s = DeviceStates::default();
        s.set_floor(id.clone(), BASE);
        // Recorded ten minutes ago (newer than the floor), its kept copy
        // removed, played now with a forged flag.
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(600_000), true);
        assert_eq!(
            s.handle_status(id.clone(), status(1_000).as_bytes(), at(600_500), LIVE),
            StatusTaken::Taken
        );
        assert!(!s.is_online(&id));
        // Within the slack (a device clock a minute off): proved.
        assert_eq!(
            s.handle_status(id.clone(), status(660_000).as_bytes(), at(601_000), LIVE),
            StatusTaken::CameOnline
        );
    }

    #[test]
    fn only_a_status_said_to_this_run_proves() {
        let id = DeviceId::new("gym-door").unwrap();
        let at = |ms: i64| Timestamp::from_unix_millis(BASE + ms);
        let status = |ms: i64, run: &str| {
            format!(
                r#"{{"v":1,"state":"locked","at_ms":{},"run":"{run}"}}"#,
                BASE + ms
            )
        };
        let mut s = DeviceStates::for_run("b2".into());
        s.set_floor(id.clone(), BASE);
        s.handle_online(id.clone(), br#"{"v":1,"online":true}"#, at(0), true);
        // Queued for the centre's session while it was away (the last run's
        // nonce), handed over live a moment after it said it was back.
        assert_eq!(
            s.handle_status(id.clone(), status(100, "a1").as_bytes(), at(150), LIVE),
            StatusTaken::Taken
        );
        assert!(!s.is_online(&id), "a status said to the last run proved");
        assert_eq!(s.signed_at_ms(&id), Some(BASE + 100));
        // The door's answer to this run's birth.
        assert_eq!(
            s.handle_status(id.clone(), status(200, "b2").as_bytes(), at(210), LIVE),
            StatusTaken::CameOnline
        );
    }
}
