//! The signed door roster: the raw bytes, and the bytes as a roster's text
//! under a good signature (so the roster parser after the check is reached).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer;
use keting_core::ids::SiteId;
use keting_core::roster::verify;

/// Verifies `data` as a published roster, and as a signed roster's text.
pub fn run(data: &[u8]) {
    let Ok(site) = SiteId::new("fuzz-centre") else {
        return;
    };
    let key = super::test_key();
    let _ = verify(data, &site, &key.verifying_key(), None);
    let text = String::from_utf8_lossy(data);
    let mut signed = keting_core::roster::SIGNING_CONTEXT.to_vec();
    signed.extend_from_slice(text.as_bytes());
    let payload = serde_json::json!({
        "v": 1,
        "roster": text,
        "sig": URL_SAFE_NO_PAD.encode(key.sign(&signed).to_bytes()),
    });
    let _ = verify(
        payload.to_string().as_bytes(),
        &site,
        &key.verifying_key(),
        Some(0),
    );
}
