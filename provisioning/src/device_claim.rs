//! A device's pending claim (`devices/<name>/claim.toml`, mode 0600): the
//! key of its one-time code (SHA-256, never the code), the Mosquitto hash of
//! the code for the `claim-<name>` login, the window, and when it was spent.
//!
//! `device label` creates it; the kiosk reads it when the device claims and
//! marks it spent when it answers. A new label replaces the old claim (the
//! old code stops working).

use std::path::{Path, PathBuf};

use keting_core::claim::{CODE_LEN, ClaimKey, ClaimLabel, code_from_random};
use keting_core::ids::{DeviceId, SiteId};
use serde::{Deserialize, Serialize};

use crate::mosquitto_files;
use crate::secrets::{random_bytes, write_atomic};
use crate::site_dir::{SiteDir, SiteError};

/// The default claim window, like Matter's commissioning window.
pub const DEFAULT_WINDOW_S: u64 = 180;

/// Wrong proofs that kill a code (print a new label).
pub const MAX_WRONG_PROOFS: u32 = 3;

/// `claim.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimFile {
    /// [`ClaimKey`] as hex.
    pub key: String,
    /// The code's Mosquitto `$7$` hash (the `claim-<name>` login).
    pub broker_hash: String,
    /// When the label was made (ms since the Unix epoch).
    pub created_ms: i64,
    /// The code works until then.
    pub expires_ms: i64,
    /// When the kiosk answered with the device's identity: the code is spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_ms: Option<i64>,
    /// Claims whose proof did not match the code, so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wrong_proofs: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Why a claim cannot go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimState {
    /// No label was made for the device.
    None,
    /// The code was used already.
    Spent,
    /// The code took too many wrong proofs and works no more.
    Dead,
    /// The window closed.
    Expired,
    /// Good until `expires_ms`.
    Open(ClaimKey),
}

impl ClaimFile {
    /// Where it lives.
    pub fn path(site: &Path, device: &str) -> PathBuf {
        site.join("devices").join(device).join("claim.toml")
    }

    /// Reads a device's claim, if there is one.
    pub fn load(site: &Path, device: &str) -> Result<Option<Self>, SiteError> {
        let path = Self::path(site, device);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(SiteError::File {
                    path,
                    message: e.to_string(),
                });
            }
        };
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| SiteError::File {
                path,
                message: e.to_string(),
            })
    }

    fn save(&self, site: &Path, device: &str) -> Result<(), SiteError> {
        let path = Self::path(site, device);
        let text = toml::to_string(self).map_err(|e| SiteError::Invalid(e.to_string()))?;
        write_atomic(&path, text.as_bytes(), 0o600).map_err(|e| SiteError::File {
            path,
            message: e.to_string(),
        })
    }

    /// Whether the code works at `now_ms`.
    pub fn state(this: Option<&Self>, now_ms: i64) -> ClaimState {
        match this {
            None => ClaimState::None,
            Some(c) if c.claimed_ms.is_some() => ClaimState::Spent,
            Some(c) if c.wrong_proofs >= MAX_WRONG_PROOFS => ClaimState::Dead,
            Some(c) if now_ms > c.expires_ms => ClaimState::Expired,
            Some(c) => ClaimKey::from_hex(&c.key).map_or(ClaimState::None, ClaimState::Open),
        }
    }

    /// Counts a claim whose proof did not match; returns the wrong proofs so
    /// far (at [`MAX_WRONG_PROOFS`], the code is dead).
    pub fn record_wrong_proof(site: &Path, device: &str) -> Result<u32, SiteError> {
        let Some(mut c) = Self::load(site, device)? else {
            return Ok(0);
        };
        c.wrong_proofs = c.wrong_proofs.saturating_add(1);
        c.save(site, device)?;
        Ok(c.wrong_proofs)
    }

    /// Marks the code spent (the kiosk answered the device).
    pub fn mark_claimed(site: &Path, device: &str, now_ms: i64) -> Result<(), SiteError> {
        let Some(mut c) = Self::load(site, device)? else {
            return Ok(());
        };
        c.claimed_ms = Some(now_ms);
        c.save(site, device)
    }
}

/// A new claim for an enrolled device: a fresh code, valid `window_s`
/// seconds from `now_ms`. Returns the label to print.
pub fn create(
    site: &SiteDir,
    device: &str,
    now_ms: i64,
    window_s: u64,
) -> Result<ClaimLabel, SiteError> {
    crate::device::enrolled(site, device)?;
    let invalid = |e: &dyn std::fmt::Display| SiteError::Invalid(e.to_string());
    let random: [u8; CODE_LEN] = random_bytes(CODE_LEN)
        .map_err(|e| invalid(&e))?
        .try_into()
        .map_err(|_| SiteError::Invalid("no randomness".into()))?;
    let code = code_from_random(&random);
    let label = ClaimLabel {
        site: SiteId::new(site.site.id.clone()).map_err(|e| invalid(&e))?,
        device: DeviceId::new(device).map_err(|e| invalid(&e))?,
        code: code.clone(),
        ca_fingerprint: site.ca_fingerprint()?,
        host: site.site.broker_host.clone(),
        port: site.site.claim_port,
    };
    let salt = random_bytes(12).map_err(|e| invalid(&e))?;
    let file = ClaimFile {
        key: label.key().to_hex(),
        broker_hash: mosquitto_files::hash(&code, &salt),
        created_ms: now_ms,
        expires_ms: now_ms + i64::try_from(window_s.saturating_mul(1000)).unwrap_or(i64::MAX / 2),
        claimed_ms: None,
        wrong_proofs: 0,
    };
    file.save(&site.path, device)?;
    Ok(label)
}
