//! Who is inside, watched: an exit that nobody's entry accounts for is a
//! tailgating alarm (two in on one scan), raised when the door reports it
//! and cleared when staff acknowledge it; someone alone inside longer than
//! the welfare watch allows, at its hours, is a welfare alarm, checked once
//! a second and cleared when they leave or someone joins them.
//!
//! The head count itself is `keting_desk::occupancy` (the surfaces show
//! it from the doors view); this module only turns it into alarms.

use keting_core::calendar::SiteCalendar;
use keting_core::door::occupancy::Way;
use keting_core::ids::DeviceId;
use keting_core::messages::{Event, EventKind};
use keting_core::time::Timestamp;
use keting_desk::occupancy::{DoorInside, tonight};
use keting_store::alarms::{self, AlarmKind};
use keting_store::{Store, StoreError, door_events, welfare_watch};

use super::alarm_watch::set;

fn hh_mm(calendar: SiteCalendar, t: Timestamp) -> String {
    let l = calendar.local(t);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// A door's event, stored: an exit nobody's entry accounts for raises the
/// tailgating alarm, naming who left (if the exit reader read them) and
/// the last one in before.
pub fn on_event(
    store: &Store,
    calendar: SiteCalendar,
    device: &DeviceId,
    event: &Event,
    now: Timestamp,
) -> Result<(), StoreError> {
    let EventKind::Passed { way: Way::Out, .. } = event.kind else {
        return Ok(());
    };
    let Some(door) = tonight(store, calendar, now)?
        .into_iter()
        .find(|d| &d.door == device)
    else {
        return Ok(());
    };
    let at = Timestamp::from_unix_millis(event.at_ms);
    let Some(u) = door.occupancy.unaccounted().last().filter(|u| u.at == at) else {
        return Ok(());
    };
    let since = door_events::tonight_starts(calendar, now);
    let last_in = door_events::last_entry_at(store.conn(), device, since)?
        .map(|e| {
            format!(
                "{} {}",
                e.name.unwrap_or_else(|| format!("#{}", e.member.0)),
                hh_mm(calendar, e.at)
            )
        })
        .unwrap_or_else(|| "-".to_owned());
    let who = u
        .member
        .map(|m| door.name_of(Some(m)))
        .unwrap_or_else(|| "未识别 unknown".to_owned());
    let detail = format!(
        "{} 出门 out: {who}; 最后刷码进入 last in: {last_in}",
        hh_mm(calendar, at)
    );
    tracing::warn!(device = %device, "someone left whom no scan let in");
    set(
        store.conn(),
        device,
        AlarmKind::Tailgating,
        true,
        &detail,
        now,
    )
}

/// Once a second: the welfare alarm of each door, raised for someone alone
/// inside too long and cleared when that is over.
pub fn sweep(store: &Store, calendar: SiteCalendar, now: Timestamp) -> Result<(), StoreError> {
    let conn = store.conn();
    let policy = welfare_watch::get(conn)?;
    let minute = {
        let l = calendar.local(now);
        u16::from(l.hour()) * 60 + u16::from(l.minute())
    };
    let doors = tonight(store, calendar, now)?;
    let mut overdue: Vec<&DoorInside> = Vec::new();
    for door in &doors {
        if let Some(alone) = policy.overdue(&door.occupancy, now, minute) {
            let names: Vec<String> = alone.candidates.iter().map(|m| door.name_of(*m)).collect();
            let detail = format!(
                "{} 独自在内 alone since {}",
                names.join(" / "),
                hh_mm(calendar, alone.since)
            );
            set(conn, &door.door, AlarmKind::Welfare, true, &detail, now)?;
            overdue.push(door);
        }
    }
    for open in alarms::open(conn)? {
        if open.kind == AlarmKind::Welfare && !overdue.iter().any(|d| d.door == open.device) {
            set(conn, &open.device, AlarmKind::Welfare, false, "", now)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::ids::MemberId;
    use keting_core::messages::{MessageId, PROTOCOL_VERSION};

    struct Night {
        store: Store,
        cal: SiteCalendar,
        door: DeviceId,
        evening: Timestamp,
        n: u32,
    }

    impl Night {
        fn new() -> Self {
            let store = Store::open_in_memory().unwrap();
            let cal = SiteCalendar::china();
            // 18:00 of some evening, on the simulated clock.
            let evening =
                door_events::tonight_starts(cal, Timestamp::from_unix_millis(1_800_000_000_000));
            let door = DeviceId::new("gym-door").unwrap();
            keting_store::doors::add(store.conn(), &door, "健身房", evening).unwrap();
            Self {
                store,
                cal,
                door,
                evening,
                n: 0,
            }
        }

        /// `min` minutes after 18:00.
        fn at(&self, min: i64) -> Timestamp {
            Timestamp::from_unix_millis(self.evening.as_unix_millis() + min * 60_000)
        }

        fn pass(&mut self, min: i64, way: Way, member: Option<u32>) {
            self.n += 1;
            let e = Event {
                v: PROTOCOL_VERSION,
                id: MessageId::new(format!("e{}", self.n)).unwrap(),
                at_ms: self.at(min).as_unix_millis(),
                kind: EventKind::Passed {
                    way,
                    member: member.map(MemberId),
                },
            };
            door_events::record(self.store.conn(), &self.door, &e, self.at(min)).unwrap();
            on_event(&self.store, self.cal, &self.door, &e, self.at(min)).unwrap();
        }

        fn open(&self, kind: AlarmKind) -> Option<String> {
            alarms::open(self.store.conn())
                .unwrap()
                .into_iter()
                .find(|a| a.kind == kind)
                .map(|a| a.detail)
        }
    }

    #[test]
    fn a_member_in_at_23_10_and_not_out_is_a_welfare_alarm_at_02_10_cleared_when_they_leave() {
        let mut n = Night::new();
        // 23:10 is 310 minutes after 18:00.
        n.pass(310, Way::In, Some(7));
        for (min, raised) in [(311, false), (489, false), (490, true), (520, true)] {
            sweep(&n.store, n.cal, n.at(min)).unwrap();
            assert_eq!(
                n.open(AlarmKind::Welfare).is_some(),
                raised,
                "at minute {min}"
            );
        }
        assert_eq!(
            n.open(AlarmKind::Welfare).unwrap(),
            "#7 独自在内 alone since 23:10"
        );
        n.pass(521, Way::Out, None);
        sweep(&n.store, n.cal, n.at(522)).unwrap();
        assert!(n.open(AlarmKind::Welfare).is_none(), "they left: cleared");
        assert!(n.open(AlarmKind::Tailgating).is_none());
    }

    #[test]
    fn two_in_on_one_scan_is_seen_when_the_second_leaves() {
        let mut n = Night::new();
        n.pass(300, Way::In, Some(1));
        n.pass(330, Way::Out, None);
        assert!(n.open(AlarmKind::Tailgating).is_none());
        // Someone whom no scan let in comes out.
        n.pass(331, Way::Out, None);
        let detail = n.open(AlarmKind::Tailgating).unwrap();
        assert!(
            detail.starts_with("23:31 出门 out: 未识别 unknown"),
            "{detail}"
        );
        // A redelivered event raises nothing new.
        let again = alarms::open(n.store.conn()).unwrap().len();
        sweep(&n.store, n.cal, n.at(332)).unwrap();
        assert_eq!(alarms::open(n.store.conn()).unwrap().len(), again);
    }
}
