//! The claims desk: devices enrolling with a label's code, confirmed by a
//! technician who compared the PIN the device shows with the one here.
//! The service answers a confirmed claim within a poll interval.

use keting_core::ids::DeviceId;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
/// How long a claim waits for a technician by default, in seconds.
pub use keting_provisioning::device_claim::DEFAULT_WINDOW_S;

use super::Actor;
pub use keting_store::device_claims::ConfirmError;
use keting_store::device_claims::{self, PendingClaim};
use keting_store::{Store, StoreError, audit};

/// Confirms `device`'s newest waiting claim. With `pin` (typed by the
/// technician from the device's panel) it must be that claim's PIN; the
/// touch screen, which shows the PIN beside the device, passes `None`.
pub fn confirm(
    store: &mut Store,
    actor: Actor,
    device: &DeviceId,
    pin: Option<&str>,
    now: Timestamp,
) -> Result<(), ConfirmError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        let key = device_claims::confirm(tx, device, pin, &actor.audit_name(), now)?;
        // The key the device made, under the code's proof: from now on its
        // answers must carry its signature.
        match key.as_deref().map(keting_core::pass::decode_public_key) {
            Some(Ok(key)) => keting_store::device_keys::put(tx, device, &key, "claim", now)?,
            Some(Err(e)) => {
                tracing::warn!(device = %device, "the claim's device key is not valid ({e}): the device's signed answers will not be taken")
            }
            None => {}
        }
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "claim.confirm",
            device.as_str(),
        )?;
        Ok(())
    })
}

/// The claims waiting for a technician, newest first.
pub fn pending(store: &Store, now: Timestamp) -> Result<Vec<PendingClaim>, StoreError> {
    device_claims::pending(store.conn(), now)
}
