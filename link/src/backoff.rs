//! Reconnect backoff: exponential, capped, with full jitter.
//!
//! After a broker restart every agent of a centre reconnects at once unless
//! each waits a random part of its backoff; rumqttc itself has no backoff.
//! The n-th wait is uniform in `[0, min(max, base * 2^n)]` ("full jitter"),
//! never below [`Backoff::FLOOR`] so a dead broker is not hammered. A
//! successful connection (CONNACK) resets it.

use std::time::Duration;

/// Exponential backoff with full jitter.
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(60))
    }
}

impl Backoff {
    /// The shortest wait between attempts.
    pub const FLOOR: Duration = Duration::from_millis(100);

    /// A backoff starting at `base` and capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The next wait, given `unit`, a random number in `[0, 1)`.
    pub fn next_wait_with(&mut self, unit: f64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(self.attempt))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        ceiling.mul_f64(unit.clamp(0.0, 1.0)).max(Self::FLOOR)
    }

    /// The next wait, with the operating system's randomness.
    pub fn next_wait(&mut self) -> Duration {
        let mut b = [0u8; 8];
        // Without randomness, wait the whole ceiling: safe, merely slower.
        let unit = if getrandom::fill(&mut b).is_ok() {
            (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
        } else {
            1.0
        };
        self.next_wait_with(unit)
    }

    /// Connected: start again from the base.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(60));
        let ceilings: Vec<Duration> = (0..10).map(|_| b.next_wait_with(1.0)).collect();
        let secs: Vec<f64> = ceilings.iter().map(Duration::as_secs_f64).collect();
        assert_eq!(
            secs,
            [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
        );
        b.reset();
        assert_eq!(b.next_wait_with(0.5), Duration::from_millis(250));
        assert_eq!(b.next_wait_with(0.0), Backoff::FLOOR);
        for _ in 0..100 {
            assert!(b.next_wait() <= Duration::from_secs(60));
        }
    }

    #[test]
    fn many_agents_spread_out() {
        // 100 agents after a broker restart, third attempt: waits spread over [0.1 s, 2 s].
        let waits: Vec<Duration> = (0..100)
            .map(|_| {
                let mut b = Backoff::default();
                b.next_wait();
                b.next_wait();
                b.next_wait()
            })
            .collect();
        // About one in twenty draws falls under the floor and waits the
        // floor, so ten or more alike happen by chance (one run in thirty);
        // twenty would not.
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(
            distinct.len() > 80,
            "jitter spreads reconnects: {} distinct",
            distinct.len()
        );
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(2)));
    }
}
