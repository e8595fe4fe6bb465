//! The centre's side of enrolment by QR (see `keting_core::claim`): it
//! judges a device's claim request against the site directory's
//! `claim.toml` (code not spent, window open, proof right) and checks its
//! certificate request (the device's name, a P-256 key, its own
//! signature). Once a technician has confirmed the PIN, the site CA signs
//! the request (the certificate `device add` made is revoked) and the
//! centre answers with the device's `agent.toml`, its certificate and the
//! CA's, authenticated with the code, and marks the code spent. No secret
//! is in the answer.
//!
//! The centre knows the site directory from `kiosk site import DIR`; a kiosk
//! without one refuses every claim, saying why.

use std::path::PathBuf;

use keting_core::claim::{ClaimOutcome, ClaimRequest, ClaimResponse};
use keting_core::ids::DeviceId;
use keting_core::messages::PROTOCOL_VERSION;
use keting_core::time::Timestamp;
use keting_provisioning::device_claim::{ClaimFile, ClaimState};
use keting_provisioning::site_ca::{self, SiteCa};
use keting_provisioning::site_dir::SiteDir;

use keting_store::device_claims::ConfirmedClaim;

/// What to do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestVerdict {
    /// Show the PIN and wait for a technician, until `expires`.
    Pending {
        /// The PIN.
        pin: String,
        /// When the label's window closes.
        expires: Timestamp,
    },
    /// Answer no, with the reason.
    Refused(String),
}

/// The claims of one site directory.
#[derive(Clone, Debug)]
pub struct ClaimDesk {
    site_dir: Option<PathBuf>,
}

impl ClaimDesk {
    /// The desk for the site directory `site_dir`, if the centre has one.
    pub fn new(site_dir: Option<PathBuf>) -> Self {
        Self { site_dir }
    }

    fn claim_file(&self, device: &DeviceId) -> Result<(PathBuf, Option<ClaimFile>), String> {
        let dir = self.site_dir.clone().ok_or_else(|| {
            "this centre has no site directory: import one with `kiosk site import DIR`".to_owned()
        })?;
        let file = ClaimFile::load(&dir, device.as_str()).map_err(|e| e.to_string())?;
        Ok((dir, file))
    }

    /// Judges a request of `device`.
    pub fn judge(
        &self,
        device: &DeviceId,
        request: &ClaimRequest,
        now: Timestamp,
    ) -> RequestVerdict {
        let file = match self.claim_file(device) {
            Ok((_, file)) => file,
            Err(why) => return RequestVerdict::Refused(why),
        };
        let key = match ClaimFile::state(file.as_ref(), now.as_unix_millis()) {
            ClaimState::Open(key) => key,
            ClaimState::None => {
                return RequestVerdict::Refused(format!("no label was printed for {device}"));
            }
            ClaimState::Spent => {
                return RequestVerdict::Refused(
                    "this label's code was used already: print a new label".into(),
                );
            }
            ClaimState::Expired => {
                return RequestVerdict::Refused(
                    "this label's window closed: print a new label".into(),
                );
            }
            ClaimState::Dead => {
                return RequestVerdict::Refused(
                    "this label's code took too many wrong proofs and works no more: print a new label"
                        .into(),
                );
            }
        };
        if key.check_proof(request).is_err() || request.nonce.is_empty() || request.nonce.len() > 64
        {
            // Count it: a few wrong proofs and the code is dead.
            if let Ok((dir, _)) = self.claim_file(device)
                && let Err(e) = ClaimFile::record_wrong_proof(&dir, device.as_str())
            {
                tracing::error!(device = %device, "cannot count a wrong claim proof: {e}");
            }
            return RequestVerdict::Refused("the code does not match this device's label".into());
        }
        if keting_core::pass::decode_public_key(&request.device_key).is_err() {
            return RequestVerdict::Refused(
                "the claim carries no valid device key: update the device's agent".into(),
            );
        }
        if let Err(e) = keting_provisioning::site_ca::check_request(&request.csr, device.as_str()) {
            return RequestVerdict::Refused(e.to_string());
        }
        RequestVerdict::Pending {
            pin: key.pin(&request.nonce),
            expires: Timestamp::from_unix_millis(file.map_or(0, |f| f.expires_ms)),
        }
    }

    /// The answer to a confirmed request; marks the code spent when it
    /// enrols the device.
    pub fn answer(&self, claim: &ConfirmedClaim, now: Timestamp) -> ClaimResponse {
        let outcome = self
            .enrolment(claim, now)
            .unwrap_or_else(|reason| ClaimOutcome::Refused { reason });
        ClaimResponse {
            v: PROTOCOL_VERSION,
            nonce: claim.nonce.clone(),
            outcome,
        }
    }

    fn enrolment(&self, claim: &ConfirmedClaim, now: Timestamp) -> Result<ClaimOutcome, String> {
        let (device, nonce) = (&claim.device, claim.nonce.as_str());
        let csr = claim
            .csr
            .as_deref()
            .ok_or("the claim carried no certificate request: update the device's agent")?;
        let (dir, file) = self.claim_file(device)?;
        // Confirmed inside the window: the answer may leave just after it.
        let key = match ClaimFile::state(file.as_ref(), i64::MIN) {
            ClaimState::Open(key) => key,
            ClaimState::Spent => return Err("this label's code was used already".into()),
            ClaimState::Dead => return Err("this label's code took too many wrong proofs".into()),
            _ => return Err(format!("no label was printed for {device}")),
        };
        let device_dir = dir.join("devices").join(device.as_str());
        let read = |name: &str| {
            std::fs::read_to_string(device_dir.join(name))
                .map_err(|e| format!("the centre cannot read {name} of {device}: {e}"))
        };
        let agent_toml = read("agent.toml")?;
        let ca_pem = std::fs::read_to_string(dir.join(site_ca::CA_CERT))
            .map_err(|e| format!("the centre cannot read the site CA's certificate: {e}"))?;
        let site = SiteDir::open(&dir).map_err(|e| e.to_string())?;
        let (cert_pem, serial) = SiteCa::open(&dir)
            .and_then(|ca| ca.sign_request(csr, device.as_str()))
            .map_err(|e| e.to_string())?;
        keting_provisioning::device::claimed_certificate(
            &site,
            device.as_str(),
            &cert_pem,
            &serial,
        )
        .map_err(|e| e.to_string())?;
        ClaimFile::mark_claimed(&dir, device.as_str(), now.as_unix_millis())
            .map_err(|e| e.to_string())?;
        let mac = key.response_mac(nonce, &agent_toml, &cert_pem, &ca_pem);
        Ok(ClaimOutcome::Enrolled {
            agent_toml,
            cert_pem,
            ca_pem,
            mac,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::claim::ClaimKey;
    use keting_provisioning::device::{NewDevice, add};
    use keting_provisioning::device_claim::{MAX_WRONG_PROOFS, create};
    use keting_provisioning::inventory::DeviceKind;
    use keting_provisioning::site_dir::BrokerAddress;

    const NOW: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);

    /// A site with a GPIO lock for each of `doors`, a label printed for
    /// the first, its desk, and a device key the claims carry.
    fn site_with(
        tmp: &tempfile::TempDir,
        doors: &[&str],
    ) -> (SiteDir, keting_core::claim::ClaimLabel, ClaimDesk, String) {
        let site = SiteDir::init(
            &tmp.path().join("site"),
            "中心",
            &BrokerAddress::with_default_ports("127.0.0.1"),
            false,
        )
        .unwrap();
        for name in doors {
            add(
                &site,
                &NewDevice {
                    name: (*name).into(),
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
        }
        let label = create(&site, doors[0], NOW.as_unix_millis(), 180).unwrap();
        let desk = ClaimDesk::new(Some(site.path.clone()));
        let device_key = keting_core::pass::encode_public_key(
            &ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key(),
        );
        (site, label, desk, device_key)
    }

    #[test]
    fn a_code_dies_after_three_wrong_proofs_and_its_own_proof_then_opens_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (_site, label, desk, device_key) = site_with(&tmp, &["gym-door"]);
        let now = NOW;
        let device = label.device.clone();
        let request = |key: &ClaimKey, nonce: &str| ClaimRequest {
            v: 1,
            nonce: nonce.into(),
            proof: key.proof(nonce, &device_key, "csr"),
            device_key: device_key.clone(),
            csr: "csr".into(),
        };
        let wrong = ClaimKey::from_code("BBBBBBBBBBBBBBBB");
        for i in 0..MAX_WRONG_PROOFS {
            assert!(matches!(
                desk.judge(&device, &request(&wrong, &format!("n{i}")), now),
                RequestVerdict::Refused(ref why) if why.contains("does not match")
            ));
        }
        match desk.judge(&device, &request(&label.key(), "n9"), now) {
            RequestVerdict::Refused(why) => assert!(why.contains("too many wrong proofs"), "{why}"),
            other => panic!("the dead code was taken: {other:?}"),
        }
    }

    #[test]
    fn a_claim_whose_certificate_request_names_another_device_is_refused_and_nothing_is_spent() {
        let tmp = tempfile::tempdir().unwrap();
        let (site, label, desk, device_key) = site_with(&tmp, &["gym-door", "side-door"]);
        let now = NOW;
        let key = label.key();
        let request = |csr: String| ClaimRequest {
            v: 1,
            nonce: "n1".into(),
            proof: key.proof("n1", &device_key, &csr),
            device_key: device_key.clone(),
            csr,
        };
        let elsewhere = keting_device_agents::tls_request::make("side-door").unwrap();
        match desk.judge(&label.device, &request(elsewhere.csr_pem), now) {
            RequestVerdict::Refused(why) => {
                assert!(why.contains("another name than \"gym-door\""), "{why}");
            }
            other => panic!("a request for another device was taken: {other:?}"),
        }
        match desk.judge(&label.device, &request("-----BEGIN nonsense".into()), now) {
            RequestVerdict::Refused(why) => assert!(why.contains("PKCS#10"), "{why}"),
            other => panic!("a malformed request was taken: {other:?}"),
        }
        // Neither spent the code nor counted against it: the right request
        // still waits for the PIN.
        let own = keting_device_agents::tls_request::make("gym-door").unwrap();
        assert!(matches!(
            desk.judge(&label.device, &request(own.csr_pem), now),
            RequestVerdict::Pending { .. }
        ));
        let file = ClaimFile::load(&site.path, "gym-door").unwrap().unwrap();
        assert_eq!((file.wrong_proofs, file.claimed_ms), (0, None));
    }
}
