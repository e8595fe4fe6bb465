//! Alarms for people: the open ones and the history, and an
//! acknowledgement that names who gave it (`staff:<id>` from the staff
//! page, `command-line` from a shell), in the audit log too.

use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;

use super::Actor;
use keting_store::alarms::{self, Alarm};
use keting_store::{Store, StoreError, audit};

/// The alarms not cleared, newest first.
pub fn open(store: &Store) -> Result<Vec<Alarm>, StoreError> {
    alarms::open(store.conn())
}

/// The newest `limit` alarms, cleared or not.
pub fn history(store: &Store, limit: i64) -> Result<Vec<Alarm>, StoreError> {
    alarms::recent(store.conn(), limit)
}

/// `actor` acknowledges alarm `id`; the first acknowledgement stays.
pub fn ack(store: &mut Store, actor: Actor, id: i64, now: Timestamp) -> Result<Alarm, StoreError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Alarms)?;
        let before = alarms::get(tx, id)?
            .ok_or_else(|| StoreError::NotFound(format!("alarm {id} (see `kiosk alarm list`)")))?;
        let mut after = alarms::ack(tx, id, &actor.audit_name(), now)?;
        // A call for help is over once someone answered it; someone who
        // came in without a scan, once someone looked.
        if matches!(
            after.kind,
            keting_store::alarms::AlarmKind::Help | keting_store::alarms::AlarmKind::Tailgating
        ) && after.cleared.is_none()
            && alarms::clear(tx, &after.device, after.kind, now)?
        {
            after.cleared = Some(now);
        }
        if before.acked.is_none() {
            audit::record(
                tx,
                now,
                &actor.audit_name(),
                "alarm.ack",
                &format!("{id} {} {}", after.kind.as_str(), after.device),
            )?;
        }
        Ok(after)
    })
}
