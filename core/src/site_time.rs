//! The site's time, asked by a device and signed by the centre, so a door
//! with a wrong clock (a Pi has no real-time clock) can judge night hours
//! and paid months by the centre's clock instead of its own.
//!
//! A device publishes a [`TimeAsk`] with a fresh random nonce on its
//! `time_ask` topic; the centre answers on the device's `time` topic with a
//! [`SignedTime`]: the site, the device, that nonce and the centre's clock,
//! signed with the site key over `keting-time-v1\0` and the answer's text.
//! The nonce makes a recorded answer worthless (it names an ask that is no
//! longer outstanding); the device's own round-trip bound
//! ([`crate::clock_judge::MAX_ROUND_TRIP`]) limits what a broker holding an
//! answer back can shift the time by.
//!
//! ```text
//! device → keting/v1/<site>/device/<id>/time_ask  {"v":1,"nonce":"…"}
//! centre → keting/v1/<site>/device/<id>/time      {"v":1,"time":"{\"site\":…,\"centre_ms\":…}","sig":"…"}
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{DeviceId, SiteId};
use crate::messages::{MessageError, PROTOCOL_VERSION, decode, encode};

/// What the signature covers before the answer's text.
pub const SIGNING_CONTEXT: &[u8] = b"keting-time-v1\0";

/// The longest nonce a centre answers (a device sends 22 characters).
pub const MAX_NONCE: usize = 64;

/// A device asking the centre for the time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeAsk {
    /// Protocol version.
    pub v: u8,
    /// Fresh and random per ask; the answer must repeat it.
    pub nonce: String,
}

/// The centre's answer, before it is signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeAnswer {
    /// Protocol version.
    pub v: u8,
    /// The site.
    pub site: SiteId,
    /// The device that asked.
    pub device: DeviceId,
    /// The ask's nonce.
    pub nonce: String,
    /// The centre's clock when it answered (ms since the Unix epoch).
    pub centre_ms: i64,
}

/// The signed answer, as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTime {
    /// Protocol version.
    pub v: u8,
    /// The [`TimeAnswer`] as the JSON text that was signed.
    pub time: String,
    /// Ed25519 over [`SIGNING_CONTEXT`] and `time`, base64url.
    pub sig: String,
}

/// Why a time answer is not taken.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum TimeError {
    /// Not a time answer.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// Not signed by this site's key.
    #[error("the time's signature does not verify")]
    BadSignature,
    /// Signed, but for another site or another device.
    #[error("a time for another site or device")]
    NotOurs,
    /// Signed and ours, but not the answer to the ask outstanding (a replay,
    /// or an answer to an ask given up on).
    #[error("a time answering no outstanding ask")]
    NotAsked,
}

fn signed_message(text: &str) -> Vec<u8> {
    [SIGNING_CONTEXT, text.as_bytes()].concat()
}

/// Signs `answer` with the site key; returns the payload to publish.
pub fn sign(answer: &TimeAnswer, key: &SigningKey) -> Vec<u8> {
    let text = String::from_utf8(encode(answer)).unwrap_or_default();
    let sig = key.sign(&signed_message(&text));
    encode(&SignedTime {
        v: PROTOCOL_VERSION,
        time: text,
        sig: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
    })
}

/// The centre's clock from an answer to the ask `nonce` of `device`, if the
/// site's `key` signed it.
pub fn verify(
    payload: &[u8],
    site: &SiteId,
    device: &DeviceId,
    key: &VerifyingKey,
    nonce: &str,
) -> Result<i64, TimeError> {
    let signed: SignedTime = decode(payload)?;
    let sig = URL_SAFE_NO_PAD
        .decode(&signed.sig)
        .map_err(|_| TimeError::BadSignature)?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| TimeError::BadSignature)?;
    key.verify_strict(&signed_message(&signed.time), &Signature::from_bytes(&sig))
        .map_err(|_| TimeError::BadSignature)?;
    let answer: TimeAnswer = decode(signed.time.as_bytes())?;
    if answer.site != *site || answer.device != *device {
        return Err(TimeError::NotOurs);
    }
    if answer.nonce != nonce {
        return Err(TimeError::NotAsked);
    }
    Ok(answer.centre_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn answer(device: &str, nonce: &str) -> TimeAnswer {
        TimeAnswer {
            v: PROTOCOL_VERSION,
            site: SiteId::new("futian-01").unwrap(),
            device: DeviceId::new(device).unwrap(),
            nonce: nonce.into(),
            centre_ms: 1_790_000_000_000,
        }
    }

    #[test]
    fn only_the_sites_answer_to_this_devices_outstanding_ask_is_taken() {
        let site = SiteId::new("futian-01").unwrap();
        let door = DeviceId::new("gym-door").unwrap();
        let k = key(7);
        let pk = k.verifying_key();
        let payload = sign(&answer("gym-door", "n1"), &k);
        assert_eq!(
            verify(&payload, &site, &door, &pk, "n1"),
            Ok(1_790_000_000_000)
        );
        assert_eq!(
            verify(&payload, &site, &door, &pk, "n2"),
            Err(TimeError::NotAsked),
            "a recorded answer to an earlier ask"
        );
        let other = sign(&answer("piano-bank", "n1"), &k);
        assert_eq!(
            verify(&other, &site, &door, &pk, "n1"),
            Err(TimeError::NotOurs)
        );
        let forged = sign(&answer("gym-door", "n1"), &key(8));
        assert_eq!(
            verify(&forged, &site, &door, &pk, "n1"),
            Err(TimeError::BadSignature)
        );
        // The text changed after signing (a later time slipped in).
        let mut signed: SignedTime = decode(&payload).unwrap();
        signed.time = signed.time.replace("1790000000000", "1890000000000");
        assert_eq!(
            verify(&encode(&signed), &site, &door, &pk, "n1"),
            Err(TimeError::BadSignature)
        );
        assert!(matches!(
            verify(b"not json", &site, &door, &pk, "n1"),
            Err(TimeError::Message(_))
        ));
    }
}
