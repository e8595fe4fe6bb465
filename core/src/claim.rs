//! Enrolment by QR: a device claims its identity with a one-time code.
//!
//! `keting-provision device label` prints a label whose QR code carries a
//! [`ClaimLabel`]: the site, the device's name, a random claim code (80
//! bits), the SHA-256 fingerprint of the site CA's certificate and the
//! broker's claim listener (TLS with no client certificate). On the device,
//! `device-agent --claim` opens TLS to that listener and trusts the broker
//! only if its chain holds the CA with that fingerprint, so the code never
//! goes to an impostor. It logs in as `claim-<device>` with the code as its
//! password (a login that lives for the claim window), makes its own TLS key
//! and a certificate signing request for its name, and publishes a
//! [`ClaimRequest`]: a fresh nonce, its answer-signing public key, the CSR
//! and a proof over all three that it knows the code. The kiosk checks the
//! proof and the CSR and shows a 6-digit PIN derived from the code and that
//! nonce; the device's panel shows the same PIN. Only when a technician has
//! compared the two and confirmed does the kiosk sign the CSR with the site
//! CA and answer with the device's configuration, its certificate and the
//! CA's ([`ClaimResponse`]), authenticated with the code; the code is spent:
//! a code works once. No secret crosses the wire: the keys stay where they
//! were made.
//!
//! ```text
//! label      KETING-CLAIM:2:<site>:<device>:<code>:<ca-sha256-hex>:<host>:<port>
//! request    {"v":1,"nonce":"9f..","device_key":"Zx..","csr":"-----BEGIN..","proof":"3a.."}
//! response   {"v":1,"nonce":"9f..","outcome":"enrolled","agent_toml":"..","cert_pem":"..","ca_pem":"..","mac":".."}
//! ```
//!
//! The key is SHA-256 of the code; proof, PIN and response MAC are
//! HMAC-SHA256 under it with distinct labels, so none can stand in for
//! another.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::ids::{DeviceId, SiteId};

/// The label's prefix and version.
pub const LABEL_PREFIX: &str = "KETING-CLAIM:2:";
/// The prefix of the first labels (broker secret in the answer, no CA).
const OLD_LABEL_PREFIX: &str = "KETING-CLAIM:1:";
/// Hex digits of a CA fingerprint (SHA-256).
pub const FINGERPRINT_LEN: usize = 64;
/// Characters of a claim code (Crockford base32: no I, L, O, U), so it can
/// be typed from print.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a claim code (16 of 32 symbols: 80 bits), without dashes.
pub const CODE_LEN: usize = 16;

/// Why a label or a claim is not good.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ClaimError {
    /// Not a Keting claim label.
    #[error("not a Keting claim label (it starts with {LABEL_PREFIX})")]
    NotALabel,
    /// A label of the first kind, which carried no CA fingerprint.
    #[error("a label from an older keting-provision: print a new label")]
    OldLabel,
    /// A part of the label is wrong.
    #[error("the claim label's {0} is not valid")]
    BadField(&'static str),
    /// The proof does not match the code.
    #[error("the claim's proof does not match the code")]
    BadProof,
    /// The response's MAC does not match.
    #[error("the answer is not from the kiosk that holds this device's code")]
    BadMac,
}

/// What the label's QR code says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimLabel {
    /// The site.
    pub site: SiteId,
    /// The device's name (its id).
    pub device: DeviceId,
    /// The one-time code, without dashes.
    pub code: String,
    /// SHA-256 of the site CA's certificate (DER), lower-case hex: the only
    /// CA the claim trusts.
    pub ca_fingerprint: String,
    /// Where the broker's claim listener is.
    pub host: String,
    /// Its port.
    pub port: u16,
}

/// SHA-256 of a certificate's DER, as a label carries it.
pub fn fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

/// Turns 16 random bytes into a claim code.
pub fn code_from_random(bytes: &[u8; CODE_LEN]) -> String {
    bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect()
}

/// The code in groups of four, as printed: `ABCD-EFGH-JKMN-PQRS`.
pub fn code_for_print(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

fn normal_code(code: &str) -> Result<String, ClaimError> {
    let code: String = code
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
    ok.then_some(code).ok_or(ClaimError::BadField("code"))
}

impl ClaimLabel {
    /// The text in the QR code.
    pub fn to_text(&self) -> String {
        format!(
            "{LABEL_PREFIX}{}:{}:{}:{}:{}:{}",
            self.site, self.device, self.code, self.ca_fingerprint, self.host, self.port
        )
    }

    /// Reads a label's text (as scanned or typed; the code's dashes and case
    /// do not matter).
    pub fn parse(text: &str) -> Result<Self, ClaimError> {
        let text = text.trim();
        if text.starts_with(OLD_LABEL_PREFIX) {
            return Err(ClaimError::OldLabel);
        }
        let rest = text
            .strip_prefix(LABEL_PREFIX)
            .ok_or(ClaimError::NotALabel)?;
        let mut parts = rest.splitn(5, ':');
        let mut next = |what| parts.next().ok_or(ClaimError::BadField(what));
        let site =
            SiteId::new(next("site")?.to_owned()).map_err(|_| ClaimError::BadField("site"))?;
        let device = DeviceId::new(next("device")?.to_owned())
            .map_err(|_| ClaimError::BadField("device"))?;
        let code = normal_code(next("code")?)?;
        let ca_fingerprint = next("CA fingerprint")?.to_ascii_lowercase();
        if ca_fingerprint.len() != FINGERPRINT_LEN
            || !ca_fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(ClaimError::BadField("CA fingerprint"));
        }
        let (host, port) = next("broker address")?
            .rsplit_once(':')
            .ok_or(ClaimError::BadField("broker address"))?;
        let port = port
            .parse()
            .map_err(|_| ClaimError::BadField("broker port"))?;
        if host.is_empty() || port == 0 {
            return Err(ClaimError::BadField("broker address"));
        }
        Ok(Self {
            site,
            device,
            code,
            ca_fingerprint,
            host: host.to_owned(),
            port,
        })
    }

    /// The login the device uses while it claims.
    pub fn login(&self) -> String {
        claim_login(&self.device)
    }

    /// The key the proof, PIN and response MAC are made with.
    pub fn key(&self) -> ClaimKey {
        ClaimKey::from_code(&self.code)
    }
}

/// The broker login of a device that is claiming.
pub fn claim_login(device: &DeviceId) -> String {
    format!("claim-{device}")
}

/// SHA-256 of the code: what the kiosk keeps (never the code itself).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ClaimKey([u8; 32]);

impl std::fmt::Debug for ClaimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimKey(..)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ClaimKey {
    /// The key of a code (dashes and case do not matter).
    pub fn from_code(code: &str) -> Self {
        let code = normal_code(code).unwrap_or_else(|_| code.to_owned());
        Self(Sha256::digest(code.as_bytes()).into())
    }

    /// The key as hex, to store.
    pub fn to_hex(self) -> String {
        hex(&self.0)
    }

    /// A key stored as hex.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }

    fn mac(&self, label: &str, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC takes a key of any length.
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return [0; 32];
        };
        m.update(label.as_bytes());
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The request's proof for `nonce`, the device's public key
    /// `device_key` and its certificate request `csr` (so nobody on the
    /// broker can swap in a key of theirs).
    pub fn proof(&self, nonce: &str, device_key: &str, csr: &str) -> String {
        hex(&self.mac(
            "keting claim proof",
            &[nonce.as_bytes(), device_key.as_bytes(), csr.as_bytes()],
        ))
    }

    /// Checks a request's proof (in constant time).
    pub fn check_proof(&self, request: &ClaimRequest) -> Result<(), ClaimError> {
        equal(
            &self.proof(&request.nonce, &request.device_key, &request.csr),
            &request.proof,
        )
        .then_some(())
        .ok_or(ClaimError::BadProof)
    }

    /// The 6-digit PIN both screens show for `nonce`.
    pub fn pin(&self, nonce: &str) -> String {
        let m = self.mac("keting claim pin", &[nonce.as_bytes()]);
        let n = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) % 1_000_000;
        format!("{n:06}")
    }

    /// The MAC of an enrolment answer.
    pub fn response_mac(
        &self,
        nonce: &str,
        agent_toml: &str,
        cert_pem: &str,
        ca_pem: &str,
    ) -> String {
        hex(&self.mac(
            "keting claim response",
            &[
                nonce.as_bytes(),
                agent_toml.as_bytes(),
                cert_pem.as_bytes(),
                ca_pem.as_bytes(),
            ],
        ))
    }
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The PIN printed for people: `123 456`.
pub fn pin_for_print(pin: &str) -> String {
    match (pin.get(..3), pin.get(3..)) {
        (Some(a), Some(b)) => format!("{a} {b}"),
        _ => pin.to_owned(),
    }
}

/// A device asking for its identity (`claim/<device>/request`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    /// Protocol version.
    pub v: u8,
    /// Random, fresh for each attempt (hex).
    pub nonce: String,
    /// The device's own Ed25519 public key (base64url), made on the device:
    /// the centre checks the device's signed answers with it.
    pub device_key: String,
    /// A PKCS#10 certificate request (PEM) for the device's name, over the
    /// TLS key the device made.
    pub csr: String,
    /// [`ClaimKey::proof`] of the nonce, the device key and the CSR.
    pub proof: String,
}

/// The kiosk's answer (`claim/<device>/response`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimResponse {
    /// Protocol version.
    pub v: u8,
    /// The request's nonce.
    pub nonce: String,
    /// Enrolled, or why not.
    #[serde(flatten)]
    pub outcome: ClaimOutcome,
}

/// What came of a claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ClaimOutcome {
    /// The device's configuration and its certificate.
    Enrolled {
        /// Its `agent.toml`.
        agent_toml: String,
        /// Its client certificate (PEM), signed by the site CA from its CSR.
        cert_pem: String,
        /// The site CA's certificate (PEM): its fingerprint is the label's.
        ca_pem: String,
        /// [`ClaimKey::response_mac`].
        mac: String,
    },
    /// Not enrolled.
    Refused {
        /// Why, for people.
        reason: String,
    },
}

impl ClaimOutcome {
    /// Checks an enrolment's MAC.
    pub fn check(&self, key: &ClaimKey, nonce: &str) -> Result<(), ClaimError> {
        match self {
            ClaimOutcome::Enrolled {
                agent_toml,
                cert_pem,
                ca_pem,
                mac,
            } => equal(&key.response_mac(nonce, agent_toml, cert_pem, ca_pem), mac)
                .then_some(())
                .ok_or(ClaimError::BadMac),
            ClaimOutcome::Refused { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn label() -> ClaimLabel {
        ClaimLabel {
            site: SiteId::new("demo".to_owned()).unwrap(),
            device: DeviceId::new("gym-door").unwrap(),
            code: code_from_random(&[7; CODE_LEN]),
            ca_fingerprint: fingerprint(b"the CA"),
            host: "192.168.1.10".into(),
            port: 1883,
        }
    }

    #[test]
    fn a_label_round_trips_and_its_code_may_be_typed_with_dashes_in_lower_case() {
        let l = label();
        assert_eq!(ClaimLabel::parse(&l.to_text()).unwrap(), l);
        let typed = l
            .to_text()
            .replace(&l.code, &code_for_print(&l.code).to_lowercase());
        assert_eq!(ClaimLabel::parse(&typed).unwrap(), l);
        assert_eq!(code_for_print("ABCDEFGHJKMNPQRS"), "ABCD-EFGH-JKMN-PQRS");
    }

    #[test]
    fn bad_labels_say_which_part_is_wrong() {
        let t = label().to_text();
        assert_eq!(ClaimLabel::parse("hello"), Err(ClaimError::NotALabel));
        assert_eq!(
            ClaimLabel::parse(&t.replace("gym-door", "gym door")),
            Err(ClaimError::BadField("device"))
        );
        assert_eq!(
            ClaimLabel::parse(&t.replace(":1883", ":http")),
            Err(ClaimError::BadField("broker port"))
        );
        assert_eq!(
            ClaimLabel::parse(&t.replace(&label().code, "SHORT")),
            Err(ClaimError::BadField("code"))
        );
        assert_eq!(
            ClaimLabel::parse(&t.replace(&label().ca_fingerprint, "abc")),
            Err(ClaimError::BadField("CA fingerprint"))
        );
        assert_eq!(
            ClaimLabel::parse("KETING-CLAIM:1:demo:gym-door:0123456789ABCDEF:10.0.0.1:1883"),
            Err(ClaimError::OldLabel)
        );
    }

    #[test]
    fn the_proof_pin_and_mac_need_the_code_and_differ_per_nonce() {
        let key = label().key();
        let other = ClaimKey::from_code("BBBBBBBBBBBBBBBB");
        let request = ClaimRequest {
            v: 1,
            nonce: "n1".into(),
            device_key: "k1".into(),
            csr: "csr1".into(),
            proof: key.proof("n1", "k1", "csr1"),
        };
        assert_eq!(key.check_proof(&request), Ok(()));
        assert_eq!(other.check_proof(&request), Err(ClaimError::BadProof));
        let replayed = ClaimRequest {
            nonce: "n2".into(),
            ..request.clone()
        };
        assert_eq!(key.check_proof(&replayed), Err(ClaimError::BadProof));
        let swapped = ClaimRequest {
            device_key: "someone else's".into(),
            ..request.clone()
        };
        assert_eq!(key.check_proof(&swapped), Err(ClaimError::BadProof));
        let other_csr = ClaimRequest {
            csr: "a CSR for someone else's key".into(),
            ..request.clone()
        };
        assert_eq!(key.check_proof(&other_csr), Err(ClaimError::BadProof));
        assert_eq!(key.pin("n1").len(), 6);
        assert_ne!(key.pin("n1"), key.pin("n2"));
        assert_ne!(key.pin("n1"), other.pin("n1"));
        assert_eq!(ClaimKey::from_hex(&key.to_hex()), Some(key));
        let enrolled = ClaimOutcome::Enrolled {
            agent_toml: "site = \"demo\"".into(),
            cert_pem: "cert".into(),
            ca_pem: "ca".into(),
            mac: key.response_mac("n1", "site = \"demo\"", "cert", "ca"),
        };
        assert_eq!(enrolled.check(&key, "n1"), Ok(()));
        assert_eq!(enrolled.check(&key, "n2"), Err(ClaimError::BadMac));
        assert_eq!(enrolled.check(&other, "n1"), Err(ClaimError::BadMac));
        let ClaimOutcome::Enrolled {
            agent_toml,
            ca_pem,
            mac,
            ..
        } = enrolled
        else {
            unreachable!()
        };
        let swapped = ClaimOutcome::Enrolled {
            agent_toml,
            cert_pem: "the attacker's certificate".into(),
            ca_pem,
            mac,
        };
        assert_eq!(swapped.check(&key, "n1"), Err(ClaimError::BadMac));
        assert_eq!(pin_for_print("012345"), "012 345");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errs(s in ".{0,120}") {
            let _ = ClaimLabel::parse(&s);
            let _ = ClaimLabel::parse(&format!("{LABEL_PREFIX}{s}"));
        }
    }
}
