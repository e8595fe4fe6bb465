//! Signed-in browsers: a random token in an `HttpOnly`, `SameSite=Strict`
//! cookie, the staff member and role behind it, a CSRF token every form
//! carries, and an idle limit ([`IDLE`]) and an absolute one ([`LONGEST`]).
//! Sessions live in memory: a restart of the centre signs everybody out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keting_core::ids::MemberId;
use keting_core::staff::StaffRole;

/// A session unused this long is gone (sign in again).
pub const IDLE: Duration = Duration::from_secs(15 * 60);
/// No session lasts longer than this.
pub const LONGEST: Duration = Duration::from_secs(12 * 3600);
/// The cookie's name.
pub const COOKIE: &str = "keting_session";

/// Who a session is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSession {
    /// The staff member.
    pub member: MemberId,
    /// Their name.
    pub name: String,
    /// Their role when they signed in.
    pub role: StaffRole,
    /// The token every form of this session must carry.
    pub csrf: String,
}

#[derive(Debug)]
struct Entry {
    who: StaffSession,
    began: Instant,
    used: Instant,
}

/// Every session.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: HashMap<String, Entry>,
}

fn token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

impl Sessions {
    /// A new session for `who` (its CSRF token made here); its cookie token.
    pub fn begin(&mut self, member: MemberId, name: String, role: StaffRole) -> Option<String> {
        let (cookie, csrf) = (token()?, token()?);
        let now = Instant::now();
        self.by_token.retain(|_, e| alive(e, now));
        self.by_token.insert(
            cookie.clone(),
            Entry {
                who: StaffSession {
                    member,
                    name,
                    role,
                    csrf,
                },
                began: now,
                used: now,
            },
        );
        Some(cookie)
    }

    /// The session of `cookie`, if alive (and marks it used).
    pub fn get(&mut self, cookie: &str) -> Option<StaffSession> {
        let now = Instant::now();
        let entry = self.by_token.get_mut(cookie)?;
        if !alive(entry, now) {
            self.by_token.remove(cookie);
            return None;
        }
        entry.used = now;
        Some(entry.who.clone())
    }

    /// Ends the session of `cookie`.
    pub fn end(&mut self, cookie: &str) {
        self.by_token.remove(cookie);
    }

    /// How many sessions are alive.
    pub fn len(&self) -> usize {
        let now = Instant::now();
        self.by_token.values().filter(|e| alive(e, now)).count()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn alive(e: &Entry, now: Instant) -> bool {
    now.duration_since(e.used) < IDLE && now.duration_since(e.began) < LONGEST
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_token_only_and_ends() {
        let mut s = Sessions::default();
        let t = s
            .begin(MemberId(4), "刘主任".into(), StaffRole::Staff)
            .unwrap();
        let who = s.get(&t).unwrap();
        assert_eq!(who.member, MemberId(4));
        assert_eq!(who.csrf.len(), 43);
        assert_ne!(who.csrf, t, "the CSRF token is not the cookie");
        assert!(s.get("forged").is_none());
        s.end(&t);
        assert!(s.get(&t).is_none());
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
        assert_eq!(
            cookie_value("a=1; keting_session=xyz; b=2", COOKIE),
            Some("xyz")
        );
        assert_eq!(cookie_value("a=1", COOKIE), None);
    }
}
