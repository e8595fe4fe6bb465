//! Where alarms come from: what the devices say, and what they stop
//! saying. The controller hands each stored event, each status and, once a
//! second, the devices' online flags and the redemptions in doubt to this
//! module, which raises and clears alarms (`store::alarms`).
//!
//! - a door's forced and held-open alarms: raised and cleared by its
//!   events (signed by the door's key when the centre knows it: a forged
//!   event is dropped before it gets here); a status saying `forced` or
//!   `held_open` raises too but never clears, since statuses are not
//!   signed: a forged status cannot silence an alarm;
//! - a reader locked out and a device's fault: raised while its status
//!   says so, cleared when its status no longer does (and by the door's
//!   lockout events);
//! - a device offline for more than [`OFFLINE_AFTER`] (its last will),
//!   cleared when it is back; not judged while the centre's own link is
//!   down (then nothing can be heard);
//! - a machine with drinks in doubt, cleared when every one is settled;
//! - a device's clock wrong (its signed `clock` event: more than a minute
//!   from the centre's, or known wrong with no centre time), cleared by its
//!   event saying right again; the detail is the device's clock minus the
//!   centre's, `+12:00:03`, or `unknown`;
//! - the centre's own clock wrong ([`CentreClock`], on the device
//!   [`CENTRE`]): raised while it reads before 2026 (a Pi that woke with no
//!   time); the kernel's NTP flag is logged when it changes, not an alarm,
//!   since a centre with no network and its own NTP server never has it.

use std::time::Duration;

use keting_core::door::lock::{Alarm as DoorAlarm, LockState};
use keting_core::ids::DeviceId;
use keting_core::messages::{DoorStatus, EventKind, SessionDeviceStatus, decode};
use keting_core::time::Timestamp;
use rusqlite::Connection;

use super::device_states::DeviceStates;
use keting_store::alarms::{self, AlarmKind};
use keting_store::{StoreError, redemptions};

/// How long a device may be offline before it is an alarm.
pub const OFFLINE_AFTER: Duration = Duration::from_secs(60);

/// Raises (`on`) or clears an alarm, logging a change; nothing when it is
/// already so.
pub(super) fn set(
    conn: &Connection,
    device: &DeviceId,
    kind: AlarmKind,
    on: bool,
    detail: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    if on {
        if alarms::is_open(conn, device, kind)? {
            return Ok(());
        }
        if let Some(id) = alarms::raise(conn, device, kind, detail, now)? {
            tracing::warn!(device = %device, alarm = kind.as_str(), id, "alarm raised");
        }
    } else if alarms::is_open(conn, device, kind)? && alarms::clear(conn, device, kind, now)? {
        // Read first: most of the time nothing is open, and nothing is written.
        tracing::info!(device = %device, alarm = kind.as_str(), "alarm cleared");
    }
    Ok(())
}

/// The device name the centre's own alarms are raised on.
pub const CENTRE: &str = "centre";

/// The centre's own clock, checked once a second.
#[derive(Debug, Default)]
pub struct CentreClock {
    synced: Option<Option<bool>>,
}

impl CentreClock {
    /// Raises or clears the centre's clock alarm; logs the NTP flag's changes.
    pub fn check(&mut self, conn: &Connection, now: Timestamp) -> Result<(), StoreError> {
        let synced = keting_link::clock::kernel_synchronised();
        if self.synced != Some(synced) {
            match synced {
                Some(true) => tracing::info!("this centre's clock is synchronised (NTP)"),
                Some(false) => tracing::warn!(
                    "this centre's clock is not synchronised by NTP: the doors follow it, so serve NTP or check it (README: time on a LAN with no internet)"
                ),
                None => tracing::warn!("this centre's NTP flag cannot be read"),
            }
            self.synced = Some(synced);
        }
        let Ok(centre) = DeviceId::new(CENTRE) else {
            return Ok(());
        };
        // The check-in desk's rule: before 2026, or behind the newest visit.
        let newest_visit = keting_store::checkins::newest_visit_at(conn)?;
        let wrong = keting_core::clock_judge::known_wrong(now, newest_visit);
        let detail = if wrong {
            keting_core::calendar::SiteCalendar::default()
                .date_of(now)
                .to_string()
        } else {
            String::new()
        };
        set(conn, &centre, AlarmKind::ClockWrong, wrong, &detail, now)
    }
}

/// A device's event, stored and signed.
pub fn on_event(
    conn: &Connection,
    device: &DeviceId,
    kind: &EventKind,
    now: Timestamp,
) -> Result<(), StoreError> {
    if let EventKind::Alarm { alarm, raised } = kind {
        let kind = match alarm {
            DoorAlarm::Forced => AlarmKind::Forced,
            DoorAlarm::HeldOpen => AlarmKind::HeldOpen,
            DoorAlarm::Lockout => AlarmKind::ReaderLockout,
            DoorAlarm::Help => AlarmKind::Help,
            DoorAlarm::Fire => AlarmKind::Fire,
        };
        if kind == AlarmKind::Help {
            // Who may need the help: the last one in through this door in
            // the last twelve hours, by name. Cleared by staff who answered
            // it (their acknowledgement), never by the door.
            if *raised {
                let since = Timestamp::from_unix_millis(now.as_unix_millis() - 12 * 3600 * 1000);
                let detail = keting_store::door_events::last_entry_at(conn, device, since)?
                    .map(|e| {
                        let at = keting_core::calendar::SiteCalendar::china().local(e.at);
                        format!(
                            "最后进入 last in: {} {:02}:{:02}",
                            e.name.unwrap_or_else(|| format!("#{}", e.member.0)),
                            at.hour(),
                            at.minute()
                        )
                    })
                    .unwrap_or_default();
                set(conn, device, kind, true, &detail, now)?;
            }
        } else {
            set(conn, device, kind, *raised, "", now)?;
        }
    }
    if let EventKind::Clock {
        wrong, offset_ms, ..
    } = kind
    {
        let detail = offset_ms.map_or_else(|| "unknown".to_owned(), |o| alarms::clock_skew(-o));
        set(conn, device, AlarmKind::ClockWrong, *wrong, &detail, now)?;
        if *wrong && offset_ms.is_some() {
            alarms::update_detail(conn, device, AlarmKind::ClockWrong, &detail)?;
        }
    }
    Ok(())
}

/// A device's status (a door's or a session device's).
pub fn on_status(
    conn: &Connection,
    device: &DeviceId,
    payload: &[u8],
    now: Timestamp,
) -> Result<(), StoreError> {
    let fault = if let Ok(s) = decode::<DoorStatus>(payload) {
        match s.state {
            LockState::Forced => set(conn, device, AlarmKind::Forced, true, "", now)?,
            LockState::HeldOpen => set(conn, device, AlarmKind::HeldOpen, true, "", now)?,
            LockState::Released => set(conn, device, AlarmKind::Fire, true, "", now)?,
            _ => {}
        }
        set(
            conn,
            device,
            AlarmKind::ReaderLockout,
            s.locked_out,
            "",
            now,
        )?;
        s.fault
    } else if let Ok(s) = decode::<SessionDeviceStatus>(payload) {
        s.fault
    } else {
        return Ok(());
    };
    set(
        conn,
        device,
        AlarmKind::Fault,
        fault.is_some(),
        fault.as_deref().unwrap_or(""),
        now,
    )
}

/// Once a second: devices offline too long, drinks in doubt.
pub fn sweep(
    conn: &Connection,
    states: &DeviceStates,
    connected: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    if connected {
        let after = i64::try_from(OFFLINE_AFTER.as_millis()).unwrap_or(i64::MAX);
        for (device, since) in states.offline_since() {
            let long = since.is_some_and(|s| now.as_unix_millis() - s.as_unix_millis() >= after);
            set(conn, &device, AlarmKind::Offline, long, "", now)?;
        }
    }
    let in_doubt = redemptions::in_doubt_per_device(conn)?;
    for (device, n) in &in_doubt {
        set(
            conn,
            device,
            AlarmKind::VendInDoubt,
            true,
            &format!("{n}"),
            now,
        )?;
    }
    for open in alarms::open(conn)? {
        if open.kind == AlarmKind::VendInDoubt && !in_doubt.iter().any(|(d, _)| *d == open.device) {
            set(conn, &open.device, AlarmKind::VendInDoubt, false, "", now)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::messages::PROTOCOL_VERSION;
    use keting_store::Store;

    #[test]
    fn a_forged_status_raises_but_only_the_doors_signed_event_clears() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let c = store.conn();
        let door = DeviceId::new("gym-door").unwrap();
        let t = Timestamp::from_unix_millis;
        let status = |state: LockState, fault: Option<&str>, locked_out: bool| {
            keting_core::messages::encode(&DoorStatus {
                v: PROTOCOL_VERSION,
                state,
                fault: fault.map(str::to_owned),
                locked_out,
                at_ms: None,
            })
        };
        on_status(c, &door, &status(LockState::Forced, None, false), t(1)).unwrap();
        on_status(c, &door, &status(LockState::Locked, None, false), t(2)).unwrap();
        assert!(
            alarms::is_open(c, &door, AlarmKind::Forced).unwrap(),
            "a status does not clear it"
        );
        let cleared = EventKind::Alarm {
            alarm: DoorAlarm::Forced,
            raised: false,
        };
        on_event(c, &door, &cleared, t(3)).unwrap();
        assert!(!alarms::is_open(c, &door, AlarmKind::Forced).unwrap());
        on_status(
            c,
            &door,
            &status(LockState::Locked, Some("relay board unreachable"), true),
            t(4),
        )
        .unwrap();
        let open = alarms::open(c).unwrap();
        assert_eq!(open.len(), 2, "{open:?}");
        assert!(
            open.iter()
                .any(|a| a.kind == AlarmKind::Fault && a.detail == "relay board unreachable")
        );
        on_status(c, &door, &status(LockState::Locked, None, false), t(5)).unwrap();
        assert!(alarms::open(c).unwrap().is_empty());
    }

    #[test]
    fn a_device_is_an_alarm_after_a_minute_offline_and_not_while_the_centre_hears_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("k.db")).unwrap();
        let c = store.conn();
        let door = DeviceId::new("gym-door").unwrap();
        let t = Timestamp::from_unix_millis;
        let mut states = DeviceStates::default();
        states.handle_online(door.clone(), br#"{"v":1,"online":false}"#, t(0), false);
        sweep(c, &states, true, t(59_000)).unwrap();
        assert!(alarms::open(c).unwrap().is_empty(), "not yet a minute");
        sweep(c, &states, false, t(61_000)).unwrap();
        assert!(
            alarms::open(c).unwrap().is_empty(),
            "the centre's own link is down"
        );
        sweep(c, &states, true, t(61_000)).unwrap();
        assert!(alarms::is_open(c, &door, AlarmKind::Offline).unwrap());
        states.handle_online(door.clone(), br#"{"v":1,"online":true}"#, t(70_000), false);
        sweep(c, &states, true, t(71_000)).unwrap();
        assert!(!alarms::is_open(c, &door, AlarmKind::Offline).unwrap());
    }

    #[test]
    fn a_call_for_help_names_the_last_one_in_reaches_every_channel_and_ends_when_answered() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("k.db")).unwrap();
        let door = DeviceId::new("gym-door").unwrap();
        let t = |ms: i64| Timestamp::from_unix_millis(1_796_500_000_000 + ms);
        let member = store
            .write(|tx| {
                keting_store::members::add(
                    tx,
                    &keting_store::members::NewMember::new("王芳", Some("5067"), &[]).unwrap(),
                    t(0),
                )
            })
            .unwrap();
        // Two channels; forced doors routed to one only. A call for help
        // goes to both all the same.
        store
            .write(|tx| {
                for (name, url) in [("duty", "https://a.cn/x"), ("boss", "https://b.cn/y")] {
                    keting_store::alerts::put_channel(
                        tx,
                        &keting_store::alerts::Channel {
                            name: name.into(),
                            kind: keting_store::alerts::ChannelKind::WeCom,
                            url: url.into(),
                            secret_file: None,
                        },
                        t(0),
                    )?;
                }
                keting_store::alerts::set_route(tx, AlarmKind::Help, &["duty".into()])
            })
            .unwrap();
        let entry = keting_core::messages::Event {
            v: PROTOCOL_VERSION,
            id: keting_core::messages::MessageId::new("e-gym-door-1").unwrap(),
            at_ms: t(1_000).as_unix_millis(),
            kind: EventKind::AccessGranted { member },
        };
        keting_store::door_events::record(store.conn(), &door, &entry, t(1_000)).unwrap();
        let help = EventKind::Alarm {
            alarm: DoorAlarm::Help,
            raised: true,
        };
        on_event(store.conn(), &door, &help, t(60_000)).unwrap();
        let open = alarms::open(store.conn()).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].kind, AlarmKind::Help);
        assert!(open[0].detail.contains("王芳"), "{}", open[0].detail);
        let queued = keting_store::alerts::due(store.conn(), t(60_000), 10).unwrap();
        assert_eq!(queued.len(), 2, "every channel at once, routes or not");
        // The door never clears it; staff who answered it do.
        let cleared = EventKind::Alarm {
            alarm: DoorAlarm::Help,
            raised: false,
        };
        on_event(store.conn(), &door, &cleared, t(61_000)).unwrap();
        assert!(alarms::is_open(store.conn(), &door, AlarmKind::Help).unwrap());
        let answered = keting_desk::alarms::ack(
            &mut store,
            keting_desk::Actor::CommandLine,
            open[0].id,
            t(90_000),
        )
        .unwrap();
        assert_eq!(answered.cleared, Some(t(90_000)));
        assert!(!alarms::is_open(store.conn(), &door, AlarmKind::Help).unwrap());
    }
}
