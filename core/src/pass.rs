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
//! A **live pass** is the same with the time it was made, for a resident's
//! phone: the phone shows a new one every 30 s, and the kiosk and the doors
//! accept it only within [`LIVE_PASS_LIFETIME`] of that time (by their own
//! clock, which may be [`LIVE_PASS_EARLY`] behind the centre's), so a
//! screenshot is worthless a minute later:
//!
//! ```text
//! KT2.<payload>.<signature>
//! payload   = the printed pass's payload | T:u32 big-endian (Unix seconds)
//! signature = Ed25519(site key, "keting-live-pass-v1" 0x00 | payload)
//! ```
//!
//! Any string at all yields claims or a [`PassError`], never a panic; input
//! longer than [`PASS_MAX_LEN`] is refused before it is decoded.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

use std::time::Duration;

use crate::ids::{Epoch, MemberId, SITE_ID_MAX_LEN, SiteId};
use crate::time::Timestamp;

/// The text every pass starts with; the digit is the format version.
pub const PASS_PREFIX: &str = "KT1.";

/// The text every live pass starts with.
pub const LIVE_PASS_PREFIX: &str = "KT2.";

/// The longest pass either format can produce (a 32-character site id).
pub const PASS_MAX_LEN: usize = 160;

/// How long after it was made a live pass is still taken.
pub const LIVE_PASS_LIFETIME: Duration = Duration::from_secs(90);

/// How far ahead of the verifier's clock a live pass may claim to be made:
/// a door's clock may be this far behind the centre's before the centre's
/// is used ([`crate::clock_judge::TOLERANCE`]).
pub const LIVE_PASS_EARLY: Duration = Duration::from_secs(60);

/// A phone shows a new live pass this often.
pub const LIVE_PASS_EVERY: Duration = Duration::from_secs(30);

/// Domain separation: a pass signature can never be mistaken for a signature
/// over anything else the site key signs (rosters, later).
const SIGNING_CONTEXT: &[u8] = b"keting-pass-v1\0";
/// The live pass's own context: a live pass's signature never verifies as
/// a printed one's, so cutting its time off gives a forgery, not a pass
/// that never expires.
const LIVE_SIGNING_CONTEXT: &[u8] = b"keting-live-pass-v1\0";

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
    /// A genuine live pass, made too long ago (a screenshot) or claiming a
    /// time too far ahead of this clock.
    #[error("a live pass made at another time")]
    Expired,
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
        self.sign(PASS_PREFIX, SIGNING_CONTEXT, &payload)
    }

    /// The fallback codes of this site (a key derived from the site key).
    pub fn fallback_codes(&self) -> crate::fallback_code::FallbackCodes {
        crate::fallback_code::FallbackCodes::new(self.site.clone(), &self.key.to_bytes())
    }

    /// The live pass of `member` at `epoch`, made at `now` (to the second).
    pub fn issue_live(&self, member: MemberId, epoch: Epoch, now: Timestamp) -> String {
        let mut payload = encode_payload(&self.site, member, epoch);
        payload.extend_from_slice(&unix_seconds(now).to_be_bytes());
        self.sign(LIVE_PASS_PREFIX, LIVE_SIGNING_CONTEXT, &payload)
    }

    fn sign(&self, prefix: &str, context: &[u8], payload: &[u8]) -> String {
        let signature = self.key.sign(&signed_message(context, payload));
        let mut out = String::with_capacity(PASS_MAX_LEN);
        out.push_str(prefix);
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut out);
        out
    }
}

/// `t` in whole Unix seconds, as a live pass carries it (0 before 1970,
/// the largest `u32` after 2106).
fn unix_seconds(t: Timestamp) -> u32 {
    u32::try_from(t.as_unix_millis().div_euclid(1000).max(0)).unwrap_or(u32::MAX)
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

    /// Reads and verifies a scanned string, printed or live, at `now` (the
    /// verifier's own time: a live pass is taken only within
    /// [`LIVE_PASS_LIFETIME`] after it was made and [`LIVE_PASS_EARLY`]
    /// before). Leading and trailing whitespace (a scanner's CR or LF) is
    /// ignored.
    ///
    /// The site is checked before the signature, so a pass of another site is
    /// reported as such rather than as a forgery; the time after the
    /// signature, so a forgery is never reported as merely expired.
    pub fn verify(&self, scanned: &str, now: Timestamp) -> Result<PassClaims, PassError> {
        let parsed = parse(scanned)?;
        if parsed.claims.site != self.site {
            return Err(PassError::WrongSite(parsed.claims.site.to_string()));
        }
        let context = if parsed.made.is_some() {
            LIVE_SIGNING_CONTEXT
        } else {
            SIGNING_CONTEXT
        };
        self.key
            .verify_strict(&signed_message(context, &parsed.payload), &parsed.signature)
            .map_err(|_| PassError::BadSignature)?;
        if let Some(made) = parsed.made {
            let now = i64::from(unix_seconds(now));
            let made = i64::from(made);
            let lifetime = LIVE_PASS_LIFETIME.as_secs() as i64;
            let early = LIVE_PASS_EARLY.as_secs() as i64;
            if now > made + lifetime || now < made - early {
                return Err(PassError::Expired);
            }
        }
        Ok(parsed.claims)
    }
}

fn signed_message(context: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(context.len() + payload.len());
    m.extend_from_slice(context);
    m.extend_from_slice(payload);
    m
}

/// A pass read but not yet verified.
struct Parsed {
    claims: PassClaims,
    /// A live pass's time (Unix seconds); `None` for a printed pass.
    made: Option<u32>,
    payload: Vec<u8>,
    signature: Signature,
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

fn parse(scanned: &str) -> Result<Parsed, PassError> {
    use Malformation as M;
    let bad = |m: Malformation| PassError::Malformed(m);
    let s = scanned.trim();
    if s.is_empty() {
        return Err(bad(M::Empty));
    }
    if s.len() > PASS_MAX_LEN {
        return Err(bad(M::TooLong));
    }
    let (rest, live) = match (
        s.strip_prefix(PASS_PREFIX),
        s.strip_prefix(LIVE_PASS_PREFIX),
    ) {
        (Some(rest), _) => (rest, false),
        (None, Some(rest)) => (rest, true),
        (None, None) => return Err(bad(M::NoPrefix)),
    };
    let numbers_len = if live { 12 } else { 8 };
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
    if site_len == 0 || site_len > SITE_ID_MAX_LEN || after_len.len() != site_len + numbers_len {
        return Err(bad(M::Payload));
    }
    let (site, numbers) = after_len.split_at(site_len);
    let site = std::str::from_utf8(site).map_err(|_| bad(M::Payload))?;
    let site = SiteId::new(site).map_err(|_| bad(M::Payload))?;
    let word = |i: usize| -> Result<u32, PassError> {
        let bytes = numbers.get(i * 4..i * 4 + 4).ok_or(bad(M::Payload))?;
        Ok(u32::from_be_bytes(
            bytes.try_into().map_err(|_| bad(M::Payload))?,
        ))
    };
    let claims = PassClaims {
        site,
        member: MemberId(word(0)?),
        epoch: Epoch(word(1)?),
    };
    let made = if live { Some(word(2)?) } else { None };
    Ok(Parsed {
        claims,
        made,
        payload,
        signature: Signature::from_bytes(&sig),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 2026-12-05T12:00:00Z.
    const T: Timestamp = Timestamp::from_unix_millis(1_796_472_000_000);

    fn at(seconds_after_t: i64) -> Timestamp {
        Timestamp::from_unix_millis(T.as_unix_millis() + seconds_after_t * 1000)
    }

    #[test]
    fn a_live_pass_is_taken_for_a_minute_and_a_half_then_refused() {
        let i = issuer("futian-01", 7);
        let live = i.issue_live(MemberId(42), Epoch(3), T);
        assert!(live.starts_with("KT2."), "{live}");
        let v = i.verifier();
        let claims = v.verify(&live, at(30)).unwrap();
        assert_eq!((claims.member, claims.epoch), (MemberId(42), Epoch(3)));
        assert!(
            v.verify(&live, at(90)).is_ok(),
            "still taken at the end of its lifetime"
        );
        assert!(
            v.verify(&live, at(-60)).is_ok(),
            "a verifier's clock a minute behind"
        );
        assert_eq!(
            v.verify(&live, at(120)),
            Err(PassError::Expired),
            "the screenshot two minutes on"
        );
        assert_eq!(v.verify(&live, at(-61)), Err(PassError::Expired));
        // The printed pass has no time and is taken whenever.
        assert!(
            v.verify(&i.issue(MemberId(42), Epoch(3)), at(1_000_000))
                .is_ok()
        );
    }

    #[test]
    fn a_live_pass_cannot_be_forged_or_made_into_a_printed_one() {
        let i = issuer("futian-01", 7);
        let v = i.verifier();
        let forged = issuer("futian-01", 8).issue_live(MemberId(42), Epoch(0), T);
        assert_eq!(v.verify(&forged, T), Err(PassError::BadSignature));
        // Its time cut off and its prefix made a printed pass's: the
        // signature was over another context, so it is a forgery.
        let live = i.issue_live(MemberId(42), Epoch(0), T);
        let (payload, sig) = live["KT2.".len()..].split_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        bytes.truncate(bytes.len() - 4);
        let cut = format!("KT1.{}.{sig}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(v.verify(&cut, T), Err(PassError::BadSignature));
        // A printed pass relabelled live has the wrong length.
        let printed = i.issue(MemberId(42), Epoch(0));
        let relabelled = printed.replacen("KT1.", "KT2.", 1);
        assert!(matches!(
            v.verify(&relabelled, T),
            Err(PassError::Malformed(_))
        ));
        // Its time moved on: no longer signed.
        let mut later = URL_SAFE_NO_PAD.decode(payload).unwrap();
        let n = later.len();
        later[n - 1] ^= 1;
        let moved = format!("KT2.{}.{sig}", URL_SAFE_NO_PAD.encode(later));
        assert_eq!(v.verify(&moved, T), Err(PassError::BadSignature));
    }

    #[test]
    fn the_longest_live_pass_fits_the_limit() {
        let i = issuer(&"s".repeat(SITE_ID_MAX_LEN), 1);
        let live = i.issue_live(MemberId(u32::MAX), Epoch(u32::MAX), T);
        assert!(
            live.len() <= PASS_MAX_LEN,
            "{} > {PASS_MAX_LEN}",
            live.len()
        );
        assert!(i.verifier().verify(&live, T).is_ok());
    }

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
        let claims = i.verifier().verify(&format!("{pass}\r\n"), T).unwrap();
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
        assert!(i.verifier().verify(&pass, T).is_ok());
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
            assert_eq!(v.verify(&input, T), Err(want), "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_give_a_result_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let v = issuer("futian-01", 7).verifier();
            let s = String::from_utf8_lossy(&bytes);
            prop_assert!(v.verify(&s, T).is_err());
        }

        #[test]
        fn any_pass_shaped_text_gives_a_result(payload in "[A-Za-z0-9_-]{0,80}", sig in "[A-Za-z0-9_-]{0,100}") {
            let v = issuer("futian-01", 7).verifier();
            let _ = v.verify(&format!("KT1.{payload}.{sig}"), T);
        }

        #[test]
        fn every_issued_pass_verifies(member: u32, epoch: u32, site in "[a-z0-9]{1,32}") {
            let i = issuer(&site, 3);
            let pass = i.issue(MemberId(member), Epoch(epoch));
            prop_assert!(pass.len() <= PASS_MAX_LEN);
            let c = i.verifier().verify(&pass, T).unwrap();
            prop_assert_eq!((c.member, c.epoch), (MemberId(member), Epoch(epoch)));
        }
    }
}
