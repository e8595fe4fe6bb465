//! Who is inside the gym tonight: each door's head count and the people
//! counted in, from the passages its door reported since 18:00
//! ([`keting_core::door::occupancy`]), and the welfare watch a manager sets
//! (someone alone inside longer than this, at these hours, is an alarm).
//!
//! "Tonight" is the evening the staff page lists (from 18:00 local): a
//! passage before it is not counted, so someone who came in at 17:50 and
//! is still inside is not in tonight's count.

use keting_core::calendar::SiteCalendar;
use keting_core::door::occupancy::{Occupancy, WelfarePolicy};
use keting_core::ids::{DeviceId, MemberId};
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use thiserror::Error;

use super::Actor;
use keting_store::{Store, StoreError, audit, door_events, doors, members, welfare_watch};

/// One door's occupancy tonight.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DoorInside {
    /// The door.
    pub door: DeviceId,
    /// Its name for people (the id when it is not registered).
    pub name: String,
    /// Its passages read in order.
    pub occupancy: Occupancy,
    /// The names of those counted in (a member erased or let in for
    /// nobody named: `None`).
    pub names: Vec<(Option<MemberId>, Option<String>, Timestamp)>,
}

impl DoorInside {
    /// How many people are inside.
    pub fn head_count(&self) -> usize {
        self.occupancy.head_count()
    }

    /// Who it may be, for people: a name, `#12`, or `someone`.
    pub fn name_of(&self, member: Option<MemberId>) -> String {
        self.names
            .iter()
            .find(|(m, _, _)| *m == member)
            .and_then(|(_, name, _)| name.clone())
            .or_else(|| member.map(|m| format!("#{}", m.0)))
            .unwrap_or_else(|| "?".to_owned())
    }
}

/// Every door that had a passage tonight, by name.
pub fn tonight(
    store: &Store,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Vec<DoorInside>, StoreError> {
    let conn = store.conn();
    let since = door_events::tonight_starts(calendar, now);
    let passages = door_events::passages_since(conn, since)?;
    let registered = doors::list(conn)?;
    let mut out: Vec<DoorInside> = Vec::new();
    for (door, passage) in passages {
        let i = match out.iter().position(|d| d.door == door) {
            Some(i) => i,
            None => {
                let name = registered
                    .iter()
                    .find(|d| d.id == door)
                    .map(|d| d.name.clone())
                    .unwrap_or_else(|| door.as_str().to_owned());
                out.push(DoorInside {
                    door,
                    name,
                    occupancy: Occupancy::default(),
                    names: Vec::new(),
                });
                out.len() - 1
            }
        };
        out[i].occupancy.pass(passage);
    }
    for d in &mut out {
        for inside in d.occupancy.counted() {
            let name = match inside.member {
                Some(m) => members::get(conn, m)?.map(|m| m.name),
                None => None,
            };
            d.names.push((inside.member, name, inside.since));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Why the welfare watch was not set.
#[derive(Debug, Error)]
pub enum WelfareError {
    /// Minutes alone outside 1 to 1440.
    #[error("alone for 1 to 1440 minutes, not {0}")]
    BadMinutes(u32),
    /// The database, or the actor may not.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for WelfareError {
    fn from(e: rusqlite::Error) -> Self {
        WelfareError::Store(e.into())
    }
}

/// The welfare watch in force.
pub fn welfare(store: &Store) -> Result<WelfarePolicy, StoreError> {
    welfare_watch::get(store.conn())
}

/// Sets the welfare watch (who may: whoever sets where alarms go).
pub fn set_welfare(
    store: &mut Store,
    actor: Actor,
    policy: WelfarePolicy,
    now: Timestamp,
) -> Result<(), WelfareError> {
    if !(1..=1440).contains(&policy.alone_after_min) {
        return Err(WelfareError::BadMinutes(policy.alone_after_min));
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::AlertChannels)?;
        welfare_watch::set(tx, &policy, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "welfare.set",
            &format!(
                "alone over {} min, {}-{}",
                policy.alone_after_min,
                super::alerts::hh_mm(policy.night_from_min),
                super::alerts::hh_mm(policy.night_to_min)
            ),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::door::occupancy::Way;
    use keting_core::messages::{Event, EventKind, MessageId};

    #[test]
    fn tonight_counts_each_doors_passages_by_name_and_only_a_manager_sets_the_watch() {
        let mut store = Store::open_in_memory().unwrap();
        let cal = SiteCalendar::china();
        let evening =
            door_events::tonight_starts(cal, Timestamp::from_unix_millis(1_800_000_000_000));
        let at = |min: i64| Timestamp::from_unix_millis(evening.as_unix_millis() + min * 60_000);
        let door = DeviceId::new("gym-door").unwrap();
        doors::add(store.conn(), &door, "健身房", at(0)).unwrap();
        let pass = |id: &str, min: i64, way: Way, member: Option<u32>| {
            let e = Event {
                v: keting_core::messages::PROTOCOL_VERSION,
                id: MessageId::new(id).unwrap(),
                at_ms: at(min).as_unix_millis(),
                kind: EventKind::Passed {
                    way,
                    member: member.map(MemberId),
                },
            };
            door_events::record(store.conn(), &door, &e, at(min)).unwrap();
        };
        // Before tonight: not counted.
        pass("p0", -30, Way::In, Some(5));
        pass("p1", 10, Way::In, Some(1));
        pass("p2", 20, Way::In, Some(2));
        pass("p3", 30, Way::Out, None);
        let t = tonight(&store, cal, at(40)).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "健身房");
        assert_eq!(t[0].head_count(), 1);
        assert_eq!(t[0].names.len(), 2, "either of the two is inside");

        let observer = super::super::staff::staff_for_tests(
            &mut store,
            keting_core::staff::StaffRole::Observer,
        );
        let p = WelfarePolicy {
            alone_after_min: 120,
            ..WelfarePolicy::default()
        };
        assert!(set_welfare(&mut store, Actor::Staff(observer), p, at(41)).is_err());
        assert!(matches!(
            set_welfare(
                &mut store,
                Actor::CommandLine,
                WelfarePolicy {
                    alone_after_min: 0,
                    ..p
                },
                at(41)
            ),
            Err(WelfareError::BadMinutes(0))
        ));
        set_welfare(&mut store, Actor::CommandLine, p, at(42)).unwrap();
        assert_eq!(welfare(&store).unwrap(), p);
    }
}
