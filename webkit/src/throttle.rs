//! Wrong sign-in tries per address: after [`TRIES`] within [`SPAN_MS`]
//! (fewer than the 5 that lock a card or a name) the address waits until
//! the span is over before its next try is even read, so one computer on
//! the network cannot lock someone else's card or name. A success forgets
//! the address's tries. At most [`ADDRESSES_MAX`] addresses are kept.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

/// Wrong tries one address may make in [`SPAN_MS`].
pub const TRIES: u32 = 3;
/// The span of [`TRIES`], and how long the address then waits.
pub const SPAN_MS: i64 = 15 * 60 * 1000;
/// The most addresses kept.
pub const ADDRESSES_MAX: usize = 10_000;

/// The wrong tries of every address, for one sign-in page.
#[derive(Debug, Default)]
pub struct SourceThrottle {
    tries: Mutex<HashMap<IpAddr, (u32, i64)>>,
}

impl SourceThrottle {
    /// Until when (ms) sign-in is closed to `ip` at `now_ms`, if it is.
    pub fn closed(&self, ip: IpAddr, now_ms: i64) -> Option<i64> {
        let tries = self.tries.lock().unwrap_or_else(PoisonError::into_inner);
        tries
            .get(&ip)
            .filter(|(n, first)| *n >= TRIES && now_ms - *first < SPAN_MS)
            .map(|(_, first)| first + SPAN_MS)
    }

    /// A wrong try from `ip` at `now_ms`.
    pub fn failed(&self, ip: IpAddr, now_ms: i64) {
        let mut tries = self.tries.lock().unwrap_or_else(PoisonError::into_inner);
        tries.retain(|_, (_, first)| now_ms - *first < SPAN_MS);
        if tries.len() >= ADDRESSES_MAX && !tries.contains_key(&ip) {
            return;
        }
        tries.entry(ip).or_insert((0, now_ms)).0 += 1;
    }

    /// A sign-in from `ip` succeeded.
    pub fn ok(&self, ip: IpAddr) {
        self.tries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_after_three_wrong_tries_and_others_do_not() {
        let t = SourceThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap());
        for i in 0..TRIES {
            assert_eq!(t.closed(a, i64::from(i)), None);
            t.failed(a, i64::from(i));
        }
        assert_eq!(t.closed(a, 10), Some(SPAN_MS));
        assert_eq!(t.closed(b, 10), None, "another address");
        assert_eq!(t.closed(a, SPAN_MS), None, "the span over");
        t.failed(b, 0);
        t.ok(b);
        assert_eq!(t.closed(b, 1), None);
    }
}
