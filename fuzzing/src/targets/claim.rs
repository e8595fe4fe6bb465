//! Enrolment by QR: the label a camera reads, the claim request and answer
//! that cross the broker, and the certificate request the centre checks
//! before its CA signs it.

use keting_core::claim::{ClaimKey, ClaimLabel, ClaimRequest, ClaimResponse};
use keting_core::messages::decode;

/// Reads `data` as a label, a request (its proof and its certificate
/// request checked), a certificate request on its own, and an answer (its
/// MAC checked).
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = ClaimLabel::parse(&text);
    let key = ClaimKey::from_code("0123456789ABCDEF");
    if let Ok(request) = decode::<ClaimRequest>(data) {
        let _ = key.check_proof(&request);
        let _ = key.pin(&request.nonce);
        let _ = keting_provisioning::site_ca::check_request(&request.csr, "gym-door");
    }
    let _ = keting_provisioning::site_ca::check_request(&text, "gym-door");
    if let Ok(response) = decode::<ClaimResponse>(data) {
        let _ = response.outcome.check(&key, &response.nonce);
    }
}
