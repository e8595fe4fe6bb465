//! The devices desk: each device's own public key, which its signed
//! answers must verify with; a device's self-test; and, on a centre that
//! holds the provisioning site directory (`kiosk site import`), the
//! technician's steps: the device inventory, an enrolment label, a device
//! replaced after a factory reset, a device retired.
//!
//! A claimed device's key comes with its claim (`claims::confirm`); a
//! device set up by hand gets its key here, read off the device with
//! `device-agent --public-key`. Every step needs a role that may manage
//! devices (`StaffAction::Devices`) and is audited with the person. A site
//! step changes the site directory inside the audit's transaction: a step
//! that fails writes no audit row, and a role refused changes no file.

use std::path::{Path, PathBuf};

use keting_core::claim::ClaimLabel;
use keting_core::ids::DeviceId;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use keting_provisioning::inventory::{self, DeviceEntry};
use keting_provisioning::site_dir::{SiteDir, SiteError};
use keting_provisioning::{device, device_claim, mosquitto_files};
use thiserror::Error;

use super::Actor;
use keting_store::device_commands::{self, CommandRecord};
use keting_store::{Store, StoreError, audit, device_keys};

/// Why a device step did nothing.
#[derive(Debug, Error)]
pub enum DeviceError {
    /// The centre has no provisioning site directory.
    #[error(
        "this centre has no site directory: a technician imports one with `kiosk site import DIR`"
    )]
    NoSite,
    /// The site directory refused the step.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// A device key that is not one (base64url of 32 bytes).
    #[error("{0}: give the key `device-agent --public-key` prints on the device")]
    BadKey(String),
    /// The label's built-in font could not be read (a broken build).
    #[error("the label font: {0}")]
    LabelFont(String),
    /// The database (or the role).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DeviceError {
    fn from(e: rusqlite::Error) -> Self {
        DeviceError::Store(e.into())
    }
}

/// What a site step did to the broker's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerFiles {
    /// Written again in this directory: Mosquitto must be reloaded.
    Rewritten(PathBuf),
    /// `broker config` was never run for the site.
    NeverWritten,
    /// They could not be written (the reason); the step itself is done.
    NotWritten(String),
}

fn site(dir: Option<&Path>) -> Result<SiteDir, DeviceError> {
    Ok(SiteDir::open(dir.ok_or(DeviceError::NoSite)?)?)
}

fn broker_files(site: &SiteDir, now: Timestamp) -> BrokerFiles {
    match mosquitto_files::rewrite_remembered(site, now.as_unix_millis()) {
        Ok(Some(dir)) => BrokerFiles::Rewritten(dir),
        Ok(None) => BrokerFiles::NeverWritten,
        Err(e) => {
            tracing::error!("the broker's files were not rewritten: {e}");
            BrokerFiles::NotWritten(e.to_string())
        }
    }
}

/// The site's devices, as `keting-provision device list` knows them.
pub fn inventory(site_dir: Option<&Path>) -> Result<Vec<DeviceEntry>, DeviceError> {
    Ok(inventory::load(&site(site_dir)?.path)?)
}

/// Asks `device` for its self-test; returns the command's id, whose record
/// [`command`] reads.
pub fn request_self_test(
    store: &mut Store,
    actor: Actor,
    device: &DeviceId,
    now: Timestamp,
) -> Result<String, StoreError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        let c = device_commands::request_self_test(tx, device, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "device.self_test",
            &format!("{device} command {c}"),
        )?;
        Ok(c)
    })
}

/// A command to a device and, once it answered, its outcome and report.
pub fn command(store: &Store, id: &str) -> Result<Option<CommandRecord>, StoreError> {
    device_commands::get(store.conn(), id)
}

/// Retires `name`: its certificate goes on the revocation list and it
/// keeps its entry and history; the broker refuses it once reloaded.
pub fn retire(
    store: &mut Store,
    actor: Actor,
    site_dir: Option<&Path>,
    name: &str,
    now: Timestamp,
) -> Result<BrokerFiles, DeviceError> {
    site_step(
        store,
        actor,
        site_dir,
        name,
        now,
        "device.retire",
        device::retire,
    )
}

/// Replaces `name` after a factory reset (or brings a retired device
/// back): a new login and certificate, the old one revoked; the device
/// then enrols by a new label ([`label`]).
pub fn replace(
    store: &mut Store,
    actor: Actor,
    site_dir: Option<&Path>,
    name: &str,
    now: Timestamp,
) -> Result<BrokerFiles, DeviceError> {
    site_step(
        store,
        actor,
        site_dir,
        name,
        now,
        "device.replace",
        device::replace,
    )
}

/// `step` on the site for `name`, inside the transaction of its audit row
/// `action`, after the role check; then the broker's files rewritten.
fn site_step(
    store: &mut Store,
    actor: Actor,
    site_dir: Option<&Path>,
    name: &str,
    now: Timestamp,
    action: &str,
    step: fn(&SiteDir, &str) -> Result<(), SiteError>,
) -> Result<BrokerFiles, DeviceError> {
    let site = site(site_dir)?;
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        step(&site, name)?;
        audit::record(tx, now, &actor.audit_name(), action, name)?;
        Ok::<_, DeviceError>(())
    })?;
    Ok(broker_files(&site, now))
}

/// An enrolment label for `name`, its code good once for `window_s`; the
/// label as a PNG to print, and what became of the broker's files (the
/// claim login is in them).
pub fn label(
    store: &mut Store,
    actor: Actor,
    site_dir: Option<&Path>,
    name: &str,
    window_s: u64,
    now: Timestamp,
) -> Result<(ClaimLabel, Vec<u8>, BrokerFiles), DeviceError> {
    let site = site(site_dir)?;
    let font =
        keting_hardware::panel::text::PanelFont::new(keting_hardware::panel::text::PANEL_FONT)
            .map_err(|e| DeviceError::LabelFont(e.to_string()))?;
    let (label, png) = store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        let label = device_claim::create(&site, name, now.as_unix_millis(), window_s)?;
        let png = keting_provisioning::label_image::png(&label, &site.site.name, window_s, &font)?;
        // The code is the claim login's password: it is on the label only.
        audit::record(tx, now, &actor.audit_name(), "device.label", name)?;
        Ok::<_, DeviceError>((label, png))
    })?;
    Ok((label, png, broker_files(&site, now)))
}

/// Trusts `key` (base64url, as `device-agent --public-key` prints it) as
/// `device`'s own key, replacing any before.
pub fn trust(
    store: &mut Store,
    actor: Actor,
    device: &DeviceId,
    key: &str,
    now: Timestamp,
) -> Result<(), DeviceError> {
    let key = keting_core::pass::decode_public_key(key.trim())
        .map_err(|e| DeviceError::BadKey(e.to_string()))?;
    Ok(store.write(|tx| {
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
    })?)
}

/// Every device's key: (device, key as base64url, who gave it, when).
pub fn keys(store: &Store) -> Result<Vec<(String, String, String, Timestamp)>, StoreError> {
    Ok(device_keys::list(store.conn())?
        .into_iter()
        .map(|(d, k, s, t)| (d, keting_core::pass::encode_public_key(&k), s, t))
        .collect())
}

#[cfg(test)]
mod tests {
    use keting_core::staff::StaffRole;
    use keting_provisioning::device::{NewDevice, add};
    use keting_provisioning::inventory::DeviceKind;
    use keting_provisioning::site_dir::BrokerAddress;

    use super::*;

    const NOW: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);

    fn site_with_door(tmp: &tempfile::TempDir) -> PathBuf {
        let site = SiteDir::init(
            &tmp.path().join("site"),
            "中心",
            &BrokerAddress::with_default_ports("127.0.0.1"),
            false,
        )
        .unwrap();
        add(
            &site,
            &NewDevice {
                name: "gym-door".into(),
                kind: DeviceKind::Lock,
                bus: None,
                unit: 1,
                channel: 1,
                gpio: [("strike".to_owned(), "GPIO17".to_owned())].into(),
                panel: false,
                pianos: 0,
            },
        )
        .unwrap();
        site.path
    }

    fn actions(store: &Store) -> Vec<(String, String)> {
        audit::recent(store.conn(), 10)
            .unwrap()
            .into_iter()
            .map(|a| (a.actor, a.action))
            .collect()
    }

    #[test]
    fn a_technician_retires_replaces_and_labels_and_a_staff_member_may_not() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = site_with_door(&tmp);
        let mut store = Store::open_in_memory().unwrap();
        let tech = Actor::Staff(super::super::staff::staff_for_tests(
            &mut store,
            StaffRole::Technician,
        ));
        let desk_staff = Actor::Staff(super::super::staff::staff_for_tests(
            &mut store,
            StaffRole::Staff,
        ));
        let before = actions(&store).len();

        // A role that may not: no file changed, nothing audited.
        assert!(retire(&mut store, desk_staff, Some(&dir), "gym-door", NOW).is_err());
        assert!(!inventory(Some(&dir)).unwrap()[0].retired);
        assert_eq!(actions(&store).len(), before);

        // No site directory: said so.
        assert!(matches!(
            retire(&mut store, tech, None, "gym-door", NOW),
            Err(DeviceError::NoSite)
        ));
        // A device the site does not have: refused, nothing audited.
        assert!(matches!(
            retire(&mut store, tech, Some(&dir), "no-such", NOW),
            Err(DeviceError::Site(_))
        ));
        assert_eq!(actions(&store).len(), before);

        assert_eq!(
            retire(&mut store, tech, Some(&dir), "gym-door", NOW).unwrap(),
            BrokerFiles::NeverWritten
        );
        assert!(inventory(Some(&dir)).unwrap()[0].retired);
        // A retired device gets no label until it is brought back.
        assert!(label(&mut store, tech, Some(&dir), "gym-door", 180, NOW).is_err());
        replace(&mut store, tech, Some(&dir), "gym-door", NOW).unwrap();
        assert!(!inventory(Some(&dir)).unwrap()[0].retired);
        let (label, png, _) = label(&mut store, tech, Some(&dir), "gym-door", 180, NOW).unwrap();
        assert_eq!(label.device.as_str(), "gym-door");
        assert!(png.starts_with(b"\x89PNG"));
        let who = tech.audit_name();
        let newest: Vec<(String, String)> = actions(&store).into_iter().take(3).collect();
        assert_eq!(
            newest,
            vec![
                (who.clone(), "device.label".to_owned()),
                (who.clone(), "device.replace".to_owned()),
                (who, "device.retire".to_owned()),
            ]
        );
    }
}
