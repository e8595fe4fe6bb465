//! Turns a keyboard-wedge scanner's keystrokes into whole scans.
//!
//! A USB QR scanner "types" the code and presses Enter. The kiosk captures
//! the keys with no visible text field and hands each one here; a scan is
//! complete at Enter (or Tab, which some scanners send instead). Keys more
//! than [`ScanInput::MAX_GAP`] apart start a new scan, so a stray key pressed
//! by hand is not glued to the front of the next real scan. Keys that are not
//! text (Shift, arrows: control and private-use characters) are ignored, and
//! a scan longer than [`ScanInput::MAX_LEN`] is cut there (it is refused as
//! too long anyway).

use std::time::{Duration, Instant};

/// Assembles scans from keystrokes.
#[derive(Debug, Default)]
pub struct ScanInput {
    buffer: String,
    last_key: Option<Instant>,
}

impl ScanInput {
    /// Keys further apart than this belong to different scans. Scanners type
    /// a character every few milliseconds.
    pub const MAX_GAP: Duration = Duration::from_millis(800);
    /// The most characters kept for one scan.
    pub const MAX_LEN: usize = 4096;

    /// A new, empty assembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the text of one key event at `at`; returns a scan when the key
    /// ends one.
    pub fn key(&mut self, text: &str, at: Instant) -> Option<String> {
        if self
            .last_key
            .is_some_and(|last| at.saturating_duration_since(last) > Self::MAX_GAP)
        {
            self.buffer.clear();
        }
        self.last_key = Some(at);
        let mut done = None;
        for c in text.chars() {
            match c {
                '\n' | '\r' | '\t' => done = Some(std::mem::take(&mut self.buffer)),
                c if c.is_control() || is_private_use(c) => {}
                c if self.buffer.len() + c.len_utf8() <= Self::MAX_LEN => self.buffer.push(c),
                _ => {}
            }
        }
        done
    }
}

fn is_private_use(c: char) -> bool {
    ('\u{E000}'..='\u{F8FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_all(input: &mut ScanInput, keys: &[&str], start: Instant, step_ms: u64) -> Vec<String> {
        keys.iter()
            .enumerate()
            .filter_map(|(i, k)| input.key(k, start + Duration::from_millis(step_ms * i as u64)))
            .collect()
    }

    #[test]
    fn a_scan_ends_at_enter_or_tab() {
        let mut input = ScanInput::new();
        let t = Instant::now();
        assert_eq!(
            type_all(
                &mut input,
                &["K", "T", "1", "\n", "a", "b", "\t", "\r"],
                t,
                5
            ),
            ["KT1", "ab", ""]
        );
    }

    #[test]
    fn keys_that_are_not_text_are_ignored() {
        let mut input = ScanInput::new();
        let t = Instant::now();
        // Shift (U+0010) and an arrow key (private use) between letters.
        assert_eq!(
            type_all(&mut input, &["\u{10}", "K", "\u{F700}", "T", "\n"], t, 5),
            ["KT"]
        );
    }

    #[test]
    fn a_pause_starts_a_new_scan() {
        let mut input = ScanInput::new();
        let t = Instant::now();
        assert_eq!(input.key("x", t), None);
        assert_eq!(input.key("K", t + Duration::from_secs(2)), None);
        assert_eq!(
            input.key("\n", t + Duration::from_millis(2005)).as_deref(),
            Some("K")
        );
    }

    #[test]
    fn a_long_scan_is_cut() {
        let mut input = ScanInput::new();
        let t = Instant::now();
        for _ in 0..5000 {
            input.key("é", t);
        }
        let scan = input.key("\n", t).unwrap();
        assert!(scan.len() <= ScanInput::MAX_LEN && scan.len() >= ScanInput::MAX_LEN - 1);
    }
}
