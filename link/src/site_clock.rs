//! A device's clock against the centre's: the asks it sends, the signed
//! answers it takes ([`keting_core::site_time`]), the time it decides by
//! ([`keting_core::clock_judge`]) and the `clock` event that raises and
//! clears the centre's clock alarm.
//!
//! An agent asks when its link connects and then every [`ASK_EVERY`]
//! ([`RETRY`] while no answer is taken); an answer counts only for the ask
//! outstanding and only within the judge's round-trip bound. The event goes
//! out when the clock goes wrong, when the centre's time becomes known for
//! a wrong one, and when it is right again; a clock right from the start
//! sends nothing.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use keting_core::clock_judge::{ClockJudge, ClockVerdict, ClockWrong};
use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{EventKind, PROTOCOL_VERSION, encode};
use keting_core::site_time::{self, TimeAsk, TimeError};
use keting_core::time::Timestamp;
use tokio::time::Instant;

use crate::clock::{kernel_synchronised, now};

/// How often a device asks once it has an answer.
pub const ASK_EVERY: Duration = Duration::from_secs(600);
/// How soon it asks again when no answer was taken.
pub const RETRY: Duration = Duration::from_secs(30);

/// One device's clock, judged.
#[derive(Debug)]
pub struct SiteClock {
    judge: ClockJudge,
    origin: Instant,
    next_ask: Instant,
    /// What the last `clock` event said (wrong or not; the centre's time
    /// known or not), if one went.
    reported: Option<(bool, bool)>,
}

impl Default for SiteClock {
    fn default() -> Self {
        let origin = Instant::now();
        Self {
            judge: ClockJudge::default(),
            origin,
            next_ask: origin,
            reported: None,
        }
    }
}

impl SiteClock {
    fn mono(&self) -> Duration {
        self.origin.elapsed()
    }

    /// The time to decide by (the centre's when this clock is off).
    pub fn decision_time(&self) -> Result<Timestamp, ClockWrong> {
        self.judge.decision_time(now(), self.mono())
    }

    /// The time to decide by, or this clock's own when it is known wrong
    /// (for deadlines and timers, which must run on something).
    pub fn best_time(&self) -> Timestamp {
        self.decision_time().unwrap_or_else(|_| now())
    }

    /// What the clock is now.
    pub fn verdict(&self) -> ClockVerdict {
        self.judge.verdict(now(), self.mono())
    }

    /// A signed time seen elsewhere (the roster's issue time).
    pub fn note_signed_time(&mut self, ms: i64) {
        self.judge.note_signed_time(ms);
    }

    /// The link (re)connected: ask at once.
    pub fn reconnected(&mut self) {
        self.next_ask = Instant::now();
    }

    /// When the next ask is due.
    pub fn ask_due(&self) -> Instant {
        self.next_ask
    }

    /// A new ask's payload, if one is due (its nonce is now the outstanding one).
    pub fn ask_if_due(&mut self) -> Option<Vec<u8>> {
        if Instant::now() < self.next_ask {
            return None;
        }
        let mut nonce = [0u8; 16];
        if getrandom::fill(&mut nonce).is_err() {
            // No randomness: no ask (an answer could be replayed).
            self.next_ask = Instant::now() + RETRY;
            return None;
        }
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        self.judge.asked(nonce.clone(), self.mono());
        self.next_ask = Instant::now() + RETRY;
        Some(encode(&TimeAsk {
            v: PROTOCOL_VERSION,
            nonce,
        }))
    }

    /// The centre's answer on this device's `time` topic.
    pub fn answer(&mut self, payload: &[u8], site: &SiteId, device: &DeviceId, key: &VerifyingKey) {
        let Some(nonce) = self.judge.outstanding().map(str::to_owned) else {
            tracing::debug!("a time answer with no ask outstanding");
            return;
        };
        let centre_ms = match site_time::verify(payload, site, device, key, &nonce) {
            Ok(ms) => ms,
            // The answer to an ask replaced since (asks on connecting and on
            // the centre's online flag come together).
            Err(TimeError::NotAsked) => {
                tracing::debug!("a time answer to an earlier ask");
                return;
            }
            Err(e) => {
                tracing::warn!("the centre's time was not taken: {e}");
                return;
            }
        };
        match self.judge.answered(centre_ms, self.mono()) {
            Ok(()) => {
                self.next_ask = Instant::now() + ASK_EVERY;
            }
            Err(e) => tracing::warn!("the centre's time was not taken: {e}"),
        }
    }

    /// The `clock` event due, if any.
    pub fn report_due(&mut self) -> Option<EventKind> {
        let verdict = self.verdict();
        let wrong = verdict.is_alarm();
        // Reported again when the alarm changes, and when the centre's time
        // becomes known (the first answer, or the first after "unknown").
        let known = self.judge.centre_now(self.mono()).is_some();
        let state = (wrong, known);
        // A clock right from the start says nothing (no event per boot).
        let changed = match self.reported {
            None => wrong,
            Some(was) => was != state,
        };
        if !changed {
            return None;
        }
        self.reported = Some(state);
        let offset_ms = match verdict {
            ClockVerdict::Corrected { offset_ms } => Some(offset_ms),
            _ => self
                .judge
                .centre_now(self.mono())
                .map(|c| c - now().as_unix_millis()),
        };
        let synced = kernel_synchronised();
        match verdict {
            ClockVerdict::Right => {
                tracing::info!(offset_ms, ?synced, "clock agrees with the centre's")
            }
            ClockVerdict::Corrected { offset_ms } => tracing::warn!(
                offset_ms,
                ?synced,
                "this clock is more than a minute from the centre's: deciding by the centre's"
            ),
            ClockVerdict::Wrong => tracing::error!(
                ?synced,
                "this clock is wrong (before 2026, or behind the roster) and the centre's time is not known: nothing is decided by the time until it is (set the time or serve NTP)"
            ),
        }
        Some(EventKind::Clock {
            wrong,
            offset_ms,
            synced,
        })
    }
}
