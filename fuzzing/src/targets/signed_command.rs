//! What a device makes of its `cmd` topic, and what the centre makes of a
//! device's answer: the raw bytes, and the bytes as a command's text under a
//! good signature (so the command parser, the address and the sequence
//! checks are reached).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer;
use keting_core::ids::DeviceId;
use keting_core::replay_window::ReplayWindow;
use keting_core::signed_command::{COMMAND_CONTEXT, open};

const NOW_MS: i64 = 1_795_300_000_000;

/// Opens `data` as a sealed command and as a signed answer, raw and signed.
pub fn run(data: &[u8]) {
    let Ok(me) = DeviceId::new("gym-door") else {
        return;
    };
    let key = super::test_key();
    let mut window = ReplayWindow::default();
    window.accept(NOW_MS as u64);
    let _ = open(data, &key.verifying_key(), &me, &window, NOW_MS);
    let text = String::from_utf8_lossy(data);
    let mut signed = COMMAND_CONTEXT.to_vec();
    signed.extend_from_slice(text.as_bytes());
    let payload = serde_json::json!({
        "v": 1,
        "command": text,
        "sig": URL_SAFE_NO_PAD.encode(key.sign(&signed).to_bytes()),
    });
    if let Ok(cmd) = open(
        payload.to_string().as_bytes(),
        &key.verifying_key(),
        &me,
        &window,
        NOW_MS,
    ) {
        // Whatever opens names this device and a number not seen.
        assert_eq!(cmd.to, me);
        assert!(window.check(cmd.seq, NOW_MS).is_ok());
    }
    let topic = "keting/v1/fuzz/device/vending/ack";
    let _ = keting_core::signed_answer::open(data, topic, &key.verifying_key());
}
