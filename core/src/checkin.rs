//! Check-in at the centre's door: accept or deny a scan, and whether it counts
//! as a visit.
//!
//! The kiosk calls [`read_pass`] on the scanned text, looks the member up in
//! its database, then calls [`admit`] with what it found and the time. A
//! member who scans again within the repeat window (default 10 minutes) is
//! welcomed again but the visit is counted once: people scan twice when
//! unsure it worked, and the visit counts are the centre's headline figure.

use std::time::Duration;

use crate::ids::{Epoch, MemberId};
use crate::pass::{PassClaims, PassError, PassVerifier};
use crate::time::Timestamp;

/// The default repeat window: scans of one member closer than this count once.
pub const DEFAULT_REPEAT_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The site's check-in rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckInPolicy {
    /// Scans of one member within this window of their last counted visit
    /// are accepted but not counted again.
    pub repeat_window: Duration,
}

impl Default for CheckInPolicy {
    fn default() -> Self {
        Self {
            repeat_window: DEFAULT_REPEAT_WINDOW,
        }
    }
}

/// What the kiosk knows of the member a pass names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberStanding {
    /// The member's current epoch; passes of older epochs are revoked.
    pub epoch: Epoch,
    /// When the member's last counted visit was, if ever.
    pub last_counted_visit: Option<Timestamp>,
}

/// Why a scan was refused. The codes are stable: they are stored, printed
/// as JSON by the command line and mapped to words by the screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DenyReason {
    /// Not a Keting pass at all (garbage, a URL, another system's code).
    NotAPass,
    /// A pass of another Keting site.
    WrongSite,
    /// A pass of this site that was forged or altered.
    BadSignature,
    /// An old pass of a member whose pass was replaced or revoked.
    Revoked,
    /// A correctly signed pass of a member this site no longer knows.
    UnknownMember,
    /// A phone's live pass made too long ago (a screenshot, or a page left
    /// open): the phone shows a fresh one.
    Expired,
    /// The kiosk's clock cannot be right ([`crate::clock_judge::known_wrong`],
    /// the newest visit recorded its floor): no visit is recorded at a time
    /// that is not so; staff set the clock.
    ClockWrong,
}

impl DenyReason {
    /// Every reason, for tables and tests.
    pub const ALL: [DenyReason; 7] = [
        Self::NotAPass,
        Self::WrongSite,
        Self::BadSignature,
        Self::Revoked,
        Self::UnknownMember,
        Self::Expired,
        Self::ClockWrong,
    ];

    /// The stable code, as stored in the database and printed as JSON.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAPass => "not_a_pass",
            Self::WrongSite => "wrong_site",
            Self::BadSignature => "bad_signature",
            Self::Revoked => "revoked",
            Self::UnknownMember => "unknown_member",
            Self::Expired => "expired",
            Self::ClockWrong => "clock_wrong",
        }
    }

    /// The reason with the given stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl From<&PassError> for DenyReason {
    fn from(e: &PassError) -> Self {
        match e {
            PassError::Malformed(_) => Self::NotAPass,
            PassError::WrongSite(_) => Self::WrongSite,
            PassError::BadSignature => Self::BadSignature,
            PassError::Expired => Self::Expired,
        }
    }
}

/// The outcome of one scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckInDecision {
    /// Welcome. `counted` is false for a repeat scan within the window.
    Accepted {
        /// Who checked in.
        member: MemberId,
        /// Whether this scan counts as a new visit.
        counted: bool,
    },
    /// Refused, with the reason.
    Denied(DenyReason),
}

/// Reads a scanned string as a pass of this site, printed or live, at `now`.
pub fn read_pass(
    verifier: &PassVerifier,
    scanned: &str,
    now: Timestamp,
) -> Result<PassClaims, PassError> {
    verifier.verify(scanned, now)
}

/// Decides a scan of a valid pass, given what the kiosk knows of its member
/// (`None`: no such member) and the time.
pub fn admit(
    claims: &PassClaims,
    member: Option<&MemberStanding>,
    now: Timestamp,
    policy: &CheckInPolicy,
) -> CheckInDecision {
    let Some(member) = member else {
        return CheckInDecision::Denied(DenyReason::UnknownMember);
    };
    if claims.epoch != member.epoch {
        // An older epoch was revoked. A newer one than we know cannot have
        // been issued by this site's kiosk: treat it as revoked too, never as valid.
        return CheckInDecision::Denied(DenyReason::Revoked);
    }
    let counted = match member.last_counted_visit {
        None => true,
        // A clock that stepped back (now before the last visit) counts as a repeat.
        Some(last) => now
            .since(last)
            .is_some_and(|elapsed| elapsed >= policy.repeat_window),
    };
    CheckInDecision::Accepted {
        member: claims.member,
        counted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SiteId;

    const MIN: i64 = 60_000;

    fn claims(epoch: u32) -> PassClaims {
        PassClaims {
            site: SiteId::new("futian-01").unwrap(),
            member: MemberId(5),
            epoch: Epoch(epoch),
        }
    }

    #[test]
    fn decisions() {
        let t = |m: i64| Timestamp::from_unix_millis(1_800_000_000_000 + m * MIN);
        let standing = |epoch, last: Option<i64>| MemberStanding {
            epoch: Epoch(epoch),
            last_counted_visit: last.map(t),
        };
        let ok = |counted| CheckInDecision::Accepted {
            member: MemberId(5),
            counted,
        };
        let no = CheckInDecision::Denied;
        // (pass epoch, member standing, now in minutes, expected)
        let cases = [
            (0, Some(standing(0, None)), 0, ok(true)),
            (0, Some(standing(0, Some(0))), 9, ok(false)),
            (0, Some(standing(0, Some(0))), 10, ok(true)),
            (0, Some(standing(0, Some(30))), 0, ok(false)),
            (0, Some(standing(1, None)), 0, no(DenyReason::Revoked)),
            (2, Some(standing(1, None)), 0, no(DenyReason::Revoked)),
            (0, None, 0, no(DenyReason::UnknownMember)),
        ];
        for (i, (epoch, member, now, want)) in cases.into_iter().enumerate() {
            let got = admit(
                &claims(epoch),
                member.as_ref(),
                t(now),
                &CheckInPolicy::default(),
            );
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn reason_codes_round_trip() {
        for r in DenyReason::ALL {
            assert_eq!(DenyReason::from_code(r.code()), Some(r));
        }
    }
}
