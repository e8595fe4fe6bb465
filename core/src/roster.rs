//! The door roster: who may open a door, signed with the site key so the door
//! decides alone when the kiosk or the network is down.
//!
//! The kiosk publishes it retained on the door's `roster` topic:
//!
//! ```text
//! {"v":1,"roster":"<Roster as JSON>","sig":"<base64url Ed25519>"}
//! ```
//!
//! The roster travels as the exact string that was signed, so no JSON
//! canonicalisation is needed. The signature covers `keting-roster-v1\0` and
//! that string: it can never be taken for a pass signature. A door keeps the
//! `issued_ms` of the roster it holds and refuses an older one, so a replayed
//! old roster cannot let a revoked member back in.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::parse_date;
use crate::door::access::RosterEntry;
use crate::ids::{Epoch, MemberId, SiteId};
use crate::messages::{MAX_ROSTER_PAYLOAD, MessageError, PROTOCOL_VERSION, decode_up_to, encode};

/// What a roster's signature covers before the roster's text.
pub const SIGNING_CONTEXT: &[u8] = b"keting-roster-v1\0";

/// Who may open the doors of a site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// The site.
    pub site: SiteId,
    /// When the kiosk issued it (ms since the Unix epoch); newer wins.
    pub issued_ms: i64,
    /// The members.
    pub members: Vec<RosterMember>,
}

/// One member on the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterMember {
    /// The member.
    pub member: MemberId,
    /// The member's current pass epoch.
    pub epoch: Epoch,
    /// The last day of the paid gym month, `YYYY-MM-DD`, if any.
    pub paid_until: Option<String>,
}

/// The signed form, as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRoster {
    /// Protocol version.
    pub v: u8,
    /// The roster, as the JSON string that was signed.
    pub roster: String,
    /// The signature, base64url.
    pub sig: String,
}

/// Why a published roster is not accepted.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RosterError {
    /// Not a roster message.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The signature does not verify: not from this site's key.
    #[error("the roster's signature does not verify")]
    BadSignature,
    /// A correctly signed roster of another site.
    #[error("a roster of another site")]
    WrongSite,
    /// Older than the roster the door holds (a replay).
    #[error("a roster older than the one in force")]
    Older,
    /// A member's paid-until date is not a date.
    #[error("member {0}: paid_until is not YYYY-MM-DD")]
    BadDate(MemberId),
}

/// Signs a roster with the site key; returns the payload to publish.
pub fn sign(roster: &Roster, key: &SigningKey) -> Vec<u8> {
    let text = String::from_utf8(encode(roster)).unwrap_or_default();
    let sig = key.sign(&signed_message(&text));
    encode(&SignedRoster {
        v: PROTOCOL_VERSION,
        roster: text,
        sig: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
    })
}

fn signed_message(text: &str) -> Vec<u8> {
    [SIGNING_CONTEXT, text.as_bytes()].concat()
}

/// A verified roster, indexed for the door.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterInForce {
    /// When it was issued.
    pub issued_ms: i64,
    entries: HashMap<MemberId, RosterEntry>,
}

impl RosterInForce {
    /// What the roster says of `member`.
    pub fn entry(&self, member: MemberId) -> Option<&RosterEntry> {
        self.entries.get(&member)
    }

    /// How many members it lists.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it lists nobody.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Verifies a published roster for `site`, refusing one not newer than
/// `current_issued_ms` (the roster in force, if any).
pub fn verify(
    payload: &[u8],
    site: &SiteId,
    key: &VerifyingKey,
    current_issued_ms: Option<i64>,
) -> Result<RosterInForce, RosterError> {
    let signed: SignedRoster = decode_up_to(payload, MAX_ROSTER_PAYLOAD)?;
    let sig = URL_SAFE_NO_PAD
        .decode(&signed.sig)
        .map_err(|_| RosterError::BadSignature)?;
    let sig: [u8; 64] = sig.try_into().map_err(|_| RosterError::BadSignature)?;
    key.verify_strict(
        &signed_message(&signed.roster),
        &Signature::from_bytes(&sig),
    )
    .map_err(|_| RosterError::BadSignature)?;
    let roster: Roster =
        serde_json::from_str(&signed.roster).map_err(|e| MessageError::Invalid(e.to_string()))?;
    if &roster.site != site {
        return Err(RosterError::WrongSite);
    }
    if current_issued_ms.is_some_and(|current| roster.issued_ms <= current) {
        return Err(RosterError::Older);
    }
    let mut entries = HashMap::with_capacity(roster.members.len());
    for m in roster.members {
        let paid_until = match &m.paid_until {
            None => None,
            Some(d) => Some(parse_date(d).map_err(|_| RosterError::BadDate(m.member))?),
        };
        entries.insert(
            m.member,
            RosterEntry {
                epoch: m.epoch,
                paid_until,
            },
        );
    }
    Ok(RosterInForce {
        issued_ms: roster.issued_ms,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::decode;
    use time::macros::date;

    fn site() -> SiteId {
        SiteId::new("futian-01").unwrap()
    }

    fn roster(issued_ms: i64) -> Roster {
        Roster {
            site: site(),
            issued_ms,
            members: vec![
                RosterMember {
                    member: MemberId(1),
                    epoch: Epoch(0),
                    paid_until: Some("2026-11-30".into()),
                },
                RosterMember {
                    member: MemberId(2),
                    epoch: Epoch(3),
                    paid_until: None,
                },
            ],
        }
    }

    #[test]
    fn a_big_centres_roster_of_10000_members_fits() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let mut big = roster(10);
        big.members = (1..=10_000)
            .map(|i| RosterMember {
                member: MemberId(i),
                epoch: Epoch(1),
                paid_until: (i % 3 == 0).then(|| "2026-11-30".into()),
            })
            .collect();
        let payload = sign(&big, &key);
        assert!(payload.len() > crate::messages::MAX_PAYLOAD);
        let r = verify(&payload, &site(), &key.verifying_key(), None).unwrap();
        assert_eq!(r.len(), 10_000);
    }

    #[test]
    fn a_signed_roster_verifies_and_indexes() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let r = verify(
            &sign(&roster(10), &key),
            &site(),
            &key.verifying_key(),
            None,
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            r.entry(MemberId(1)),
            Some(&RosterEntry {
                epoch: Epoch(0),
                paid_until: Some(date!(2026 - 11 - 30))
            })
        );
        assert_eq!(r.entry(MemberId(2)).map(|e| e.epoch), Some(Epoch(3)));
        assert_eq!(r.entry(MemberId(3)), None);
    }

    #[test]
    fn forged_altered_foreign_and_replayed_rosters_are_refused() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let vk = key.verifying_key();
        let other = SigningKey::from_bytes(&[5; 32]);
        assert_eq!(
            verify(&sign(&roster(10), &other), &site(), &vk, None),
            Err(RosterError::BadSignature)
        );

        // Extend member 2's month without the key.
        let mut signed: SignedRoster = decode(&sign(&roster(10), &key)).unwrap();
        signed.roster =
            signed
                .roster
                .replacen("\"paid_until\":null", "\"paid_until\":\"2099-01-01\"", 1);
        assert_eq!(
            verify(&encode(&signed), &site(), &vk, None),
            Err(RosterError::BadSignature)
        );

        let mut foreign = roster(10);
        foreign.site = SiteId::new("baoan-02").unwrap();
        assert_eq!(
            verify(&sign(&foreign, &key), &site(), &vk, None),
            Err(RosterError::WrongSite)
        );

        assert_eq!(
            verify(&sign(&roster(10), &key), &site(), &vk, Some(10)),
            Err(RosterError::Older)
        );
        assert!(verify(&sign(&roster(11), &key), &site(), &vk, Some(10)).is_ok());

        let mut bad_date = roster(12);
        bad_date.members[0].paid_until = Some("30/11/2026".into());
        assert_eq!(
            verify(&sign(&bad_date, &key), &site(), &vk, None),
            Err(RosterError::BadDate(MemberId(1)))
        );

        assert!(matches!(
            verify(b"not json", &site(), &vk, None),
            Err(RosterError::Message(_))
        ));
        assert!(matches!(
            verify(br#"{"v":1,"roster":"{}","sig":"!!"}"#, &site(), &vk, None),
            Err(RosterError::BadSignature)
        ));
    }
}
