//! `device list`: the inventory beside what each device last said on the
//! broker. A device that is not online shows as offline or never connected,
//! never as its last state.

use std::collections::BTreeMap;
use std::fmt::Write;

use keting_core::time::Timestamp;

use crate::broker_session::DeviceSeen;
use crate::inventory::DeviceEntry;

/// "12 s ago", "5 min ago", "3 h ago", "2 days ago".
pub fn ago(now: Timestamp, then_ms: i64) -> String {
    let s = (now.as_unix_millis() - then_ms).max(0) / 1000;
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The table `device list` prints; `seen` is `None` when the broker could
/// not be asked.
pub fn table(
    devices: &[DeviceEntry],
    seen: Option<&BTreeMap<String, DeviceSeen>>,
    now: Timestamp,
) -> String {
    let mut out = format!(
        "{:<24}  {:<10}  {:<16}  {}\n",
        "name", "kind", "status", "last seen"
    );
    if devices.is_empty() {
        out += "(no devices: `keting-provision device add --kind lock --name NAME ...`)\n";
    }
    for d in devices {
        let s = seen.and_then(|seen| seen.get(&d.name));
        let status = match (d.retired, s.and_then(|s| s.online)) {
            (true, _) => "retired".to_owned(),
            (false, Some(true)) => match s.and_then(|s| s.fault.as_ref()) {
                Some(_) => "online, FAULT".to_owned(),
                None => format!(
                    "online, {}",
                    s.and_then(|s| s.state.as_deref()).unwrap_or("up")
                ),
            },
            (false, Some(false)) => "offline".to_owned(),
            (false, None) if seen.is_none() => "unknown".to_owned(),
            (false, None) => "never connected".to_owned(),
        };
        let last = match (s.and_then(|s| s.online), s.and_then(|s| s.last_seen_ms)) {
            (Some(true), _) => "now".to_owned(),
            (_, Some(ms)) => ago(now, ms),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "{:<24}  {:<10}  {:<16}  {}",
            d.name,
            d.kind.as_str(),
            status,
            last
        );
        if let Some(fault) = s.and_then(|s| s.fault.as_ref()) {
            let _ = writeln!(out, "{:<24}  fault: {fault}", "");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::DeviceKind;

    fn entry(name: &str, retired: bool) -> DeviceEntry {
        DeviceEntry {
            name: name.into(),
            kind: DeviceKind::Lock,
            retired,
        }
    }

    #[test]
    fn an_offline_device_shows_offline_with_when_it_was_last_seen_never_its_last_state() {
        let now = Timestamp::from_unix_millis(10_000_000);
        let seen = BTreeMap::from([
            (
                "gym-door".to_owned(),
                DeviceSeen {
                    online: Some(false),
                    last_seen_ms: Some(10_000_000 - 7 * 60_000),
                    state: Some("unlocked".into()),
                    fault: None,
                },
            ),
            (
                "side-door".to_owned(),
                DeviceSeen {
                    online: Some(true),
                    last_seen_ms: Some(9_990_000),
                    state: Some("locked".into()),
                    fault: Some("relay board tcp:10.0.0.5:502 channel 1: no answer".into()),
                },
            ),
        ]);
        let t = table(
            &[
                entry("gym-door", false),
                entry("side-door", false),
                entry("new-door", false),
                entry("old", true),
            ],
            Some(&seen),
            now,
        );
        let line = |name: &str| t.lines().find(|l| l.starts_with(name)).unwrap().to_owned();
        assert!(
            line("gym-door").contains("offline") && line("gym-door").ends_with("7 min ago"),
            "{t}"
        );
        assert!(!line("gym-door").contains("unlocked"), "{t}");
        assert!(
            line("side-door").contains("online, FAULT") && line("side-door").ends_with("now"),
            "{t}"
        );
        assert!(
            t.contains("fault: relay board tcp:10.0.0.5:502 channel 1: no answer"),
            "{t}"
        );
        assert!(line("new-door").contains("never connected"), "{t}");
        assert!(line("old").contains("retired"), "{t}");
    }

    #[test]
    fn without_the_broker_every_status_is_unknown() {
        let t = table(
            &[entry("gym-door", false)],
            None,
            Timestamp::from_unix_millis(0),
        );
        assert!(t.lines().nth(1).unwrap().contains("unknown"), "{t}");
    }
}
