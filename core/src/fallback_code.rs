//! The six-character fallback code under a phone's live pass, for a phone
//! whose screen a scanner cannot read: staff type it at the kiosk's
//! keyboard (or `kiosk checkin CODE`). It changes with the live pass every
//! [`WINDOW`] and is taken for about as long as a live pass
//! ([`crate::pass::LIVE_PASS_LIFETIME`]).
//!
//! ```text
//! code = 6 characters of ALPHABET from HMAC-SHA256(key, site | member | epoch | window)
//! key  = SHA-256("keting-fallback-code-v1" | the site's signing key)
//! ```
//!
//! Only holders of the site key can make or check one, so the doors (which
//! hold only the public key) do not take it. A code names no member: the
//! checker tries the members it knows, which is why a kiosk limits wrong
//! codes ([`WrongCodes`]).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::ids::{Epoch, MemberId, SiteId};
use crate::time::Timestamp;

/// The characters of a code: no 0/O, 1/I/L to misread.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// A code's length.
pub const LEN: usize = 6;
/// A new code this often, with the live pass.
pub const WINDOW: Duration = Duration::from_secs(30);
/// Windows a code is taken in: its own, up to 3 after and 2 before (a
/// kiosk's clock behind the centre's).
pub const WINDOWS_AFTER: i64 = 3;
/// See [`WINDOWS_AFTER`].
pub const WINDOWS_BEFORE: i64 = 2;

/// Makes and checks codes for one site. Holds a key derived from the site
/// key, never the site key itself.
#[derive(Clone)]
pub struct FallbackCodes {
    site: SiteId,
    key: [u8; 32],
}

impl std::fmt::Debug for FallbackCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackCodes")
            .field("site", &self.site)
            .finish_non_exhaustive()
    }
}

fn window_of(t: Timestamp) -> i64 {
    t.as_unix_millis().div_euclid(WINDOW.as_millis() as i64)
}

impl FallbackCodes {
    /// Codes of `site`, from the site's signing key's 32 secret bytes.
    pub fn new(site: SiteId, signing_key: &[u8; 32]) -> Self {
        let mut h = Sha256::new();
        h.update(b"keting-fallback-code-v1\0");
        h.update(signing_key);
        Self {
            site,
            key: h.finalize().into(),
        }
    }

    fn code_in(&self, member: MemberId, epoch: Epoch, window: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(self.site.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(&member.0.to_be_bytes());
        mac.update(&epoch.0.to_be_bytes());
        mac.update(&window.to_be_bytes());
        let bytes = mac.finalize().into_bytes();
        let mut n = u64::from_be_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
        let mut out = String::with_capacity(LEN);
        for _ in 0..LEN {
            out.push(char::from(ALPHABET[(n % ALPHABET.len() as u64) as usize]));
            n /= ALPHABET.len() as u64;
        }
        out
    }

    /// `member`'s code at `now`.
    pub fn code(&self, member: MemberId, epoch: Epoch, now: Timestamp) -> String {
        self.code_in(member, epoch, window_of(now))
    }

    /// Whether `typed` looks like a code at all (what a scan of a pass never is).
    pub fn looks_like_a_code(typed: &str) -> bool {
        let t = typed.trim();
        t.len() == LEN
            && t.bytes()
                .all(|b| ALPHABET.contains(&b.to_ascii_uppercase()))
    }

    /// The member among `members` (number and epoch in force) whose code
    /// `typed` is at `now` (upper or lower case, surrounding blanks
    /// ignored).
    pub fn find(
        &self,
        typed: &str,
        members: &[(MemberId, Epoch)],
        now: Timestamp,
    ) -> Option<(MemberId, Epoch)> {
        if !Self::looks_like_a_code(typed) {
            return None;
        }
        let typed = typed.trim().to_ascii_uppercase();
        let w = window_of(now);
        (w - WINDOWS_AFTER..=w + WINDOWS_BEFORE).find_map(|window| {
            members
                .iter()
                .find(|(m, e)| self.code_in(*m, *e, window) == typed)
                .copied()
        })
    }
}

/// Wrong codes typed at one kiosk: after [`WrongCodes::MAX`] within
/// [`WrongCodes::SPAN`], codes are refused for the rest of that span (a
/// code names nobody, so guessing is the only attack; 5 guesses in 10
/// minutes against about 2,000 live codes among 887 million).
#[derive(Clone, Debug, Default)]
pub struct WrongCodes {
    recent: Vec<Timestamp>,
}

impl WrongCodes {
    /// Wrong codes allowed in a span.
    pub const MAX: usize = 5;
    /// The span.
    pub const SPAN: Duration = Duration::from_secs(600);

    fn keep_recent(&mut self, now: Timestamp) {
        self.recent
            .retain(|t| now.since(*t).is_some_and(|d| d < Self::SPAN));
    }

    /// Whether codes are taken at `now`.
    pub fn open(&mut self, now: Timestamp) -> bool {
        self.keep_recent(now);
        self.recent.len() < Self::MAX
    }

    /// A wrong code at `now`.
    pub fn wrong(&mut self, now: Timestamp) {
        self.keep_recent(now);
        self.recent.push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp::from_unix_millis(1_796_472_000_000);

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_millis(T.as_unix_millis() + s * 1000)
    }

    fn codes() -> FallbackCodes {
        FallbackCodes::new(SiteId::new("futian-01").unwrap(), &[7; 32])
    }

    #[test]
    fn a_code_finds_its_member_for_about_a_minute_and_a_half() {
        let c = codes();
        let members: Vec<(MemberId, Epoch)> = (1..=2000).map(|i| (MemberId(i), Epoch(0))).collect();
        let code = c.code(MemberId(1234), Epoch(0), T);
        assert_eq!(code.len(), LEN);
        assert!(FallbackCodes::looks_like_a_code(&code.to_lowercase()));
        assert_eq!(
            c.find(&format!(" {} ", code.to_lowercase()), &members, at(60)),
            Some((MemberId(1234), Epoch(0)))
        );
        assert_eq!(
            c.find(&code, &members, at(-30)),
            Some((MemberId(1234), Epoch(0)))
        );
        assert_eq!(
            c.find(&code, &members, at(150)),
            None,
            "two and a half minutes on"
        );
        // Another card (epoch), another site's key: not the code.
        let newer: Vec<(MemberId, Epoch)> = vec![(MemberId(1234), Epoch(1))];
        assert_eq!(c.find(&code, &newer, T), None);
        let other = FallbackCodes::new(SiteId::new("futian-01").unwrap(), &[8; 32]);
        assert_eq!(other.find(&code, &members, T), None);
        assert!(!FallbackCodes::looks_like_a_code("KT1.abc"));
        assert!(
            !FallbackCodes::looks_like_a_code("OOOOOO"),
            "no O in the alphabet"
        );
    }

    #[test]
    fn wrong_codes_close_the_door_to_codes_for_ten_minutes() {
        let mut w = WrongCodes::default();
        for i in 0..WrongCodes::MAX {
            assert!(w.open(at(i as i64)));
            w.wrong(at(i as i64));
        }
        assert!(!w.open(at(10)));
        assert!(w.open(at(10 + 600)));
    }
}
