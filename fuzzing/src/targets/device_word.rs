//! What the centre makes of a device's own word on the broker: a status or
//! an online flag, raw (a forgery, or a device with no key) and under a
//! good signature (so the status's decoding and its time are reached), and
//! the six-character fallback code a kiosk reads as it would a scan.

use keting_core::fallback_code::FallbackCodes;
use keting_core::ids::{Epoch, MemberId, SiteId};
use keting_core::messages::{DoorStatus, SessionDeviceStatus, decode};
use keting_core::signed_answer::{open, seal};
use keting_core::time::Timestamp;

const TOPIC: &str = "keting/v1/fuzz-centre/device/gym-door/status";

fn read(body: &[u8]) {
    let _ = decode::<DoorStatus>(body);
    let _ = decode::<SessionDeviceStatus>(body);
    let _ = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("at_ms").and_then(serde_json::Value::as_i64));
}

/// Reads `data` as a status or flag, signed and not, and as a typed code.
pub fn run(data: &[u8]) {
    let key = super::test_key();
    if let Ok(body) = open(data, TOPIC, &key.verifying_key()) {
        read(&body);
    }
    read(&keting_core::signed_answer::unchecked(data));
    // The bytes as a JSON value, sealed as the device would: decoded past
    // the signature.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let sealed = seal(&key, TOPIC, &value);
        let body = open(&sealed, TOPIC, &key.verifying_key()).expect("a good seal opens");
        read(&body);
        // Under another topic it is refused.
        assert!(
            open(
                &sealed,
                "keting/v1/fuzz-centre/device/other/status",
                &key.verifying_key()
            )
            .is_err()
        );
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(site) = SiteId::new("fuzz-centre") {
        let codes = FallbackCodes::new(site, &key.to_bytes());
        let members = [(MemberId(7), Epoch(1)), (MemberId(8), Epoch(0))];
        let _ = codes.find(
            &text,
            &members,
            Timestamp::from_unix_millis(1_796_472_000_000),
        );
    }
}
