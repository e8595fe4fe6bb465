//! The devices desk: each device's own public key, which its signed
//! answers must verify with. A claimed device's key comes with its claim
//! (`claims::confirm`); a device set up by hand gets its key here, read off
//! the device with `device-agent --public-key`.

use keting_core::ids::DeviceId;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;

use super::Actor;
use crate::store::{Store, StoreError, audit, device_keys};

/// Trusts `key` (base64url, as `device-agent --public-key` prints it) as
/// `device`'s own key, replacing any before.
pub fn trust(
    store: &mut Store,
    actor: Actor,
    device: &DeviceId,
    key: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let key = keting_core::pass::decode_public_key(key.trim()).map_err(|e| {
        StoreError::Invalid(format!(
            "{e}: give the key `device-agent --public-key` prints on the device"
        ))
    })?;
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        device_keys::put(tx, device, &key, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "device.trust",
            &format!(
                "{device} key {}",
                keting_core::pass::encode_public_key(&key)
            ),
        )
    })
}

/// Every device's key: (device, key as base64url, who gave it, when).
pub fn keys(store: &Store) -> Result<Vec<(String, String, String, Timestamp)>, StoreError> {
    Ok(device_keys::list(store.conn())?
        .into_iter()
        .map(|(d, k, s, t)| (d, keting_core::pass::encode_public_key(&k), s, t))
        .collect())
}
