//! The door's QR scanner, behind one trait.
//!
//! Implementations: [`evdev_wedge`] (a USB HID scanner that types like a
//! keyboard, read from the kernel's input device and grabbed so its keys go
//! nowhere else), [`serial`] (a scanner on a UART or USB-serial port that
//! sends one line a code) and [`crate::scanner::sim`]. Each yields whole
//! codes; [`ScanLine`] assembles them from characters.
//!
//! [`sim`] (feature `sim`): scans fed through a channel.

pub mod evdev_wedge;
pub mod serial;
#[cfg(feature = "sim")]
pub mod sim;

use std::future::Future;

use thiserror::Error;

/// Longest code kept; longer input is cut (a Keting pass is under 200).
pub const MAX_SCAN: usize = 1024;

/// What went wrong with a scanner.
#[derive(Debug, Error)]
pub enum ScannerError {
    /// The device could not be opened or grabbed.
    #[error("scanner {device}: {message}")]
    Open {
        /// The device path or name.
        device: String,
        /// What the system said.
        message: String,
    },
    /// Reading failed (unplugged).
    #[error("scanner read failed: {0}")]
    Read(String),
    /// The scanner is gone for good (its feed was dropped).
    #[error("the scanner is gone")]
    Gone,
}

/// Something that yields scanned codes.
pub trait Scanner: Send {
    /// Waits for the next whole code (without its line ending).
    fn next_scan(&mut self) -> impl Future<Output = Result<String, ScannerError>> + Send;
}

/// Assembles characters into codes: a code ends at CR or LF; empty codes
/// are skipped; a code longer than [`MAX_SCAN`] is cut there.
#[derive(Debug, Default)]
pub struct ScanLine {
    buf: String,
    len: usize,
}

impl ScanLine {
    /// Takes one character; returns a finished code.
    pub fn push(&mut self, c: char) -> Option<String> {
        if c == '\r' || c == '\n' {
            self.len = 0;
            let code = std::mem::take(&mut self.buf);
            return (!code.is_empty()).then_some(code);
        }
        if !c.is_control() && self.len < MAX_SCAN {
            self.buf.push(c);
            self.len += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_end_at_cr_or_lf_and_blank_lines_are_skipped() {
        let mut line = ScanLine::default();
        let codes: Vec<String> = "KT1.a\r\n\r\nb\n"
            .chars()
            .filter_map(|c| line.push(c))
            .collect();
        assert_eq!(codes, ["KT1.a", "b"]);
    }

    #[test]
    fn an_overlong_code_is_cut() {
        let mut line = ScanLine::default();
        let long: String = "x".repeat(MAX_SCAN + 50) + "\n";
        let code = long.chars().find_map(|c| line.push(c)).unwrap();
        assert_eq!(code.len(), MAX_SCAN);
    }
}
