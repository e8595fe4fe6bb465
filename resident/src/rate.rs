//! Fixed-window counters: at most `max` events per key in each `window`.
//! At most [`KEYS_MAX`] keys are kept; when full, a new key is refused
//! rather than an old one forgotten (a flood of addresses cannot reset a
//! counter by pushing it out).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys one limit keeps.
pub const KEYS_MAX: usize = 50_000;

/// One limit.
#[derive(Debug)]
pub struct RateLimit {
    max: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimit {
    /// At most `max` per key in each `window`.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key` at `now`; false if it is over the limit
    /// (and then it is not done).
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() >= KEYS_MAX && !counts.contains_key(key) {
            counts.retain(|_, (began, _)| now.duration_since(*began) < self.window);
            if counts.len() >= KEYS_MAX {
                return false;
            }
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.max {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_is_refused_until_the_window_turns() {
        let limit = RateLimit::new(3, Duration::from_secs(60));
        let t = Instant::now();
        assert!((0..3).all(|_| limit.allow("a", t)));
        assert!(!limit.allow("a", t));
        assert!(limit.allow("b", t), "another key has its own count");
        assert!(limit.allow("a", t + Duration::from_secs(60)));
    }
}
