//! The QR pass parser and verifier: what a scanner types is anyone's text.

use keting_core::ids::SiteId;
use keting_core::pass::PassVerifier;

/// Verifies `data` as a scanned pass.
pub fn run(data: &[u8]) {
    let Ok(site) = SiteId::new("fuzz-centre") else {
        return;
    };
    let verifier = PassVerifier::new(site, super::test_key().verifying_key());
    let _ = verifier.verify(
        &String::from_utf8_lossy(data),
        keting_core::time::Timestamp::from_unix_millis(1_796_472_000_000),
    );
}
