//! The doors desk: registering a door, opening it for one pulse at a staff
//! member's request, locking a door released for a fire again (its reset),
//! what the doors reported.
//!
//! An open request is a row the service sends to the door with a deadline
//! and closes with the door's answer; the door decides and relocks on its
//! own timer.

use keting_core::ids::DeviceId;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
/// How long a staff open waits for the door's answer.
pub use keting_store::device_commands::DEADLINE as COMMAND_DEADLINE;
/// When tonight's gym evening began (the entries the staff page lists).
pub use keting_store::door_events::tonight_starts;
use thiserror::Error;

use super::Actor;
use keting_store::doors::{self, Door};
use keting_store::{Store, StoreError, audit, device_commands};

/// Why the doors desk did nothing.
#[derive(Debug, Error)]
pub enum DoorError {
    /// A door id that is not a device id.
    #[error("door id {0:?}: {1}")]
    BadId(String, String),
    /// A name of the wrong length.
    #[error("a door name has 1 to 40 characters, got {0}")]
    BadName(usize),
    /// The door is not registered.
    #[error("door {0} not found (see `kiosk door list`)")]
    UnknownDoor(DeviceId),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DoorError {
    fn from(e: rusqlite::Error) -> Self {
        DoorError::Store(e.into())
    }
}

/// A door id as a person typed it.
pub fn door_id(id: &str) -> Result<DeviceId, DoorError> {
    DeviceId::new(id).map_err(|e| DoorError::BadId(id.to_owned(), e.to_string()))
}

/// Registers a door (or renames it); it gets the roster at once.
pub fn add(
    store: &mut Store,
    actor: Actor,
    door: &DeviceId,
    name: &str,
    now: Timestamp,
) -> Result<(), DoorError> {
    let n = name.trim().chars().count();
    if !(1..=40).contains(&n) {
        return Err(DoorError::BadName(n));
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        doors::add(tx, door, name, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "door.add",
            &format!("{door} {}", name.trim()),
        )?;
        Ok(())
    })
}

/// Asks `door` to open for one pulse; returns the command's id, whose
/// outcome [`open_outcome`] reads once the door answers.
pub fn request_open(
    store: &mut Store,
    actor: Actor,
    door: &DeviceId,
    now: Timestamp,
) -> Result<String, DoorError> {
    request(store, actor, door, now, "door.open", |tx| {
        device_commands::request_unlock(tx, door, actor.staff(), &actor.audit_name(), now)
    })
}

/// Asks `door`, released by its fire-alarm input, to lock again; returns
/// the command's id, whose outcome [`open_outcome`] reads. The door itself
/// refuses while the fire input is still active.
pub fn request_reset(
    store: &mut Store,
    actor: Actor,
    door: &DeviceId,
    now: Timestamp,
) -> Result<String, DoorError> {
    request(store, actor, door, now, "door.reset", |tx| {
        device_commands::request_reset(tx, door, &actor.audit_name(), now)
    })
}

/// A command to a registered door in `actor`'s name (who may open a door
/// may ask it), written by `command` and audited as `action`.
fn request(
    store: &mut Store,
    actor: Actor,
    door: &DeviceId,
    now: Timestamp,
    action: &str,
    command: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<String, StoreError>,
) -> Result<String, DoorError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::OpenDoor)?;
        if !doors::list(tx)?.iter().any(|d| &d.id == door) {
            return Err(DoorError::UnknownDoor(door.clone()));
        }
        let c = command(tx)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            action,
            &format!("{door} command {c}"),
        )?;
        Ok(c)
    })
}

/// The door's answer to an open or reset request: `done`, a refusal,
/// `expired`, or `None` while it is on its way.
pub fn open_outcome(store: &Store, command: &str) -> Result<Option<String>, DoorError> {
    Ok(device_commands::outcome(store.conn(), command)?)
}

/// Every registered door, by name.
pub fn list(store: &Store) -> Result<Vec<Door>, DoorError> {
    Ok(doors::list(store.conn())?)
}

/// What the doors reported since `since`, oldest first: (when, who, what,
/// detail).
pub fn events(
    store: &Store,
    since: Timestamp,
) -> Result<Vec<(Timestamp, String, String, String)>, DoorError> {
    Ok(audit::since(store.conn(), since, "door.")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staff_open_names_the_staff_member_and_an_unknown_door_is_refused() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Timestamp::from_unix_millis(1_000);
        let door = door_id("gym-door").unwrap();
        assert!(matches!(
            request_open(&mut store, Actor::CommandLine, &door, now),
            Err(DoorError::UnknownDoor(_))
        ));
        add(&mut store, Actor::CommandLine, &door, "健身房", now).unwrap();
        let desk_staff = super::super::staff::staff_for_tests(
            &mut store,
            keting_core::staff::StaffRole::Technician,
        );
        let c = request_open(&mut store, Actor::Staff(desk_staff), &door, now).unwrap();
        assert_eq!(open_outcome(&store, &c).unwrap(), None);
        let log = audit::recent(store.conn(), 1).unwrap();
        assert_eq!(
            (log[0].actor.clone(), log[0].action.as_str()),
            (format!("staff:{desk_staff}"), "door.open")
        );
        assert!(matches!(
            add(&mut store, Actor::CommandLine, &door, " ", now),
            Err(DoorError::BadName(0))
        ));
    }
}
