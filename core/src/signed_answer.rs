//! A device's answers, signed by the device's own key: a forged
//! "dispensed" on the broker cannot commit a redemption, a forged "session
//! ended" cannot settle a booking.
//!
//! Every ack and event an agent publishes travels as a [`SignedAnswer`]: the
//! message's JSON as bytes and an Ed25519 signature over a context label,
//! the topic it was published on, and those bytes. Signing the topic binds
//! the answer to the device that sent it (the topic names the device): the
//! same bytes on another device's topic do not verify.
//!
//! ```text
//! {"v":1,"answer":"{\"v\":1,\"id\":\"r-7\",\"outcome\":\"vended\",...}","sig":"<base64url>"}
//! ```
//!
//! The device's key is made on the device (`device.key`, never copied off
//! it); the centre learns the public half when the device is enrolled.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::messages::{PROTOCOL_VERSION, decode, encode};

/// What the signature covers before the topic and the answer.
pub const ANSWER_CONTEXT: &[u8] = b"keting/v1/answer\n";

/// An answer and the device's signature over it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAnswer {
    /// Protocol version.
    pub v: u8,
    /// The ack's or event's JSON, exactly as signed.
    pub answer: String,
    /// Ed25519 over [`ANSWER_CONTEXT`], the topic, `\n` and `answer`.
    pub sig: String,
}

/// Why an answer is not the device's.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum AnswerError {
    /// Not a signed answer (a bare message).
    #[error("the answer is not signed")]
    Unsigned,
    /// Signed, but not by this device's key over this topic.
    #[error("the answer's signature is not this device's")]
    Forged,
}

fn signed_bytes(topic: &str, answer: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(ANSWER_CONTEXT.len() + topic.len() + 1 + answer.len());
    bytes.extend_from_slice(ANSWER_CONTEXT);
    bytes.extend_from_slice(topic.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(answer);
    bytes
}

/// Seals `message` for `topic` with the device's key.
pub fn seal<T: Serialize>(key: &SigningKey, topic: &str, message: &T) -> Vec<u8> {
    let answer = String::from_utf8(encode(message)).unwrap_or_default();
    let sig = key.sign(&signed_bytes(topic, answer.as_bytes()));
    encode(&SignedAnswer {
        v: PROTOCOL_VERSION,
        answer,
        sig: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
    })
}

/// The answer's bytes if `key` signed them for `topic`.
pub fn open(payload: &[u8], topic: &str, key: &VerifyingKey) -> Result<Vec<u8>, AnswerError> {
    let envelope: SignedAnswer = decode(payload).map_err(|_| AnswerError::Unsigned)?;
    let sig = URL_SAFE_NO_PAD
        .decode(envelope.sig.as_bytes())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(AnswerError::Forged)?;
    key.verify(&signed_bytes(topic, envelope.answer.as_bytes()), &sig)
        .map_err(|_| AnswerError::Forged)?;
    Ok(envelope.answer.into_bytes())
}

/// The answer's bytes, signed or not, unchecked: for what moves nothing (an
/// entry counted, a status) from a device whose key the centre does not
/// know yet.
pub fn unchecked(payload: &[u8]) -> Vec<u8> {
    match decode::<SignedAnswer>(payload) {
        Ok(envelope) => envelope.answer.into_bytes(),
        Err(_) => payload.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{Ack, MessageId, Outcome, VendOutcome};
    use proptest::prelude::*;

    const TOPIC: &str = "keting/v1/demo/device/vending/ack";

    fn dispensed() -> Ack {
        Ack {
            v: PROTOCOL_VERSION,
            id: MessageId::new("r-7").unwrap(),
            outcome: Outcome::Vended {
                redemption: MessageId::new("r-7").unwrap(),
                result: VendOutcome::Dispensed,
            },
        }
    }

    #[test]
    fn only_the_devices_key_on_its_own_topic_opens_an_answer() {
        let machine = SigningKey::from_bytes(&[3; 32]);
        let payload = seal(&machine, TOPIC, &dispensed());
        let opened = open(&payload, TOPIC, &machine.verifying_key()).unwrap();
        assert_eq!(decode::<Ack>(&opened).unwrap(), dispensed());
        assert_eq!(unchecked(&payload), opened);
        // Someone else's key, another device's topic, a bare ack: no.
        let forger = SigningKey::from_bytes(&[4; 32]);
        let forged = seal(&forger, TOPIC, &dispensed());
        assert_eq!(
            open(&forged, TOPIC, &machine.verifying_key()),
            Err(AnswerError::Forged)
        );
        assert_eq!(
            open(
                &payload,
                "keting/v1/demo/device/pianos/ack",
                &machine.verifying_key()
            ),
            Err(AnswerError::Forged)
        );
        let bare = encode(&dispensed());
        assert_eq!(
            open(&bare, TOPIC, &machine.verifying_key()),
            Err(AnswerError::Unsigned)
        );
        assert_eq!(unchecked(&bare), bare);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A changed byte never opens as anything but the answer signed.
        #[test]
        fn tampering_never_opens_as_another_answer(index in 0usize..300, byte in any::<u8>()) {
            let machine = SigningKey::from_bytes(&[3; 32]);
            let payload = seal(&machine, TOPIC, &dispensed());
            let mut bad = payload.clone();
            let i = index % bad.len();
            prop_assume!(bad[i] != byte);
            bad[i] = byte;
            if let Ok(opened) = open(&bad, TOPIC, &machine.verifying_key()) {
                prop_assert_eq!(decode::<Ack>(&opened).unwrap(), dispensed());
            }
        }
    }
}
