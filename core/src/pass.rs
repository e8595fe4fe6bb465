//! Residents' passes: short signed tokens printed as QR codes.
//!
//! A pass says "member M of site S, epoch E" and is signed with the site's
//! Ed25519 key:
//!
//! ```text
//! KT1.<payload>.<signature>          base64url, no padding
//! payload   = len(S):u8 | S (ASCII) | M:u32 big-endian | E:u32 big-endian
//! signature = Ed25519(site key, "keting-pass-v1" 0x00 | payload)
//! ```
//!
//! With a typical 10-character site id a pass is 117 characters and fits a
//! version 8 QR code that cheap scanners read; the longest possible pass is
//! [`PASS_MAX_LEN`] characters. Roles and entitlements are deliberately *not*
//! in the pass: a pass never needs reissuing when a membership changes, and a
//! lost card is revoked by bumping the member's epoch.
//!
//! Any string at all yields claims or a [`PassError`], never a panic; input
//! longer than [`PASS_MAX_LEN`] is refused before it is decoded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

use crate::ids::{Epoch, MemberId, SITE_ID_MAX_LEN, SiteId};

/// The text every pass starts with; the digit is the format version.
pub const PASS_PREFIX: &str = "KT1.";

/// The longest pass this format can produce (a 32-character site id).
pub const PASS_MAX_LEN: usize = 160;

/// Domain separation: a pass signature can never be mistaken for a signature
/// over anything else the site key signs (rosters, later).
const SIGNING_CONTEXT: &[u8] = b"keting-pass-v1\0";

/// What a verified pass says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassClaims {
    /// The site that issued the pass.
    pub site: SiteId,
    /// The member it was issued to.
    pub member: MemberId,
    /// The member's epoch when it was issued.
    pub epoch: Epoch,
}

/// Why a scanned string is not a valid pass of this site.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PassError {
    /// The string is not a Keting pass at all (or a damaged one).
    #[error("not a Keting pass: {0}")]
    Malformed(Malformation),
    /// A well-formed pass of another site.
    #[error("a pass of another site ({0:?})")]
    WrongSite(String),
    /// A pass of this site whose signature does not verify: forged or altered.
    #[error("the pass signature does not verify")]
    BadSignature,
}

/// The ways a string fails to be a pass, for logs and tests.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum Malformation {
    /// Nothing was scanned.
    #[error("empty")]
    Empty,
    /// Longer than any pass can be.
    #[error("longer than {PASS_MAX_LEN} characters")]
    TooLong,
    /// Does not start with `KT1.`.
    #[error("no KT1 prefix")]
    NoPrefix,
    /// Not two base64url parts after the prefix.
    #[error("not two dot-separated parts")]
    Parts,
    /// A part is not base64url.
    #[error("not base64url")]
    Encoding,
    /// The payload does not have the layout of a pass.
    #[error("payload layout")]
    Payload,
    /// The signature is not 64 bytes.
    #[error("signature length")]
    SignatureLength,
}

/// The site's public key as written in agent configurations: base64url
/// of its 32 bytes.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.to_bytes())
}

/// Reads a public key written by [`encode_public_key`].
pub fn decode_public_key(text: &str) -> Result<VerifyingKey, &'static str> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| "not base64url")?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "not 32 bytes: not an Ed25519 public key")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key")
}

/// Issues passes for one site. Holds the site's private key.
pub struct PassIssuer {
    site: SiteId,
    key: SigningKey,
}

impl PassIssuer {
    /// An issuer for `site` signing with `key`.
    pub fn new(site: SiteId, key: SigningKey) -> Self {
        Self { site, key }
    }

    /// The verifier that accepts this issuer's passes.
    pub fn verifier(&self) -> PassVerifier {
        PassVerifier::new(self.site.clone(), self.key.verifying_key())
    }

    /// The pass of `member` at `epoch`.
    pub fn issue(&self, member: MemberId, epoch: Epoch) -> String {
        let payload = encode_payload(&self.site, member, epoch);
        let signature = self.key.sign(&signed_message(&payload));
        let mut out = String::with_capacity(PASS_MAX_LEN);
        out.push_str(PASS_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut out);
        out
    }
}

/// Verifies passes of one site. Holds only the public key.
#[derive(Clone, Debug)]
pub struct PassVerifier {
    site: SiteId,
    key: VerifyingKey,
}

impl PassVerifier {
    /// A verifier for `site`'s passes, signed by the private half of `key`.
    pub fn new(site: SiteId, key: VerifyingKey) -> Self {
        Self { site, key }
    }

    /// The site this verifier accepts.
    pub fn site(&self) -> &SiteId {
        &self.site
    }

    /// Reads and verifies a scanned string. Leading and trailing whitespace
    /// (a scanner's CR or LF) is ignored.
    ///
    /// The site is checked before the signature, so a pass of another site is
    /// reported as such rather than as a forgery.
    pub fn verify(&self, scanned: &str) -> Result<PassClaims, PassError> {
        let (claims, payload, signature) = parse(scanned)?;
        if claims.site != self.site {
            return Err(PassError::WrongSite(claims.site.to_string()));
        }
        self.key
            .verify_strict(&signed_message(&payload), &signature)
            .map_err(|_| PassError::BadSignature)?;
        Ok(claims)
    }
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + payload.len());
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(payload);
    m
}

fn encode_payload(site: &SiteId, member: MemberId, epoch: Epoch) -> Vec<u8> {
    let site = site.as_str().as_bytes();
    let mut p = Vec::with_capacity(1 + site.len() + 8);
    // SiteId guarantees 1..=32 ASCII bytes, so the length fits a byte.
    p.push(site.len() as u8);
    p.extend_from_slice(site);
    p.extend_from_slice(&member.0.to_be_bytes());
    p.extend_from_slice(&epoch.0.to_be_bytes());
    p
}

fn parse(scanned: &str) -> Result<(PassClaims, Vec<u8>, Signature), PassError> {
    use Malformation as M;
    let bad = |m: Malformation| PassError::Malformed(m);
    let s = scanned.trim();
    if s.is_empty() {
        return Err(bad(M::Empty));
    }
    if s.len() > PASS_MAX_LEN {
        return Err(bad(M::TooLong));
    }
    let rest = s.strip_prefix(PASS_PREFIX).ok_or(bad(M::NoPrefix))?;
    let (payload_b64, sig_b64) = rest.split_once('.').ok_or(bad(M::Parts))?;
    if sig_b64.contains('.') {
        return Err(bad(M::Parts));
    }
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| bad(M::Encoding))?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|_| bad(M::Encoding))?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| bad(M::SignatureLength))?;

    let (&site_len, after_len) = payload.split_first().ok_or(bad(M::Payload))?;
    let site_len = usize::from(site_len);
    if site_len == 0 || site_len > SITE_ID_MAX_LEN || after_len.len() != site_len + 8 {
        return Err(bad(M::Payload));
    }
    let (site, numbers) = after_len.split_at(site_len);
    let site = std::str::from_utf8(site).map_err(|_| bad(M::Payload))?;
    let site = SiteId::new(site).map_err(|_| bad(M::Payload))?;
    let (member, epoch) = numbers.split_at(4);
    let member = MemberId(u32::from_be_bytes(
        member.try_into().map_err(|_| bad(M::Payload))?,
    ));
    let epoch = Epoch(u32::from_be_bytes(
        epoch.try_into().map_err(|_| bad(M::Payload))?,
    ));
    Ok((
        PassClaims {
            site,
            member,
            epoch,
        },
        payload,
        Signature::from_bytes(&sig),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn issuer(site: &str, seed: u8) -> PassIssuer {
        PassIssuer::new(
            SiteId::new(site).unwrap(),
            SigningKey::from_bytes(&[seed; 32]),
        )
    }

    #[test]
    fn round_trip() {
        let i = issuer("futian-01", 7);
        let pass = i.issue(MemberId(42), Epoch(3));
        assert!(pass.starts_with("KT1."));
        let claims = i.verifier().verify(&format!("{pass}\r\n")).unwrap();
        assert_eq!(
            claims,
            PassClaims {
                site: SiteId::new("futian-01").unwrap(),
                member: MemberId(42),
                epoch: Epoch(3)
            }
        );
    }

    #[test]
    fn longest_pass_fits_the_limit() {
        let i = issuer(&"s".repeat(SITE_ID_MAX_LEN), 1);
        let pass = i.issue(MemberId(u32::MAX), Epoch(u32::MAX));
        assert!(
            pass.len() <= PASS_MAX_LEN,
            "{} > {PASS_MAX_LEN}",
            pass.len()
        );
        assert!(i.verifier().verify(&pass).is_ok());
        // A typical site id gives a pass a version 8 QR code holds (152 bytes at level M).
        assert!(issuer("k7f3xq2m4a", 1).issue(MemberId(1), Epoch(0)).len() <= 125);
    }

    #[test]
    fn each_failure_has_its_own_reason() {
        let ours = issuer("futian-01", 7);
        let good = ours.issue(MemberId(42), Epoch(0));
        let theirs = issuer("baoan-02", 9).issue(MemberId(42), Epoch(0));
        let forged = issuer("futian-01", 8).issue(MemberId(42), Epoch(0));
        // Change one payload character inside the epoch: still well-formed, no longer signed.
        let mut altered = good.clone().into_bytes();
        let i = PASS_PREFIX.len() + 22;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        let v = ours.verifier();
        use Malformation as M;
        let cases: Vec<(String, PassError)> = vec![
            (theirs, PassError::WrongSite("baoan-02".into())),
            (forged, PassError::BadSignature),
            ("".into(), PassError::Malformed(M::Empty)),
            ("   \n".into(), PassError::Malformed(M::Empty)),
            (
                "https://example.com/?KT1.abc.def".into(),
                PassError::Malformed(M::NoPrefix),
            ),
            ("KT1.abc".into(), PassError::Malformed(M::Parts)),
            ("KT1.a.b.c".into(), PassError::Malformed(M::Parts)),
            ("KT1.!!!.AAAA".into(), PassError::Malformed(M::Encoding)),
            (
                "KT1.AAAA.AAAA".into(),
                PassError::Malformed(M::SignatureLength),
            ),
            (
                format!("KT1.AAAA.{}", "A".repeat(86)),
                PassError::Malformed(M::Payload),
            ),
            ("K".repeat(4096), PassError::Malformed(M::TooLong)),
            (altered, PassError::BadSignature),
        ];
        for (input, want) in cases {
            assert_eq!(v.verify(&input), Err(want), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_give_a_result_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let v = issuer("futian-01", 7).verifier();
            let s = String::from_utf8_lossy(&bytes);
            prop_assert!(v.verify(&s).is_err());
        }

        #[test]
        fn any_pass_shaped_text_gives_a_result(payload in "[A-Za-z0-9_-]{0,80}", sig in "[A-Za-z0-9_-]{0,100}") {
            let v = issuer("futian-01", 7).verifier();
            let _ = v.verify(&format!("KT1.{payload}.{sig}"));
        }

        #[test]
        fn every_issued_pass_verifies(member: u32, epoch: u32, site in "[a-z0-9]{1,32}") {
            let i = issuer(&site, 3);
            let pass = i.issue(MemberId(member), Epoch(epoch));
            prop_assert!(pass.len() <= PASS_MAX_LEN);
            let c = i.verifier().verify(&pass).unwrap();
            prop_assert_eq!((c.member, c.epoch), (MemberId(member), Epoch(epoch)));
        }
    }
}
