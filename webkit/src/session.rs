//! Signed-in browsers, generic over who signs in (a staff member, a
//! district user, a resident): a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie, the user behind it, a CSRF token every form
//! carries, and an idle limit ([`IDLE`]) and an absolute one ([`LONGEST`]).
//! Sessions live in memory: a restart signs everybody out. A surface whose
//! users can lose their rights ends their sessions with
//! [`Sessions::end_where`].

use std::collections::HashMap;
use std::ops::Deref;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A session unused this long is gone (sign in again).
pub const IDLE: Duration = Duration::from_secs(15 * 60);
/// No session lasts longer than this.
pub const LONGEST: Duration = Duration::from_secs(12 * 3600);

/// One signed-in browser: its user (reached through `Deref`) and the token
/// every form of it must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session<U> {
    /// Who it is.
    pub user: U,
    /// The token every form of this session must carry.
    pub csrf: String,
}

impl<U> Deref for Session<U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.user
    }
}

impl<U> Session<U> {
    /// Whether a form's token is this session's.
    pub fn csrf_ok(&self, token: &str) -> bool {
        same_token(&self.csrf, token)
    }
}

#[derive(Debug)]
struct Entry<U> {
    session: Session<U>,
    began: Instant,
    used: Instant,
}

/// Every session of one surface.
#[derive(Debug)]
pub struct Sessions<U> {
    by_token: HashMap<String, Entry<U>>,
}

impl<U> Default for Sessions<U> {
    fn default() -> Self {
        Self {
            by_token: HashMap::new(),
        }
    }
}

/// 32 random bytes, URL-safe base64 (43 characters); `None` if the system
/// has no randomness to give.
pub fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

impl<U: Clone> Sessions<U> {
    /// A new session for `user` (its CSRF token made here); its cookie token.
    pub fn begin(&mut self, user: U) -> Option<String> {
        let (cookie, csrf) = (random_token()?, random_token()?);
        let now = Instant::now();
        self.by_token.retain(|_, e| alive(e, now));
        self.by_token.insert(
            cookie.clone(),
            Entry {
                session: Session { user, csrf },
                began: now,
                used: now,
            },
        );
        Some(cookie)
    }

    /// The session of `cookie`, if alive (and marks it used).
    pub fn get(&mut self, cookie: &str) -> Option<Session<U>> {
        let now = Instant::now();
        let entry = self.by_token.get_mut(cookie)?;
        if !alive(entry, now) {
            self.by_token.remove(cookie);
            return None;
        }
        entry.used = now;
        Some(entry.session.clone())
    }

    /// Ends the session of `cookie`.
    pub fn end(&mut self, cookie: &str) {
        self.by_token.remove(cookie);
    }

    /// Ends every session whose user `gone` says has lost it (removed,
    /// demoted, erased); how many ended.
    pub fn end_where(&mut self, gone: impl Fn(&U) -> bool) -> usize {
        let before = self.by_token.len();
        self.by_token.retain(|_, e| !gone(&e.session.user));
        before - self.by_token.len()
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

fn alive<U>(e: &Entry<U>, now: Instant) -> bool {
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

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct User {
        id: u32,
    }

    #[test]
    fn a_session_is_found_by_its_token_only_and_ends() {
        let mut s = Sessions::default();
        let t = s.begin(User { id: 4 }).unwrap();
        let who = s.get(&t).unwrap();
        assert_eq!(who.id, 4);
        assert_eq!(who.csrf.len(), 43);
        assert_ne!(who.csrf, t, "the CSRF token is not the cookie");
        assert!(who.csrf_ok(&who.csrf.clone()) && !who.csrf_ok("forged"));
        assert!(s.get("forged").is_none());
        s.end(&t);
        assert!(s.get(&t).is_none());
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
        assert_eq!(
            cookie_value("a=1; keting_session=xyz; b=2", "keting_session"),
            Some("xyz")
        );
        assert_eq!(cookie_value("a=1", "keting_session"), None);
    }

    #[test]
    fn a_user_who_lost_their_rights_loses_every_open_session() {
        let mut s = Sessions::default();
        let (a1, a2, b) = (
            s.begin(User { id: 1 }).unwrap(),
            s.begin(User { id: 1 }).unwrap(),
            s.begin(User { id: 2 }).unwrap(),
        );
        assert_eq!(s.end_where(|u| u.id == 1), 2);
        assert!(s.get(&a1).is_none() && s.get(&a2).is_none());
        assert!(s.get(&b).is_some());
    }
}
